package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a place in a fixture file: 1-based line and column.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is a problem with a fixture file, at the place it is.
type Error struct {
	Pos Pos
	Msg string
}

// Error is the place and the message, with the control characters a file may hold escaped:
// messages quote the file, and are printed to a terminal.
func (e *Error) Error() string { return Escape(e.Pos.String() + ": " + e.Msg) }

// errList collects the problems of a file, so that one run reports them all.
type errList struct {
	file string
	errs []error
}

const maxErrors = 20

func (l *errList) add(n *yaml.Node, format string, args ...any) {
	if len(l.errs) < maxErrors {
		l.errs = append(l.errs, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, args...)})
	}
}

func (l *errList) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: l.file}
	}
	return Pos{File: l.file, Line: n.Line, Col: n.Column}
}

func (l *errList) err() error { return errors.Join(l.errs...) }

// readYAML parses one YAML document into its root node. A syntax error becomes an *Error with
// file, line and column; yaml.v3 names only the line, so the column is that of the token the
// parser's message points at where it can be found on the line, else the line's first character.
func readYAML(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(file, data, err)
	}
	if doc.Kind == 0 {
		return nil, &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "the file is empty"}
	}
	if rest := secondDocument(data); rest > 0 {
		return nil, &Error{Pos: Pos{File: file, Line: rest, Col: 1}, Msg: "a fixture file holds one YAML document; remove this second one (---)"}
	}
	return doc.Content[0], nil
}

// secondDocument returns the line of a second document's "---", or 0.
func secondDocument(data []byte) int {
	lines := strings.Split(string(data), "\n")
	seenContent := false
	for i, l := range lines {
		t := strings.TrimRight(l, " \r\t")
		switch {
		case t == "---" || strings.HasPrefix(t, "--- "):
			if seenContent {
				return i + 1
			}
		case t != "" && !strings.HasPrefix(strings.TrimSpace(t), "#"):
			seenContent = true
		}
	}
	return 0
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(file string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	m := yamlLineError.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "invalid YAML: " + msg}
	}
	line, _ := strconv.Atoi(m[1])
	if parserProblems[m[2]] {
		// yaml.v3 numbers the lines of parser (not scanner) errors from 0.
		line++
	}
	lines := strings.Split(string(data), "\n")
	col := 1
	if line >= 1 && line <= len(lines) {
		col = guessColumn(lines[:line-1], lines[line-1], m[2])
	}
	msg = "invalid YAML: " + m[2]
	if strings.Contains(m[2], "mapping values are not allowed") && line >= 2 && line <= len(lines) {
		// The usual cause: a bare step (- confirm) followed by its expect: or capture:.
		for i := line - 2; i >= 0; i-- {
			prev := strings.TrimSpace(lines[i])
			if prev == "" || strings.HasPrefix(prev, "#") {
				continue
			}
			if bare := regexp.MustCompile(`^- ([a-z_]+)$`).FindStringSubmatch(prev); bare != nil {
				msg += fmt.Sprintf(" (a step with expect:, capture: or note: needs a colon after its name: \"- %s:\" on line %d)", bare[1], i+1)
			}
			break
		}
	}
	return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: msg}
}

// parserProblems are the messages of yaml.v3's parser errors, whose line it numbers from 0
// (see its decode.go, parser.fail).
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"did not find expected '-' indicator": true, "did not find expected <document start>": true,
	"did not find expected key": true, "did not find expected node content": true,
	"found duplicate %TAG directive": true, "found duplicate %YAML directive": true,
	"found incompatible YAML document": true, "found undefined tag handle": true,
}

// guessColumn finds on a line the token a yaml.v3 message is about; before are the lines
// above it.
func guessColumn(before []string, line, msg string) int {
	first := len(line) - len(strings.TrimLeft(line, " "))
	switch {
	case strings.Contains(msg, "cannot start any token"), strings.Contains(msg, "found a tab"):
		if i := strings.IndexAny(line, "\t@`"); i >= 0 {
			return i + 1
		}
	case strings.Contains(msg, "expected ',' or '}'"), strings.Contains(msg, "expected ',' or ']'"):
		// Usually a [ or { inside a flow collection, as in {a[0]: 1}.
		if open := strings.IndexAny(line, "{["); open >= 0 {
			if i := strings.IndexAny(line[open+1:], "[{"); i >= 0 {
				return open + 1 + i + 1
			}
		}
	case strings.Contains(msg, "mapping values are not allowed"):
		// The culprit is the first colon before which the document still parses: in
		// "name: a: b" the second, after a step missing its colon ("- create" then
		// "expect: ...") the first.
		prefix := strings.Join(before, "\n") + "\n"
		for i := 0; i < len(line); i++ {
			if line[i] != ':' || (i+1 < len(line) && line[i+1] != ' ') {
				continue
			}
			var n yaml.Node
			if yaml.Unmarshal([]byte(prefix+line[:i]), &n) == nil {
				return i + 1
			}
		}
	}
	return first + 1
}

