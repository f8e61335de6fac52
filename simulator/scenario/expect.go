package scenario

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Expect is what a step's response must be. Without a status, a step must succeed (2xx),
// unless it expects an error code, when any 4xx or 5xx will do.
type Expect struct {
	Pos       Pos
	Status    *int
	StatusPos Pos
	// Code is whether a code is expected: an error.
	Code   bool
	Checks []Check
}

// Check is one assertion on the response: the value at Path (dotted, in the body, or a header's
// value) must satisfy M.
type Check struct {
	Pos    Pos
	Header bool
	Path   string
	M      *Matcher
}

// Matcher is an expectation of one value.
type Matcher struct {
	Pos    Pos
	Op     string // eq, not, contains, regexp, absent, present, one_of, len, fields, items, all
	Val    any
	Re     *regexp.Regexp
	N      int
	All    []*Matcher
	Fields []Check
	Items  []*Matcher
}

var matcherOps = []string{"equals", "not", "contains", "regexp", "absent", "present", "one_of", "len"}

func (p *parser) expect(n *yaml.Node) *Expect {
	if !p.want(n, yaml.MappingNode, "expect") {
		return nil
	}
	e := &Expect{Pos: p.pos(n)}
	for _, pr := range p.pairs(n) {
		k, v := pr.key, resolve(pr.val)
		switch k.Value {
		case "status":
			var s int
			if v.Kind != yaml.ScalarNode || v.Decode(&s) != nil || s < 100 || s > 599 {
				p.add(v, "status must be an HTTP status such as 200 or 400")
				continue
			}
			e.Status, e.StatusPos = &s, p.pos(v)
		case "body":
			if p.want(v, yaml.MappingNode, "expect.body") {
				e.Checks = append(e.Checks, p.fieldChecks(v)...)
			}
		case "absent":
			e.Checks = append(e.Checks, p.absent(v)...)
		case "message_contains":
			if p.want(v, yaml.ScalarNode, "message_contains") {
				e.Checks = append(e.Checks, Check{Pos: p.pos(v), Path: "message", M: &Matcher{Pos: p.pos(v), Op: "contains", Val: p.value(v)}})
			}
		case "headers":
			e.Checks = append(e.Checks, p.headerChecks(v)...)
		default:
			p.fieldCheck(e, k, v)
		}
	}
	return e
}

// absent reads expect.absent: a list of paths the response must not have.
func (p *parser) absent(n *yaml.Node) []Check {
	if !p.want(n, yaml.SequenceNode, "expect.absent") {
		return nil
	}
	var out []Check
	for _, item := range n.Content {
		path := p.str(item, "expect.absent item")
		out = append(out, Check{Pos: p.pos(item), Path: path, M: &Matcher{Pos: p.pos(item), Op: "absent"}})
	}
	return out
}

// headerChecks reads expect.headers: header names to matchers of their first value.
func (p *parser) headerChecks(n *yaml.Node) []Check {
	if !p.want(n, yaml.MappingNode, "expect.headers") {
		return nil
	}
	var out []Check
	for _, h := range p.pairs(n) {
		out = append(out, Check{Pos: p.pos(h.key), Header: true, Path: h.key.Value, M: p.matcher(h.val)})
	}
	return out
}

// fieldCheck reads a field of the response body written directly under expect.
func (p *parser) fieldCheck(e *Expect, k, v *yaml.Node) {
	if k.Value == "code" {
		// Expecting an error code is expecting an error: any 4xx or 5xx status will do.
		e.Code = true
	}
	if contains(matcherOps, k.Value) {
		p.add(k, "%s is a matcher: put it under the field it checks (state: {%s: ...})", k.Value, k.Value)
		return
	}
	e.Checks = append(e.Checks, Check{Pos: p.pos(k), Path: k.Value, M: p.matcher(v)})
}

// fieldChecks reads a mapping of dotted paths to matchers.
func (p *parser) fieldChecks(n *yaml.Node) []Check {
	var out []Check
	for _, pr := range p.pairs(n) {
		out = append(out, Check{Pos: p.pos(pr.key), Path: pr.key.Value, M: p.matcher(pr.val)})
	}
	return out
}

