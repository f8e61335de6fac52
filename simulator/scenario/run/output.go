package run

import (
	"fmt"
	"io"
	"strings"

	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

// printResult prints a scenario's outcome: a line, then the failure or why it was skipped,
// indented. Everything that comes from a file or a simulator is escaped (scenario.Escape), so
// that a scenario's name or a response cannot drive the terminal.
func printResult(w io.Writer, res *Result) {
	sc := res.Scenario
	fmt.Fprintf(w, "%s  %6.2fs  %s: %s\n", res.Outcome, res.Duration.Seconds(), scenario.Escape(sc.File.Path), scenario.Escape(sc.Name))
	switch {
	case res.Failure != nil:
		for _, line := range strings.Split(res.Failure.Text(), "\n") {
			fmt.Fprintf(w, "        %s\n", scenario.Escape(line))
		}
	case res.Outcome == Skip:
		fmt.Fprintf(w, "        skipped: %s\n", scenario.Escape(res.SkipReason))
	}
}
