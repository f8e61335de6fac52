// Package scenario reads and runs QA scenario fixtures: YAML files that tell Pay Score stories
// step by step (the merchant's API calls, signed like a real client; the user's visit to the
// Pay Score mini-program; deductions; the clock; the notifications the merchant receives,
// verified and decrypted), and seed files that prepare a simulator's world through the same
// state machine. fixtures/README.md documents both formats.
//
// Every problem of a file is an *Error with file, line and column; an unknown step or field is
// an error, never ignored. A Runner runs scenarios against fresh in-process simulators or a
// running one, and its Report prints as text or JUnit XML.
package scenario
