package http

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// duplicateName returns the path (such as time_range.end_time or post_payments[1].name) of the
// first name repeated within one object of body, a valid JSON value; "" if there is none.
//
// It reads the bytes itself rather than through json.Decoder.Token, which allocated for every
// token: this pass runs on every call with a body, and took a fifth of a create's allocations.
func duplicateName(body []byte) string {
	var steps [8]pathStep // deep enough for any Pay Score body, without an allocation
	s := nameScanner{body: body, path: steps[:0]}
	if !s.value() {
		return ""
	}
	var b []byte
	for _, step := range s.path {
		if step.element {
			b = strconv.AppendInt(append(b, '['), int64(step.index), 10)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, step.name...)
	}
	return string(b)
}

// nameScanner walks a valid JSON value, keeping the path to where it is.
type nameScanner struct {
	body []byte
	i    int
	path []pathStep
}

// pathStep is an object's member, by name, or an array's element, by index.
type pathStep struct {
	name    []byte
	index   int
	element bool
}

// linearNames is how many names an object's names are compared against one by one, before
// they go into a map (a body of 1 MB can hold an object of 100,000 names).
const linearNames = 32

// value reads the value at s.i and reports whether it holds a repeated name; if so, s.path is
// the path to it.
func (s *nameScanner) value() bool {
	s.space()
	switch s.body[s.i] {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		s.str()
	default: // a number, true, false or null
		for s.i < len(s.body) && !endsLiteral(s.body[s.i]) {
			s.i++
		}
	}
	return false
}

func (s *nameScanner) object() bool {
	s.i++ // {
	var buf [linearNames][]byte
	names := buf[:0]
	var seen map[string]bool
	for {
		s.space()
		switch s.body[s.i] {
		case '}':
			s.i++
			return false
		case ',':
			s.i++
			s.space()
		}
		name := s.name()
		s.path = append(s.path, pathStep{name: name})
		if seen[string(name)] || containsName(names, name) {
			return true
		}
		if seen == nil && len(names) < linearNames {
			names = append(names, name)
		} else {
			if seen == nil {
				seen = make(map[string]bool)
				for _, n := range names {
					seen[string(n)] = true
				}
				names = nil
			}
			seen[string(name)] = true
		}
		s.space()
		s.i++ // :
		if s.value() {
			return true
		}
		s.path = s.path[:len(s.path)-1]
	}
}

func containsName(names [][]byte, name []byte) bool {
	for _, n := range names {
		if bytes.Equal(n, name) {
			return true
		}
	}
	return false
}

func (s *nameScanner) array() bool {
	s.i++ // [
	for n := 0; ; n++ {
		s.space()
		switch s.body[s.i] {
		case ']':
			s.i++
			return false
		case ',':
			s.i++
		}
		s.path = append(s.path, pathStep{index: n, element: true})
		if s.value() {
			return true
		}
		s.path = s.path[:len(s.path)-1]
	}
}

// name reads a string at s.i and returns its value: the bytes themselves unless it has escapes.
func (s *nameScanner) name() []byte {
	start := s.i
	escaped := s.str()
	raw := s.body[start:s.i]
	if !escaped {
		return raw[1 : len(raw)-1]
	}
	var v string
	_ = json.Unmarshal(raw, &v) // valid: body is
	return []byte(v)
}

// str skips the string at s.i and reports whether it has escapes.
func (s *nameScanner) str() (escaped bool) {
	for s.i++; s.body[s.i] != '"'; s.i++ {
		if s.body[s.i] == '\\' {
			escaped = true
			s.i++
		}
	}
	s.i++
	return escaped
}

func (s *nameScanner) space() {
	for s.i < len(s.body) && isSpace(s.body[s.i]) {
		s.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// endsLiteral reports whether c is the first byte after a number, true, false or null.
func endsLiteral(c byte) bool { return c == ',' || c == ']' || c == '}' || isSpace(c) }
