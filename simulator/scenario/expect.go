package scenario

import (
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
			if !p.want(v, yaml.SequenceNode, "expect.absent") {
				continue
			}
			for _, item := range v.Content {
				path := p.str(item, "expect.absent item")
				e.Checks = append(e.Checks, Check{Pos: p.pos(item), Path: path, M: &Matcher{Pos: p.pos(item), Op: "absent"}})
			}
		case "message_contains":
			if p.want(v, yaml.ScalarNode, "message_contains") {
				e.Checks = append(e.Checks, Check{Pos: p.pos(v), Path: "message", M: &Matcher{Pos: p.pos(v), Op: "contains", Val: p.value(v)}})
			}
		case "headers":
			if !p.want(v, yaml.MappingNode, "expect.headers") {
				continue
			}
			for _, h := range p.pairs(v) {
				e.Checks = append(e.Checks, Check{Pos: p.pos(h.key), Header: true, Path: h.key.Value, M: p.matcher(h.val)})
			}
		default:
			if k.Value == "code" {
				e.Code = true
			}
			if contains(matcherOps, k.Value) {
				p.add(k, "%s is a matcher: put it under the field it checks (state: {%s: ...})", k.Value, k.Value)
				continue
			}
			e.Checks = append(e.Checks, Check{Pos: p.pos(k), Path: k.Value, M: p.matcher(v)})
		}
	}
	return e
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

// eval checks actual (found says whether it exists at all) against m.
func (m *Matcher) eval(e *env, path string, actual any, found bool) (*mismatch, error) {
	fail := func(expected string) *mismatch {
		a := absentText
		if found {
			a = show(actual)
		}
		return &mismatch{Pos: m.Pos, What: path, Expected: expected, Actual: a}
	}
	switch m.Op {
	case "eq", "not", "contains", "one_of":
		want, err := e.expand(m.Val)
		if err != nil {
			return nil, err
		}
		switch m.Op {
		case "eq":
			if !found || !equal(want, actual) {
				return fail(show(want)), nil
			}
		case "not":
			if found && equal(want, actual) {
				return fail("not " + show(want)), nil
			}
		case "one_of":
			list, _ := want.([]any)
			for _, w := range list {
				if found && equal(w, actual) {
					return nil, nil
				}
			}
			return fail("one of " + show(want)), nil
		case "contains":
			if !found || !containsValue(actual, want) {
				return fail("something containing " + show(want)), nil
			}
		}
	case "regexp":
		s, ok := actual.(string)
		if !ok && found {
			s = text(actual)
		}
		if !found || m.Re == nil || !m.Re.MatchString(s) {
			return fail(fmt.Sprintf("a match of /%s/", m.Re)), nil
		}
	case "absent":
		if found {
			return fail(absentText), nil
		}
	case "present":
		if !found {
			return fail("present"), nil
		}
	case "len":
		n, ok := length(actual)
		if !found || !ok || n != m.N {
			return fail(fmt.Sprintf("length %d", m.N)), nil
		}
	case "fields":
		if !found {
			return fail("present"), nil
		}
		for _, c := range m.Fields {
			v, ok := lookupPath(actual, c.Path)
			if mm, err := c.M.eval(e, joinPath(path, c.Path), v, ok); mm != nil || err != nil {
				return mm, err
			}
		}
	case "items":
		list, ok := actual.([]any)
		if !found || !ok || len(list) != len(m.Items) {
			want := fmt.Sprintf("a list of %d", len(m.Items))
			if vals, ok := m.plainItems(e); ok {
				want = show(vals)
			}
			return fail(want), nil
		}
		for i, im := range m.Items {
			if mm, err := im.eval(e, fmt.Sprintf("%s[%d]", path, i), list[i], true); mm != nil || err != nil {
				return mm, err
			}
		}
	case "all":
		for _, sub := range m.All {
			if mm, err := sub.eval(e, path, actual, found); mm != nil || err != nil {
				return mm, err
			}
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
func checkResponse(e *env, st *Step, resp *response) (*mismatch, error) {
	exp := st.Expect
	if resp.status != 0 {
		ok := resp.status >= 200 && resp.status < 300
		want := "a success (2xx)"
		pos := st.Pos
		switch {
		case exp != nil && exp.Status != nil:
			ok, want, pos = resp.status == *exp.Status, fmt.Sprint(*exp.Status), exp.StatusPos
		case exp != nil && exp.Code:
			ok, want = resp.status >= 400, "an error (4xx or 5xx)"
		}
		if !ok {
			return &mismatch{Pos: pos, What: "status", Expected: want, Actual: resp.summary()}, nil
		}
	}
	if exp == nil {
		return nil, nil
	}
	for _, c := range exp.Checks {
		var v any
		var found bool
		what := c.Path
		if c.Header {
			vals := resp.header.Values(c.Path)
			found = len(vals) > 0
			if found {
				v = vals[0]
			}
			what = "header " + http.CanonicalHeaderKey(c.Path)
		} else {
			v, found = lookupPath(resp.doc, c.Path)
		}
		mm, err := c.M.eval(e, what, v, found)
		if err != nil {
			return nil, err
		}
		if mm != nil {
			return mm, nil
		}
	}
	return nil, nil
}

// plainItems returns the values of a list of equalities, to show as the expected list.
func (m *Matcher) plainItems(e *env) ([]any, bool) {
	vals := make([]any, 0, len(m.Items))
	for _, im := range m.Items {
		if im.Op != "eq" {
			return nil, false
		}
		v, err := e.expand(im.Val)
		if err != nil {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}