// matcher reads an expected value: a value (equality), a list (element by element), a mapping
// of matchers ({contains: x}, {regexp: y}, {absent: true}, ...) or a mapping of fields (each
// checked, others ignored).
func (p *parser) matcher(n *yaml.Node) *Matcher {
	n = resolve(n)
	pos := p.pos(n)
	switch n.Kind {
	case yaml.SequenceNode:
		m := &Matcher{Pos: pos, Op: "items"}
		for _, item := range n.Content {
			m.Items = append(m.Items, p.matcher(item))
		}
		return m
	case yaml.MappingNode:
		pairs := p.pairs(n)
		ops := 0
		for _, pr := range pairs {
			if contains(matcherOps, pr.key.Value) {
				ops++
			}
		}
		if ops == 0 {
			return &Matcher{Pos: pos, Op: "fields", Fields: p.fieldChecks(n)}
		}
		if ops != len(pairs) {
			p.add(n, "this mapping mixes matchers (%s) with field names; put field checks and matchers at different levels", strings.Join(matcherOps, ", "))
			return &Matcher{Pos: pos, Op: "all"}
		}
		m := &Matcher{Pos: pos, Op: "all"}
		for _, pr := range pairs {
			m.All = append(m.All, p.op(pr.key.Value, pr.val))
		}
		return m
	}
	return &Matcher{Pos: pos, Op: "eq", Val: p.value(n)}
}

func (p *parser) op(name string, n *yaml.Node) *Matcher {
	n = resolve(n)
	m := &Matcher{Pos: p.pos(n), Op: name}
	switch name {
	case "equals":
		m.Op, m.Val = "eq", p.value(n)
	case "not", "contains":
		m.Val = p.value(n)
	case "regexp":
		s := p.str(n, "regexp")
		re, err := regexp.Compile(s)
		if err != nil {
			p.add(n, "regexp: %v", err)
		}
		m.Re = re
	case "absent", "present":
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil || !b {
			p.add(n, "%s takes true", name)
		}
	case "one_of":
		if p.want(n, yaml.SequenceNode, "one_of") {
			m.Val = p.value(n)
		}
	case "len":
		if n.Kind != yaml.ScalarNode || n.Decode(&m.N) != nil || m.N < 0 {
			p.add(n, "len takes a whole number")
		}
	}
	return m
}

// mismatch is a failed expectation.
type mismatch struct {
	Pos      Pos
	What     string
	Expected string
	Actual   string
}

const absentText = "(absent)"

// eval checks actual (found says whether it exists at all) against m; path names it in a
// mismatch. An error is a reference in an expected value that cannot be expanded.
func (m *Matcher) eval(ctx context.Context, e *env, path string, actual any, found bool) (*mismatch, error) {
	switch m.Op {
	case "eq", "not", "contains", "one_of":
		want, err := e.expand(ctx, m.Val)
		if err != nil {
			return nil, err
		}
		return m.evalValue(want, path, actual, found), nil
	case "fields":
		return m.evalFields(ctx, e, path, actual, found)
	case "items":
		return m.evalItems(ctx, e, path, actual, found)
	case "all":
		for _, sub := range m.All {
			if mm, err := sub.eval(ctx, e, path, actual, found); mm != nil || err != nil {
				return mm, err
			}
		}
		return nil, nil
	}
	return m.evalShape(path, actual, found), nil
}

// fail is the mismatch of actual with what was expected.
func (m *Matcher) fail(path, expected string, actual any, found bool) *mismatch {
	a := absentText
	if found {
		a = show(actual)
	}
	return &mismatch{Pos: m.Pos, What: path, Expected: expected, Actual: a}
}

// evalValue checks the matchers that compare with an expected value.
func (m *Matcher) evalValue(want any, path string, actual any, found bool) *mismatch {
	switch m.Op {
	case "eq":
		if !found || !equal(want, actual) {
			return m.fail(path, show(want), actual, found)
		}
	case "not":
		if found && equal(want, actual) {
			return m.fail(path, "not "+show(want), actual, found)
		}
	case "one_of":
		list, _ := want.([]any)
		for _, w := range list {
			if found && equal(w, actual) {
				return nil
			}
		}
		return m.fail(path, "one of "+show(want), actual, found)
	case "contains":
		if !found || !containsValue(actual, want) {
			return m.fail(path, "something containing "+show(want), actual, found)
		}
	}
	return nil
}

