package http

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

func TestDuplicateName(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{` { "a" : 1 , "b" : { "c" : [ 1 , { "d" : null , "d" : true } ] } } `, "b.c[1].d"},
		{`{"time_range":{"start_time":"OnAccept","end_time":"1","end_time":"2"}}`, "time_range.end_time"},
		{`{"post_payments":[{"name":"x","amount":1},{"name":"y","name":"z"}]}`, "post_payments[1].name"},
		{`[{"a":1},{"a":1,"a":2}]`, "[1].a"},
		{`{"a":{"x":1},"b":{"x":1}}`, ""},
		{`{"a\u0062":1,"ab":2}`, "ab"},
		{`{"\"":1,"\u0022":2}`, `"`},
		{`{"a":{"":1,"":2}}`, "a."},
		{`{"s":"a,\"}]","s":1}`, "s"},
		{`"a"`, ""},
		{`-1.5e3`, ""},
		{`[]`, ""},
		{`{}`, ""},
		{manyNames(100, false), ""},
		{manyNames(100, true), "k0"},
		{manyNames(10, true), "k0"},
	} {
		if got := duplicateName([]byte(tc.body)); got != tc.want {
			t.Errorf("duplicateName(%.60s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

// manyNames is an object of n names k0, k1, ..., then k0 again if repeat.
func manyNames(n int, repeat bool) string {
	b := []byte("{")
	for i := range n {
		b = append(b, `"k`+strconv.Itoa(i)+`":`+strconv.Itoa(i)+`,`...)
	}
	if repeat {
		b = append(b, `"k0":0,`...)
	}
	return string(b[:len(b)-1]) + "}"
}

// FuzzDuplicateName checks duplicateName against a reading of the same body through
// json.Decoder's tokens, on every valid JSON value.
func FuzzDuplicateName(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"b":[{"c":1},{"c":2,"c":3}]}`, `{"\u0061":1,"a":2}`, `[1,"x",{"y":{}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		if got, want := duplicateName(body), tokenDuplicate(body); got != want {
			t.Errorf("duplicateName(%q) = %q, json.Decoder's tokens say %q", body, got, want)
		}
	})
}

// tokenDuplicate is duplicateName written with json.Decoder.Token.
func tokenDuplicate(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var walk func(path string) string
	walk = func(path string) string {
		tok, _ := dec.Token()
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				tok, _ := dec.Token()
				name, _ := tok.(string)
				p := name
				if path != "" {
					p = path + "." + name
				}
				if seen[name] {
					return p
				}
				seen[name] = true
				if dup := walk(p); dup != "" {
					return dup
				}
			}
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if dup := walk(path + "[" + strconv.Itoa(i) + "]"); dup != "" {
					return dup
				}
			}
		default:
			return ""
		}
		_, _ = dec.Token()
		return ""
	}
	return walk("")
}
