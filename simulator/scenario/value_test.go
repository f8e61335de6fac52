package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRefs(t *testing.T) {
	tests := []struct {
		in      string
		names   []string
		wantErr string
	}{
		{in: "plain"},
		{in: "${out_order_no}", names: []string{"out_order_no"}},
		{in: "a-${unique}-${now+1h}", names: []string{"unique", "now"}},
		{in: "$${literal}"},
		{in: "cost: $5"},
		{in: "${unique", wantErr: "without its closing }"},
		{in: "${not a name}", wantErr: "is not a name"},
		{in: "${openid+1h}", wantErr: "only now, today and unix take an offset"},
		{in: "${now+1x}", wantErr: "is not a duration"},
		{in: "${now+soon}", wantErr: "is not a name"},
	}
	for _, tt := range tests {
		refs, err := parseRefs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseRefs(%q) = %v, want an error with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseRefs(%q): %v", tt.in, err)
			continue
		}
		var names []string
		for _, r := range refs {
			names = append(names, r.name)
			if tt.in[r.start:r.end] != "${"+tt.in[r.start+2:r.end-1]+"}" {
				t.Errorf("parseRefs(%q): ref %s spans %q", tt.in, r.name, tt.in[r.start:r.end])
			}
		}
		if strings.Join(names, ",") != strings.Join(tt.names, ",") {
			t.Errorf("parseRefs(%q) names = %v, want %v", tt.in, names, tt.names)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"500ms", 500 * time.Millisecond, true},
		{"61m", 61 * time.Minute, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"30d1m", 30*24*time.Hour + time.Minute, true},
		{"soon", 0, false},
		{"xd", 0, false},
		{"1d1", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// testEnv is an env whose simulator's clock stands at a fixed time.
func testEnv(vars map[string]any) *env {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &env{vars: vars, now: func(context.Context) (time.Time, error) { return at, nil }}
}

func TestExpand(t *testing.T) {
	e := testEnv(map[string]any{"unique": "Q1", "amount": json.Number("200"), "nested": map[string]any{"a": "b"}})
	tests := []struct {
		in   any
		want any
	}{
		// A string that is one reference takes the value with its type.
		{"${amount}", json.Number("200")},
		{"${nested}", map[string]any{"a": "b"}},
		// Inside a string, the value as text.
		{"order-${unique}-${amount}", "order-Q1-200"},
		{"$${unique}", "${unique}"},
		{"${unique}$${x}", "Q1${x}"},
		// Pay Score's times are China Standard Time (UTC+8).
		{"${now}", "20260102110405"},
		{"${now+1h}", "20260102120405"},
		{"${now-1d}", "20260101110405"},
		{"${today}", "20260102"},
		{"${unix}", "1767323045"},
		{"${unix_ms}", "1767323045000"},
		{[]any{"${unique}", int64(1)}, []any{"Q1", int64(1)}},
		{map[string]any{"k": "${unique}", "n": nil}, map[string]any{"k": "Q1", "n": nil}},
		{true, true},
	}
	for _, tt := range tests {
		got, err := e.expand(context.Background(), tt.in)
		if err != nil {
			t.Errorf("expand(%v): %v", tt.in, err)
			continue
		}
		if !equal(tt.want, got) {
			t.Errorf("expand(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestExpandUnsetNamesSayWhichStepSetsThem(t *testing.T) {
	e := testEnv(map[string]any{})
	_, err := e.expand(context.Background(), "${visit_id}")
	if err == nil || err.Error() != "${visit_id} has no value yet: open_visit sets it" {
		t.Errorf("err = %v", err)
	}
	_, err = e.expand(context.Background(), map[string]any{"x": []any{"${mine}"}})
	if err == nil || err.Error() != "${mine} has no value" {
		t.Errorf("err = %v", err)
	}
	broken := &env{vars: map[string]any{}, now: func(context.Context) (time.Time, error) { return time.Time{}, errors.New("no clock") }}
	if _, err := broken.expand(context.Background(), "at ${now}"); err == nil || err.Error() != "no clock" {
		t.Errorf("a clock that cannot be read: err = %v", err)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		exp, act any
		want     bool
	}{
		{int64(200), json.Number("200"), true},
		{200.0, json.Number("200"), true},
		{int64(200), json.Number("200.5"), false},
		// A YAML float is the decimal it was written as.
		{0.1, json.Number("0.1"), true},
		{0.1, json.Number("0.10"), true},
		{1e21, json.Number("1000000000000000000000"), true},
		{int64(200), "200", false},
		{"200", json.Number("200"), false},
		{nil, nil, true},
		{nil, "", false},
		{true, true, true},
		{true, "true", false},
		{[]any{int64(1), "a"}, []any{json.Number("1"), "a"}, true},
		{[]any{int64(1)}, []any{json.Number("1"), "a"}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"a": json.Number("1")}, true},
		// Mappings compare in full: an extra key is a difference.
		{map[string]any{"a": int64(1)}, map[string]any{"a": json.Number("1"), "b": "x"}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"b": json.Number("1")}, false},
		{[]any{}, map[string]any{}, false},
	}
	for _, tt := range tests {
		if got := equal(tt.exp, tt.act); got != tt.want {
			t.Errorf("equal(%#v, %#v) = %v, want %v", tt.exp, tt.act, got, tt.want)
		}
	}
}

func TestLookupPath(t *testing.T) {
	doc := decodeJSON([]byte(`{"a":{"b":[{"c":1},{"c":"two"}]},"x.y":3,"n":null}`))
	tests := []struct {
		path  string
		want  any
		found bool
	}{
		{"", doc, true},
		{"a.b.0.c", json.Number("1"), true},
		{"a.b[1].c", "two", true},
		{"a.b[2].c", nil, false},
		{"a.b[-1]", nil, false},
		{"a.b.c", nil, false},
		{"a.missing", nil, false},
		{"n", nil, true},
		{"n.deeper", nil, false},
	}
	for _, tt := range tests {
		got, found := lookupPath(doc, tt.path)
		if found != tt.found || !equal(tt.want, got) {
			t.Errorf("lookupPath(%q) = %v, %v; want %v, %v", tt.path, got, found, tt.want, tt.found)
		}
	}
}

func TestTextAndShow(t *testing.T) {
	for in, want := range map[any]string{
		"s": "s", nil: "", json.Number("1.50"): "1.50", int64(-3): "-3", 2.5: "2.5", true: "true",
	} {
		if got := text(in); got != want {
			t.Errorf("text(%#v) = %q, want %q", in, got, want)
		}
	}
	if got := text([]any{"a"}); got != `["a"]` {
		t.Errorf("text of a list = %q", got)
	}
	long := show(strings.Repeat("x", 1000))
	if !strings.HasSuffix(long, "…") || len(long) > 310 {
		t.Errorf("show does not shorten: %d bytes", len(long))
	}
	if got := show(map[string]any{"a": nil}); got != `{"a":null}` {
		t.Errorf("show = %q", got)
	}
}

func TestDecodeJSON(t *testing.T) {
	if got := decodeJSON([]byte(" \n")); got != nil {
		t.Errorf("an empty body = %#v, want nil", got)
	}
	if got := decodeJSON([]byte("<html>")); got != "<html>" {
		t.Errorf("a body that is not JSON = %#v, want the text", got)
	}
	// Numbers stay exact: a 19-digit amount is not rounded through float64.
	got := decodeJSON([]byte(`{"amount": 9007199254740993}`))
	if n, _ := lookupPath(got, "amount"); n != json.Number("9007199254740993") {
		t.Errorf("amount = %#v", n)
	}
}
