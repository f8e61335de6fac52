// Package scenario reads and plays QA scenario fixtures: YAML files that tell Pay Score stories
// step by step (the merchant's API calls, signed like a real client; the user's visit to the
// Pay Score mini-program; deductions; the clock; the notifications the merchant receives,
// verified and decrypted), and seed files that prepare a simulator's world through the same
// state machine. fixtures/README.md documents both formats.
//
// Every problem of a file is an *Error with file, line and column; an unknown step or field is
// an error, never ignored. Play plays one scenario against a simulator's HTTP API; package
// scenario/run decides which simulator (a fresh in-process one, or a running one), runs many
// in parallel and reports them. This package knows the domain's types and the HTTP API, not how
// a simulator is wired (package app), so that the DSL does not depend on the wiring.
//
// # The parts
//
//   - file.go, parse.go: the file's types (File, Scenario, Step, Merchant) and their parser.
//   - kinds.go: the step table, one row per kind of step, and the action interface.
//   - steps_*.go: the step types, grouped by whom they play (the merchant's order and
//     permission APIs, the user's visits, the control API, the notification endpoint).
//   - session.go: one scenario being played: its names (${...}), its current order, its steps
//     run one by one and checked.
//   - expect.go, value.go: expectations (matchers) and values (${...} references, equality).
//   - receiver.go: the merchant's notify_url, which verifies and decrypts as a merchant must.
//   - yamlnode.go: YAML nodes with places, errors with suggestions, shape checks of Go types.
//   - escape.go: what a file or a simulator says, made safe to print to a terminal.
//   - seed.go, seed_apply.go: seed files, applied through the domain's Service.
//
// # Adding a step
//
// A step is one type and one row of the table (kinds in kinds.go):
//
//  1. Write a type whose fields are the step's arguments, with two methods: set, which reads
//     them from the args of a run (${...} already expanded, the file's defaults laid under
//     them; an error here fails the step at its line), and run, which plays the step through
//     the session (s.api for a signed merchant call, s.control for the control API, s.inbox
//     for notifications) and returns the response that expect: and capture: look at, or nil.
//     A step whose argument is an API body embeds apiStep and keeps the fields as a map.
//  2. Add a row to kinds: the name, a usage line for messages, the argument's shape (a mapping
//     of which fields, or a single value; a body type to check the fields against; checks of
//     enumerated values), and whether it has a response, acts as a merchant (as:), or only
//     reads (eventually:).
//  3. Document it in fixtures/README.md, and use it in a scenario of fixtures/scenarios.
//
// The parser refuses what the row does not allow, with the file's line and column, so a new
// step needs no parsing code of its own.
package scenario
