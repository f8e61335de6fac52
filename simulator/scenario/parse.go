package scenario

import (
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// parser reads one file.
type parser struct {
	errList
	dir  string
	f    *File
	seen map[string]Pos // scenario names
	// known are the names captured by the steps read so far in the current scenario.
	known map[string]bool
	// noRefs: strings are taken as they are (seed files have no ${...}).
	noRefs bool
}

// Parse reads a fixture file's content; path names it in errors and anchors key_file paths.
func Parse(path string, data []byte) (*File, error) {
	root, err := readYAML(path, data)
	if err != nil {
		return nil, err
	}
	p := &parser{errList: errList{file: path}, dir: filepath.Dir(path), seen: map[string]Pos{}}
	p.f = &File{Path: path, Merchants: builtinMerchants(), Defaults: map[string]map[string]any{}}
	if !p.want(root, yaml.MappingNode, "a fixture file") {
		return nil, p.err()
	}
	var scenarios *yaml.Node
	for _, pr := range p.pairs(root) {
		switch pr.key.Value {
		case "merchants":
			p.merchants(pr.val)
		case "defaults":
			p.defaults(pr.val)
		case "scenarios":
			scenarios = pr.val
		default:
			p.unknownKey(pr.key, "a fixture file", []string{"merchants", "defaults", "scenarios"})
		}
	}
	if scenarios == nil {
		p.add(root, "a fixture file needs scenarios: a list of scenarios")
	} else if p.want(scenarios, yaml.SequenceNode, "scenarios") {
		for _, n := range resolve(scenarios).Content {
			p.scenario(n)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return p.f, nil
}

var merchantKeys = []string{"base", "mchid", "appid", "service_id", "serial_no", "key_file", "api_v2_key", "api_v3_key", "settings"}

// merchants reads the file's merchants: name → what the runner needs to act as it.
func (p *parser) merchants(n *yaml.Node) {
	if !p.want(n, yaml.MappingNode, "merchants") {
		return
	}
	for _, pr := range p.pairs(n) {
		name := pr.key.Value
		if name == "demo" || name == "other" {
			p.add(pr.key, "%q is a built-in merchant; give this one another name (it may say base: %s)", name, name)
			continue
		}
		if !p.want(pr.val, yaml.MappingNode, "merchant "+name) {
			continue
		}
		fields := p.pairs(pr.val)
		m := p.merchantBase(name, p.pos(pr.key), fields)
		keyFile := p.setMerchantFields(m, fields)
		if keyFile != nil {
			m.Key = p.keyFile(keyFile)
		}
		p.checkMerchant(pr.key, m, keyFile != nil)
		p.f.Merchants[name] = m
	}
}

// merchantBase starts a merchant from its base (demo or other), wherever base is written: the
// other fields override it.
func (p *parser) merchantBase(name string, pos Pos, fields []pair) *Merchant {
	m := &Merchant{Name: name, Pos: pos}
	for _, f := range fields {
		if f.key.Value != "base" {
			continue
		}
		base := p.f.Merchants[p.str(f.val, "base")]
		if base == nil || (base.Name != "demo" && base.Name != "other") {
			p.add(f.val, "base must be demo or other")
			continue
		}
		copied := *base
		copied.Name, copied.Pos = name, pos
		m = &copied
	}
	return m
}

// setMerchantFields sets m's fields; it returns the key_file node, read once the fields are known.
func (p *parser) setMerchantFields(m *Merchant, fields []pair) (keyFile *yaml.Node) {
	strs := map[string]*string{
		"mchid": &m.MchID, "appid": &m.AppID, "service_id": &m.ServiceID, "serial_no": &m.Serial,
		"api_v2_key": &m.APIv2Key, "api_v3_key": &m.APIv3Key,
	}
	for _, f := range fields {
		if s, ok := strs[f.key.Value]; ok {
			*s = p.str(f.val, f.key.Value)
			continue
		}
		switch f.key.Value {
		case "base":
		case "key_file":
			keyFile = f.val
		case "settings":
			var s simulator.MerchantSettings
			if err := DecodeStrict(p.file, f.val, &s); err != nil {
				p.errs = append(p.errs, err)
				continue
			}
			m.Settings = &s
		default:
			p.unknownKey(f.key, "merchant "+m.Name, merchantKeys)
		}
	}
	// Serial numbers are hex; production writes them in upper case, and so do the signatures.
	m.Serial = strings.ToUpper(m.Serial)
	return keyFile
}

// keyFile reads a merchant's private key, relative to the fixture file.
func (p *parser) keyFile(n *yaml.Node) *rsa.PrivateKey {
	path := p.str(n, "key_file")
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		p.add(n, "key_file: %v", err)
		return nil
	}
	key, err := wxcrypto.ParsePrivateKey(b)
	if err != nil {
		p.add(n, "key_file %s: %v", path, err)
	}
	return key
}

// checkMerchant reports what a merchant lacks to be acted as.
func (p *parser) checkMerchant(at *yaml.Node, m *Merchant, hasKeyFile bool) {
	for _, req := range []struct{ v, name string }{{m.MchID, "mchid"}, {m.AppID, "appid"}, {m.ServiceID, "service_id"}, {m.Serial, "serial_no"}, {m.APIv3Key, "api_v3_key"}} {
		if req.v == "" {
			p.add(at, "merchant %s needs %s (or base: demo|other)", m.Name, req.name)
		}
	}
	if m.Key == nil && !hasKeyFile {
		p.add(at, "merchant %s needs key_file, its private key (PEM), to sign requests (or base: demo|other)", m.Name)
	}
}

// defaults reads per-kind default arguments.
func (p *parser) defaults(n *yaml.Node) {
	if !p.want(n, yaml.MappingNode, "defaults") {
		return
	}
	p.known = map[string]bool{}
	for _, pr := range p.pairs(n) {
		k, ok := lookupKind(pr.key.Value)
		if !ok {
			p.unknownKind(pr.key)
			continue
		}
		if !k.arg.mapping {
			p.add(pr.key, "%s takes no mapping of arguments, so it has no defaults", k.name)
			continue
		}
		if !p.want(pr.val, yaml.MappingNode, "defaults."+k.name) {
			continue
		}
		p.checkArgs(k, pr.val)
		p.f.Defaults[k.name] = p.value(pr.val).(map[string]any)
	}
}

var scenarioFields = []string{"name", "description", "merchant", "exclusive", "skip", "steps"}

func (p *parser) scenario(n *yaml.Node) {
	if !p.want(n, yaml.MappingNode, "a scenario") {
		return
	}
	sc := &Scenario{File: p.f, Pos: p.pos(n), Merchant: "demo"}
	p.known = map[string]bool{}
	var steps *yaml.Node
	for _, pr := range p.pairs(n) {
		if pr.key.Value == "steps" {
			steps = pr.val
			continue
		}
		p.scenarioField(sc, pr)
	}
	p.scenarioName(n, sc)
	if steps == nil {
		p.add(n, "a scenario needs steps")
	} else {
		p.steps(sc, steps)
	}
	p.f.Scenarios = append(p.f.Scenarios, sc)
}

// scenarioField reads one of a scenario's fields but its steps.
func (p *parser) scenarioField(sc *Scenario, pr pair) {
	switch pr.key.Value {
	case "name":
		sc.Name = p.str(pr.val, "name")
	case "description":
		sc.Description = p.str(pr.val, "description")
	case "merchant":
		if name := p.merchantName(pr.val, "merchant"); name != "" {
			sc.Merchant = name
		}
	case "exclusive":
		if p.want(pr.val, yaml.ScalarNode, "exclusive") && pr.val.Decode(&sc.Exclusive) != nil {
			p.add(pr.val, "exclusive must be true or false")
		}
	case "skip":
		sc.Skip = p.str(pr.val, "skip")
	default:
		p.unknownKey(pr.key, "a scenario", scenarioFields)
	}
}

// merchantName reads a merchant: or as: field, which must name (or give the mchid of) a merchant
// whose private key the runner has, to sign as it; "" when it does not.
func (p *parser) merchantName(n *yaml.Node, field string) string {
	name := p.str(n, field)
	if m := p.f.merchant(name); m != nil {
		return m.Name
	}
	p.add(n, "%s %q is not demo, other or a merchant of this file's merchants: (the runner needs its private key)", field, name)
	return ""
}

// scenarioName checks that the scenario has a name of its own: reports and JUnit tell scenarios
// apart by it.
func (p *parser) scenarioName(n *yaml.Node, sc *Scenario) {
	if sc.Name == "" {
		p.add(n, "a scenario needs a name that tells its story")
	} else if first, dup := p.seen[sc.Name]; dup {
		p.add(n, "another scenario of this file is named %q (line %d); names must tell scenarios apart", sc.Name, first.Line)
	} else {
		p.seen[sc.Name] = sc.Pos
	}
}

func (p *parser) steps(sc *Scenario, n *yaml.Node) {
	if !p.want(n, yaml.SequenceNode, "steps") {
		return
	}
	items := resolve(n).Content
	if len(items) == 0 {
		p.add(n, "a scenario needs at least one step")
	}
	for _, s := range items {
		st := p.step(s, len(sc.Steps)+1)
		if st == nil {
			continue
		}
		sc.Steps = append(sc.Steps, st)
		// Moving the clock of the merchants a run shares would surprise every scenario of the
		// run playing beside it.
		if st.Kind == "advance_clock" {
			sc.Exclusive = true
		}
	}
}

// stepNodes are the parts of a step mapping: its action and the common fields.
type stepNodes struct {
	kindKey, arg, expect, capture, eventually *yaml.Node
}

// step reads one step: a bare kind (- confirm), or a mapping of one kind to its argument beside
// the common fields expect, capture, as, note and eventually.
func (p *parser) step(n *yaml.Node, index int) *Step {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		return p.bareStep(n, index)
	}
	if !p.want(n, yaml.MappingNode, "a step") {
		return nil
	}
	st := &Step{Index: index}
	parts := p.stepParts(st, n)
	if parts.kindKey == nil {
		p.add(n, "this step has no action: start it with one of %s", strings.Join(kindNames(), ", "))
		return nil
	}
	k, _ := lookupKind(parts.kindKey.Value)
	st.Kind, st.Pos = k.name, p.pos(parts.kindKey)
	st.Arg = p.arg(k, parts.arg)
	p.stepOptions(k, st, parts)
	return st
}

func (p *parser) bareStep(n *yaml.Node, index int) *Step {
	k, ok := lookupKind(n.Value)
	if !ok {
		p.unknownKind(n)
		return nil
	}
	if k.arg.required {
		p.add(n, "%s needs an argument: %s", k.name, k.usage)
		return nil
	}
	return &Step{Index: index, Kind: k.name, Pos: p.pos(n)}
}

// stepParts sorts a step mapping's keys into its action and common fields, and reads as, note
// and eventually, which need no knowledge of the action.
func (p *parser) stepParts(st *Step, n *yaml.Node) stepNodes {
	var s stepNodes
	for _, pr := range p.pairs(n) {
		switch pr.key.Value {
		case "expect":
			s.expect = pr.val
		case "capture":
			s.capture = pr.val
		case "as":
			st.As = p.merchantName(pr.val, "as:")
		case "note":
			st.Note = p.str(pr.val, "note")
		case "eventually":
			d, err := parseDuration(p.str(pr.val, "eventually"))
			if err != nil {
				p.add(pr.val, "eventually: %v", err)
			}
			st.Eventually, s.eventually = d, pr.key
		default:
			p.stepAction(&s, pr)
		}
	}
	return s
}

// stepAction takes a key that must be the step's one action.
func (p *parser) stepAction(s *stepNodes, pr pair) {
	if _, ok := lookupKind(pr.key.Value); !ok {
		p.unknownKind(pr.key)
		return
	}
	if s.kindKey != nil {
		p.add(pr.key, "a step takes one action; this one has %s (line %d) and %s: make them two steps", s.kindKey.Value, s.kindKey.Line, pr.key.Value)
		return
	}
	s.kindKey, s.arg = pr.key, pr.val
}

// stepOptions checks that the common fields a step has apply to its kind, and reads them.
func (p *parser) stepOptions(k *kind, st *Step, s stepNodes) {
	if s.eventually != nil && !k.reads {
		p.add(s.eventually, "eventually repeats a step until its expectations hold, so it applies to steps that only read: query, query_permission, get_visit, get_order, raw GETs; not %s", k.name)
	}
	if st.As != "" && !k.merchant {
		p.add(s.kindKey, "as: applies to the merchant's API calls, not to %s", k.name)
	}
	if s.expect != nil {
		if !k.response {
			p.add(s.expect, "%s has no response to expect anything of", k.name)
		} else {
			st.Expect = p.expect(s.expect)
		}
	}
	if k.name == "expect_notification" {
		p.notificationResource(st, s.arg)
	}
	if s.capture != nil {
		if !k.response {
			p.add(s.capture, "%s has no response to capture from", k.name)
		} else {
			st.Capture = p.captures(s.capture)
		}
	}
}

func (p *parser) unknownKind(n *yaml.Node) {
	names := kindNames()
	hint := ""
	if c := closest(n.Value, names); c != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", c)
	}
	p.add(n, "unknown step %q%s; steps are: %s", n.Value, hint, strings.Join(names, ", "))
}

