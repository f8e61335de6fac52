package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// Values. A step's arguments and an expectation's values are read from YAML into plain Go values
// (nil, bool, int64, float64, string, []any, map[string]any); strings may hold ${...}
// references, expanded when the step runs. Responses are decoded from JSON with json.Number.

// value converts a node to a plain value, checking the ${...} references of its strings against
// the names defined so far.
func (p *parser) value(n *yaml.Node) any {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, pr := range p.pairs(n) {
			m[pr.key.Value] = p.value(pr.val)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, p.value(c))
		}
		return s
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return i
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	if !p.noRefs {
		p.checkRefs(n, n.Value)
	}
	return n.Value
}

// ref is one ${...} in a string.
type ref struct {
	start, end int // the ${...} is s[start:end]
	name       string
	sign       byte // '+', '-' or 0
	offset     time.Duration
}

var refPattern = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:([+-])([0-9][0-9a-zµ.]*))?$`)

// parseRefs finds the ${...} references of s; "$${" is a literal "${".
func parseRefs(s string) ([]ref, error) {
	var refs []ref
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		if s[i+1] == '$' && i+2 < len(s) && s[i+2] == '{' {
			i += 2
			continue
		}
		if s[i+1] != '{' {
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%q has a ${ without its closing }", s)
		}
		inner := s[i+2 : i+end]
		m := refPattern.FindStringSubmatch(inner)
		if m == nil {
			return nil, fmt.Errorf("${%s} is not a name: names are letters, digits and _, as in ${out_order_no}, ${now+1h}", inner)
		}
		r := ref{start: i, end: i + end + 1, name: m[1]}
		if m[2] != "" {
			if !offsettable[r.name] {
				return nil, fmt.Errorf("${%s}: only now, today and unix take an offset", inner)
			}
			d, err := parseDuration(m[3])
			if err != nil {
				return nil, fmt.Errorf("${%s}: %v", inner, err)
			}
			r.sign, r.offset = m[2][0], d
		}
		refs = append(refs, r)
		i += end
	}
	return refs, nil
}

var offsettable = map[string]bool{"now": true, "today": true, "unix": true}

// checkRefs reports references to names that are neither built in nor captured by an earlier
// step of the scenario.
func (p *parser) checkRefs(n *yaml.Node, s string) {
	refs, err := parseRefs(s)
	if err != nil {
		p.add(n, "%v", err)
		return
	}
	for _, r := range refs {
		if builtins[r.name] || p.known[r.name] {
			continue
		}
		var captured []string
		for k := range p.known {
			captured = append(captured, k)
		}
		sort.Strings(captured)
		hint := ""
		all := append(keys(builtins), captured...)
		if c := closest(r.name, all); c != "" {
			hint = fmt.Sprintf(" (did you mean ${%s}?)", c)
		}
		p.add(n, "${%s} is not defined before this step%s: capture it in an earlier step (capture: {%s: field}), or use a built-in: %s; captured so far: %v",
			r.name, hint, r.name, strings.Join(keys(builtins), ", "), captured)
	}
}

// builtins are the names every scenario has; those that steps set are empty until then.
var builtins = map[string]bool{
	"unique": true, "now": true, "today": true, "unix": true, "unix_ms": true,
	"mchid": true, "appid": true, "service_id": true, "notify_url": true,
	"out_order_no": true, "order_id": true, "package": true, "visit_id": true, "query_id": true,
	"apply_permissions_token": true, "authorization_code": true, "openid": true, "notification_id": true,
	"out_refund_no": true, "refund_id": true, "transaction_id": true, "out_trade_no": true,
}

// setBy tells, for the names steps set, which steps set them.
var setBy = map[string]string{
	"out_order_no": "create or direct_complete", "order_id": "create or direct_complete",
	"package": "create (of an order awaiting confirmation)", "visit_id": "open_visit",
	"query_id":                "return (of a confirmed wxpayScoreUse visit)",
	"apply_permissions_token": "apply_permissions", "authorization_code": "apply_permissions or seed_permission",
	"openid": "authorize or seed_permission", "notification_id": "expect_notification",
	"out_refund_no": "refund", "refund_id": "refund", "transaction_id": "refund", "out_trade_no": "refund",
}

// parseDuration reads a Go duration, also accepting days: 30d, 1d12h.
func parseDuration(s string) (time.Duration, error) {
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 500ms, 61m, 30d)", s)
		}
		days, s = n, s[i+1:]
	}
	var d time.Duration
	if s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 500ms, 61m, 30d)", s)
		}
	}
	return time.Duration(days)*24*time.Hour + d, nil
}

// env holds a running scenario's names.
type env struct {
	vars map[string]any
	// now returns the simulator's time, which may run ahead of the real time.
	now func(context.Context) (time.Time, error)
}

// expand replaces the ${...} references in v's strings. A string that is exactly one reference
// takes the referenced value with its type (a captured number stays a number).
func (e *env) expand(ctx context.Context, v any) (any, error) {
	switch v := v.(type) {
	case string:
		return e.expandString(ctx, v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			x, err := e.expand(ctx, item)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			x, err := e.expand(ctx, item)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
	return v, nil
}

func (e *env) expandString(ctx context.Context, s string) (any, error) {
	refs, err := parseRefs(s)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return strings.ReplaceAll(s, "$${", "${"), nil
	}
	if len(refs) == 1 && refs[0].start == 0 && refs[0].end == len(s) {
		return e.lookup(ctx, refs[0])
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		b.WriteString(strings.ReplaceAll(s[last:r.start], "$${", "${"))
		v, err := e.lookup(ctx, r)
		if err != nil {
			return nil, err
		}
		b.WriteString(text(v))
		last = r.end
	}
	b.WriteString(strings.ReplaceAll(s[last:], "$${", "${"))
	return b.String(), nil
}

func (e *env) lookup(ctx context.Context, r ref) (any, error) {
	switch r.name {
	case "now", "today", "unix", "unix_ms":
		t, err := e.now(ctx)
		if err != nil {
			return nil, err
		}
		return timeRef(r, t), nil
	}
	v, ok := e.vars[r.name]
	if !ok {
		if by := setBy[r.name]; by != "" {
			return nil, fmt.Errorf("${%s} has no value yet: %s sets it", r.name, by)
		}
		return nil, fmt.Errorf("${%s} has no value", r.name)
	}
	return v, nil
}

// timeRef is ${now}, ${today}, ${unix} or ${unix_ms} at t, moved by the reference's offset. Pay
// Score's times are China Standard Time, whatever the runner's zone.
func timeRef(r ref, t time.Time) string {
	if r.sign == '-' {
		t = t.Add(-r.offset)
	} else {
		t = t.Add(r.offset)
	}
	switch r.name {
	case "now":
		return simulator.FormatCompact(t)
	case "today":
		return t.In(simulator.ChinaTime).Format("20060102")
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	default:
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
}

// text is a value as it reads inside a string.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case json.Number:
		return v.String()
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// show is a value as a failure message shows it: JSON, shortened.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return shorten(string(b), 300)
}

// shorten cuts s to at most n bytes, at a rune's start, and marks the cut with "…".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// lookupPath finds a dotted path (a.b.0.c or a.b[0].c) in a decoded JSON document.
func lookupPath(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	cur := doc
	for _, part := range splitPath(path) {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func splitPath(path string) []string {
	path = strings.ReplaceAll(path, "[", ".")
	path = strings.ReplaceAll(path, "]", "")
	var parts []string
	for _, p := range strings.Split(path, ".") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

func joinPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	}
	return prefix + "." + path
}

// equal compares an expected value (from YAML) with an actual one (from JSON). Numbers compare
// by value (200 equals 200.0 and json.Number("200")); everything else must match in type and
// value, lists item by item, mappings key by key in full.
func equal(exp, act any) bool {
	if en, ok := number(exp); ok {
		an, ok := number(act)
		return ok && en.Cmp(an) == 0
	}
	switch e := exp.(type) {
	case nil:
		return act == nil
	case bool:
		a, ok := act.(bool)
		return ok && a == e
	case string:
		a, ok := act.(string)
		return ok && a == e
	case []any:
		a, ok := act.([]any)
		return ok && equalLists(e, a)
	case map[string]any:
		a, ok := act.(map[string]any)
		return ok && equalMaps(e, a)
	}
	return false
}

func equalLists(exp, act []any) bool {
	if len(exp) != len(act) {
		return false
	}
	for i := range exp {
		if !equal(exp[i], act[i]) {
			return false
		}
	}
	return true
}

func equalMaps(exp, act map[string]any) bool {
	if len(exp) != len(act) {
		return false
	}
	for k, v := range exp {
		av, ok := act[k]
		if !ok || !equal(v, av) {
			return false
		}
	}
	return true
}

func number(v any) (*big.Rat, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case int64:
		return new(big.Rat).SetInt64(v), true
	case int:
		return new(big.Rat).SetInt64(int64(v)), true
	case float64:
		// The shortest decimal that reads back as v: what the YAML said (0.1), not the binary
		// fraction nearest to it, which would never equal a JSON 0.1.
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, false
		}
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// decodeJSON decodes a response body, keeping numbers exact; a body that is not JSON is kept as
// a string.
func decodeJSON(b []byte) any {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(b)
	}
	return v
}
