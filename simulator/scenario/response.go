package scenario

import (
	"fmt"
	"net/http"
	"strings"
)

// response is what a step got back: an HTTP response, or for steps that make none (a
// notification received), a document to check.
type response struct {
	status int
	header http.Header
	raw    []byte
	doc    any
}

func newResponse(status int, header http.Header, body []byte) *response {
	if header == nil {
		header = http.Header{}
	}
	return &response{status: status, header: header, raw: body, doc: decodeJSON(body)}
}

func (r *response) ok() bool { return r.status == 0 || r.status >= 200 && r.status < 300 }

// summary is the response in a line: its status, and its error code and message, or its body.
func (r *response) summary() string {
	var s string
	if m, ok := r.doc.(map[string]any); ok && r.status >= 400 {
		s = errorSummary(m)
	} else if r.raw != nil {
		s = string(r.raw)
	} else {
		s = show(r.doc)
	}
	s = shorten(s, 400)
	if r.status == 0 {
		return s
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", r.status, s))
}

// errorSummary is a WeChat-shaped error in a line: code, message, and the detail's issue, which
// says what to fix.
func errorSummary(m map[string]any) string {
	code, _ := m["code"].(string)
	msg, _ := m["message"].(string)
	s := strings.TrimSpace(fmt.Sprintf("%s %s", code, msg))
	if d, ok := m["detail"].(map[string]any); ok {
		if issue, ok := d["issue"].(string); ok {
			s += " (" + issue + ")"
		}
	}
	return s
}

// Failure says where and why a scenario failed.
type Failure struct {
	// Step is the step that failed; nil when the scenario failed before its first step.
	Step *Step
	// Pos is where in the file: the expectation that failed, else the step.
	Pos Pos
	// What failed: a response field, "status", "notification PAYSCORE.USER_PAID", ...
	What     string
	Expected string
	Actual   string
	// Message explains a failure that is not a comparison (an unreachable simulator, a
	// response whose signature did not verify, ...).
	Message string
	// Response is the failing step's response, shortened, for context.
	Response string
}

// Summary is the failure in one line.
func (f *Failure) Summary() string {
	var b strings.Builder
	b.WriteString(f.Pos.String())
	if f.Step != nil {
		fmt.Fprintf(&b, ": %s", f.Step)
	}
	if f.Message != "" {
		fmt.Fprintf(&b, ": %s", f.Message)
	}
	if f.What != "" {
		fmt.Fprintf(&b, ": %s: expected %s, actual %s", f.What, f.Expected, f.Actual)
	}
	return b.String()
}

// Text is the failure as the runner prints it: where, then expected and actual on lines of
// their own.
func (f *Failure) Text() string {
	var b strings.Builder
	b.WriteString(f.Pos.String())
	if f.Step != nil {
		fmt.Fprintf(&b, ": %s", f.Step)
		if f.Step.Note != "" {
			fmt.Fprintf(&b, " %q", f.Step.Note)
		}
	}
	if f.What != "" {
		fmt.Fprintf(&b, ": %s", f.What)
	}
	if f.Message != "" {
		fmt.Fprintf(&b, "\n  %s", f.Message)
	}
	if f.What != "" {
		fmt.Fprintf(&b, "\n  expected: %s\n  actual:   %s", f.Expected, f.Actual)
	}
	if f.Response != "" {
		fmt.Fprintf(&b, "\n  response: %s", f.Response)
	}
	return b.String()
}