// arg reads and checks a step's argument against its kind's shape.
func (p *parser) arg(k *kind, n *yaml.Node) any {
	n = resolve(n)
	a := k.arg
	switch {
	case n == nil || n.ShortTag() == "!!null":
		if a.required {
			p.add(n, "%s needs an argument: %s", k.name, k.usage)
		}
		return nil
	case n.Kind == yaml.ScalarNode:
		return p.scalarArg(k, n)
	case n.Kind == yaml.MappingNode:
		if !a.mapping {
			p.add(n, "%s takes a single value, not a mapping: %s", k.name, k.usage)
			return nil
		}
		p.checkArgs(k, n)
		return p.value(n)
	case a.mapping:
		p.add(n, "%s takes a mapping of fields, not a list: %s", k.name, k.usage)
	default:
		p.add(n, "%s takes a single value, not a list: %s", k.name, k.usage)
	}
	return nil
}

// scalarArg reads a single value: the whole argument, or the one field it stands for.
func (p *parser) scalarArg(k *kind, n *yaml.Node) any {
	a := k.arg
	if a.scalar == "" {
		p.add(n, "%s takes a mapping of fields, not a single value: %s", k.name, k.usage)
		return nil
	}
	v := p.value(n)
	if check := a.checks[a.scalar]; check != nil {
		if err := check(v); err != nil {
			p.add(n, "%s: %v", k.name, err)
		}
	}
	if !a.mapping {
		return v
	}
	return map[string]any{a.scalar: v}
}