// evalShape checks the matchers that need no expected value: regexp, absent, present, len.
func (m *Matcher) evalShape(path string, actual any, found bool) *mismatch {
	switch m.Op {
	case "regexp":
		s, ok := actual.(string)
		if !ok && found {
			s = text(actual)
		}
		if !found || m.Re == nil || !m.Re.MatchString(s) {
			return m.fail(path, fmt.Sprintf("a match of /%s/", m.Re), actual, found)
		}
	case "absent":
		if found {
			return m.fail(path, absentText, actual, found)
		}
	case "present":
		if !found {
			return m.fail(path, "present", actual, found)
		}
	case "len":
		n, ok := length(actual)
		if !found || !ok || n != m.N {
			return m.fail(path, fmt.Sprintf("length %d", m.N), actual, found)
		}
	}
	return nil
}

// evalFields checks each named field of a mapping; the others are not looked at.
func (m *Matcher) evalFields(ctx context.Context, e *env, path string, actual any, found bool) (*mismatch, error) {
	if !found {
		return m.fail(path, "present", actual, found), nil
	}
	for _, c := range m.Fields {
		v, ok := lookupPath(actual, c.Path)
		if mm, err := c.M.eval(ctx, e, joinPath(path, c.Path), v, ok); mm != nil || err != nil {
			return mm, err
		}
	}
	return nil, nil
}

// evalItems checks a list item by item; it must have as many items as expected.
func (m *Matcher) evalItems(ctx context.Context, e *env, path string, actual any, found bool) (*mismatch, error) {
	list, ok := actual.([]any)
	if !found || !ok || len(list) != len(m.Items) {
		want := fmt.Sprintf("a list of %d", len(m.Items))
		if vals, ok := m.plainItems(ctx, e); ok {
			want = show(vals)
		}
		return m.fail(path, want, actual, found), nil
	}
	for i, im := range m.Items {
		if mm, err := im.eval(ctx, e, fmt.Sprintf("%s[%d]", path, i), list[i], true); mm != nil || err != nil {
			return mm, err
		}
	}
	return nil, nil
}

func containsValue(actual, want any) bool {
	switch a := actual.(type) {
	case string:
		return strings.Contains(a, text(want))
	case []any:
		for _, item := range a {
			if equal(want, item) {
				return true
			}
		}
	case map[string]any:
		_, ok := a[text(want)]
		return ok
	}
	return false
}

func length(v any) (int, bool) {
	switch v := v.(type) {
	case string:
		return utf8.RuneCountInString(v), true
	case []any:
		return len(v), true
	case map[string]any:
		return len(v), true
	}
	return 0, false
}

// checkResponse checks a response against a step's expectations: its status first, then each
// check in order. It returns the first mismatch.
func checkResponse(ctx context.Context, e *env, st *Step, resp *response) (*mismatch, error) {
	if mm := checkStatus(st, resp); mm != nil {
		return mm, nil
	}
	if st.Expect == nil {
		return nil, nil
	}
	for _, c := range st.Expect.Checks {
		v, found := lookupPath(resp.doc, c.Path)
		what := c.Path
		if c.Header {
			vals := resp.header.Values(c.Path)
			v, found = nil, len(vals) > 0
			if found {
				v = vals[0]
			}
			what = "header " + http.CanonicalHeaderKey(c.Path)
		}
		mm, err := c.M.eval(ctx, e, what, v, found)
		if mm != nil || err != nil {
			return mm, err
		}
	}
	return nil, nil
}

// checkStatus checks an HTTP response's status: the one expected, else an error when an error
// code is expected, else a success. A notification (status 0) has none to check.
func checkStatus(st *Step, resp *response) *mismatch {
	if resp.status == 0 {
		return nil
	}
	exp := st.Expect
	ok := resp.status >= 200 && resp.status < 300
	want := "a success (2xx)"
	pos := st.Pos
	switch {
	case exp != nil && exp.Status != nil:
		ok, want, pos = resp.status == *exp.Status, fmt.Sprint(*exp.Status), exp.StatusPos
	case exp != nil && exp.Code:
		ok, want = resp.status >= 400, "an error (4xx or 5xx)"
	}
	if ok {
		return nil
	}
	return &mismatch{Pos: pos, What: "status", Expected: want, Actual: resp.summary()}
}

// plainItems returns the values of a list of equalities, to show as the expected list.
func (m *Matcher) plainItems(ctx context.Context, e *env) ([]any, bool) {
	vals := make([]any, 0, len(m.Items))
	for _, im := range m.Items {
		if im.Op != "eq" {
			return nil, false
		}
		v, err := e.expand(ctx, im.Val)
		if err != nil {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}
