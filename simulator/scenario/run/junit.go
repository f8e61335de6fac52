package run

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

// JUnit XML, as CI systems read it: a testsuite per fixture file, a testcase per scenario.

// JUnitSuites is the root element.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one fixture file.
type JUnitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one scenario.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure"`
	Skipped   *JUnitSkipped `xml:"skipped"`
}

// JUnitFailure says where and why a scenario failed.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnitSkipped says why a scenario did not run.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// JUnit returns the report as JUnit XML's structure.
func (r *Report) JUnit() JUnitSuites {
	out := JUnitSuites{Name: "payscore-sim scenarios", Time: seconds(r.Duration)}
	index := map[*scenario.File]int{}
	var durations []time.Duration
	for _, res := range r.Results {
		f := res.Scenario.File
		i, ok := index[f]
		if !ok {
			i = len(out.Suites)
			index[f] = i
			out.Suites = append(out.Suites, JUnitSuite{Name: f.Path})
			durations = append(durations, 0)
		}
		s := &out.Suites[i]
		c := JUnitCase{Name: res.Scenario.Name, Classname: f.Path, File: f.Path, Line: res.Scenario.Pos.Line, Time: seconds(res.Duration)}
		switch res.Outcome {
		case Fail:
			c.Failure = &JUnitFailure{Message: "failed", Type: "ScenarioFailure"}
			if f := res.Failure; f != nil {
				c.Failure.Message, c.Failure.Text = f.Summary(), f.Text()
			}
			s.Failures++
			out.Failures++
		case Skip:
			c.Skipped = &JUnitSkipped{Message: res.SkipReason}
			s.Skipped++
			out.Skipped++
		}
		s.Tests++
		out.Tests++
		durations[i] += res.Duration
		s.Cases = append(s.Cases, c)
	}
	for i := range out.Suites {
		out.Suites[i].Time = seconds(durations[i])
	}
	return out
}

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r.JUnit()); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