// checkArgs checks the fields of a mapping argument against the kind's fields, and the fields of
// an API body against the body's Go type.
func (p *parser) checkArgs(k *kind, n *yaml.Node) {
	known := append([]string(nil), k.arg.fields...)
	body := k.arg.bodyFields()
	known = append(known, keys(body)...)
	for _, pr := range p.pairs(n) {
		name := pr.key.Value
		if t, ok := body[name]; ok {
			p.checkShape(pr.val, t, "json", k.name+"."+name)
			continue
		}
		if !contains(k.arg.fields, name) {
			p.unknownKey(pr.key, k.name, known)
			continue
		}
		if check := k.arg.checks[name]; check != nil {
			if err := check(p.value(pr.val)); err != nil {
				p.add(pr.val, "%s.%s: %v", k.name, name, err)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) captures(n *yaml.Node) []Capture {
	if !p.want(n, yaml.MappingNode, "capture") {
		return nil
	}
	var out []Capture
	for _, pr := range p.pairs(n) {
		name := pr.key.Value
		if !refPattern.MatchString(name) || strings.ContainsAny(name, "+-") {
			p.add(pr.key, "capture name %q must be letters, digits and _", name)
			continue
		}
		if builtins[name] {
			p.add(pr.key, "%q is a built-in name; capture under another name", name)
			continue
		}
		path := p.str(pr.val, "capture."+name)
		out = append(out, Capture{Name: name, Path: path, Pos: p.pos(pr.val)})
		p.known[name] = true
	}
	return out
}

// notificationResource turns expect_notification's resource: {...} into checks of the decrypted
// resource: it is what the merchant reads, so it reads like an expectation.
func (p *parser) notificationResource(st *Step, arg *yaml.Node) {
	am, _ := st.Arg.(map[string]any)
	if am == nil {
		return
	}
	delete(am, "resource")
	for _, pr := range p.pairs(arg) {
		if pr.key.Value != "resource" || !p.want(pr.val, yaml.MappingNode, "expect_notification.resource") {
			continue
		}
		if st.Expect == nil {
			st.Expect = &Expect{Pos: p.pos(pr.key)}
		}
		st.Expect.Checks = append(st.Expect.Checks, Check{Pos: p.pos(pr.key), Path: "resource", M: p.matcher(pr.val)})
	}
}