// pair is one key and value of a mapping.
type pair struct {
	key, val *yaml.Node
}

// resolve follows aliases (*name) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// pairs returns a mapping's pairs with merge keys (<<: *anchor) expanded, the mapping's own keys
// overriding merged ones, and reports duplicate keys.
func (l *errList) pairs(n *yaml.Node) []pair {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var merged, own []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			src := resolve(v)
			var sources []*yaml.Node
			if src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					sources = append(sources, resolve(s))
				}
			} else {
				sources = []*yaml.Node{src}
			}
			for _, s := range sources {
				if s.Kind != yaml.MappingNode {
					l.add(v, "a merge key (<<) takes a mapping or a list of mappings")
					continue
				}
				merged = append(merged, l.pairs(s)...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.add(k, "keys must be plain strings")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.add(k, "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		own = append(own, pair{k, v})
	}
	out := own
	for _, p := range merged {
		if _, overridden := seen[p.key.Value]; !overridden {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

// want reports an error unless n is of kind k; what names what was expected.
func (l *errList) want(n *yaml.Node, k yaml.Kind, what string) bool {
	n = resolve(n)
	if n != nil && n.Kind == k {
		return true
	}
	l.add(n, "%s must be %s, not %s", what, kindName(k), describe(n))
	return false
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list (- item)"
	default:
		return "a single value"
	}
}

func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!null":
		return "empty"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// str reads a scalar as a string.
func (l *errList) str(n *yaml.Node, what string) string {
	if !l.want(n, yaml.ScalarNode, what) {
		return ""
	}
	return resolve(n).Value
}

// unknownKey reports a key that is not one of known, suggesting the closest known one.
func (l *errList) unknownKey(k *yaml.Node, where string, known []string) {
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	hint := ""
	if s := closest(k.Value, sorted); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	l.add(k, "unknown field %q in %s%s; known fields: %s", k.Value, where, hint, strings.Join(sorted, ", "))
}

// closest returns the candidate nearest to s by edit distance, if it is near enough to be a typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if len(s) >= 3 && (strings.HasPrefix(c, s) || strings.HasPrefix(s, c)) {
			d = 1 // visit for visit_id
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/4) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// fieldsOf returns the field names of a struct type under a tag (json or yaml), with the type
// of each; "-" and unexported fields are left out, embedded structs flattened.
func fieldsOf(t reflect.Type, tag string) map[string]reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]reflect.Type{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
		if f.Anonymous && name == "" {
			for k, v := range fieldsOf(f.Type, tag) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkShape reports every key of n that the Go type t (under tag) does not have, recursively
// through structs, slices and pointers; maps and interfaces take anything. Null values pass:
// in a step they remove a default.
func (l *errList) checkShape(n *yaml.Node, t reflect.Type, tag, where string) {
	n = resolve(n)
	if n == nil || n.ShortTag() == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if !l.want(n, yaml.MappingNode, where) {
			return
		}
		fields := fieldsOf(t, tag)
		for _, p := range l.pairs(n) {
			ft, ok := fields[p.key.Value]
			if !ok {
				l.unknownKey(p.key, where, keys(fields))
				continue
			}
			l.checkShape(p.val, ft, tag, where+"."+p.key.Value)
		}
	case reflect.Slice, reflect.Array:
		if !l.want(n, yaml.SequenceNode, where) {
			return
		}
		for i, item := range n.Content {
			l.checkShape(item, t.Elem(), tag, fmt.Sprintf("%s[%d]", where, i))
		}
	}
}

// DecodeStrict decodes n into v (a pointer to a struct tagged for yaml) and refuses what v does
// not define: every unknown key is an *Error with file, line and column. Commands use it for the
// parts of fixture files whose shape a Go type gives, such as the merchants of a seed file.
func DecodeStrict(file string, n *yaml.Node, v any) error {
	l := &errList{file: file}
	l.checkShape(n, reflect.TypeOf(v), "yaml", "this section")
	if err := l.err(); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			for _, msg := range te.Errors {
				line, rest := 0, msg
				if m := regexp.MustCompile(`^line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
					line, _ = strconv.Atoi(m[1])
					rest = m[2]
				}
				l.errs = append(l.errs, &Error{Pos: Pos{File: file, Line: line, Col: columnAt(n, line)}, Msg: rest})
			}
			return l.err()
		}
		return &Error{Pos: l.pos(n), Msg: err.Error()}
	}
	return nil
}

// columnAt returns the column of the first node of the tree on line, or 1.
func columnAt(n *yaml.Node, line int) int {
	if n == nil {
		return 1
	}
	if n.Line == line {
		return n.Column
	}
	for _, c := range n.Content {
		if col := columnAt(c, line); col != 1 || c.Line == line {
			return col
		}
	}
	return 1
}
