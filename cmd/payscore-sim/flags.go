package main

import "strings"

// listFlag is a flag of several values, the flag repeated or comma-separated (--seed,
// --cors-origin). The environment's value is the default; the flag on the command line replaces
// it.
type listFlag struct {
	values  []string
	fromEnv bool
}

func newListFlag(env string) *listFlag {
	f := &listFlag{fromEnv: true}
	f.add(env)
	return f
}

func (f *listFlag) add(v string) {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			f.values = append(f.values, p)
		}
	}
}

func (f *listFlag) String() string { return strings.Join(f.values, ",") }

func (f *listFlag) Set(v string) error {
	if f.fromEnv {
		f.values, f.fromEnv = nil, false
	}
	f.add(v)
	return nil
}
