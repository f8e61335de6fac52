package scenario

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// File is a fixture file: one or more scenarios, and the merchants they act as beside the
// built-in demo and other merchants.
type File struct {
	Path      string
	Merchants map[string]*Merchant
	// Defaults are arguments every step of a kind starts from, under its own arguments.
	Defaults  map[string]map[string]any
	Scenarios []*Scenario
}

// Scenario is one story: steps run in order against a simulator.
type Scenario struct {
	File        *File
	Name        string
	Pos         Pos
	Description string
	// Merchant is the name (demo, other, or one of the file's merchants) the steps act as.
	Merchant string
	// Exclusive scenarios run alone against a shared simulator: they advance its clock.
	Exclusive bool
	// Skip, when set, is why the scenario is not run.
	Skip  string
	Steps []*Step
}

// Step is one action and what is expected of it.
type Step struct {
	Index int // 1-based
	Kind  string
	Pos   Pos
	// Arg is the step's argument: a mapping, a single value, or nil.
	Arg any
	// As names the merchant a merchant step acts as, when not the scenario's.
	As   string
	Note string
	// Eventually repeats a reading step until its expectations hold, for this long at most.
	Eventually time.Duration
	Expect     *Expect
	Capture    []Capture
}

func (s *Step) String() string {
	return fmt.Sprintf("step %d (%s, line %d)", s.Index, s.Kind, s.Pos.Line)
}

// Capture names a value of a step's response for later steps: ${Name}.
type Capture struct {
	Name string
	Path string
	Pos  Pos
}

// Merchant is a merchant a scenario may act as. The runner signs with its private key.
type Merchant struct {
	Name      string
	MchID     string
	AppID     string
	ServiceID string
	Serial    string
	Key       *rsa.PrivateKey
	APIv2Key  string
	APIv3Key  string
	// Settings, when set, are applied to an in-process simulator's copy of the merchant; a
	// scenario that needs them is skipped against a running simulator (--target).
	Settings *simulator.MerchantSettings
	Pos      Pos
}

// simMerchant is the merchant as a simulator knows it: the public half of its key.
func (m *Merchant) simMerchant() *simulator.Merchant {
	sm := &simulator.Merchant{
		MchID: m.MchID, AppIDs: []string{m.AppID}, ServiceIDs: []string{m.ServiceID},
		APIv2Key: m.APIv2Key, APIv3Key: m.APIv3Key,
		Keys: map[string]*rsa.PublicKey{m.Serial: &m.Key.PublicKey},
	}
	if m.Settings != nil {
		sm.Settings = *m.Settings
	}
	return sm
}

// builtinMerchants are the fixtures' demo and other merchants, whose private keys are published
// test keys.
func builtinMerchants() map[string]*Merchant {
	demoKey, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		panic("scenario: demo merchant key: " + err.Error())
	}
	otherKey, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		panic("scenario: other merchant key: " + err.Error())
	}
	return map[string]*Merchant{
		"demo": {Name: "demo", MchID: fixtures.DemoMchID, AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID,
			Serial: fixtures.DemoMerchantSerial, Key: demoKey, APIv2Key: fixtures.DemoAPIv2Key, APIv3Key: fixtures.DemoAPIv3Key},
		"other": {Name: "other", MchID: fixtures.OtherMchID, AppID: fixtures.OtherAppID, ServiceID: fixtures.OtherServiceID,
			Serial: fixtures.OtherMerchantSerial, Key: otherKey, APIv2Key: fixtures.OtherAPIv2Key, APIv3Key: fixtures.OtherAPIv3Key},
	}
}

// merchant finds a merchant by name or mchid.
func (f *File) merchant(name string) *Merchant {
	if m, ok := f.Merchants[name]; ok {
		return m
	}
	for _, m := range f.Merchants {
		if m.MchID == name {
			return m
		}
	}
	return nil
}

// Load reads the fixture files at paths: files, or folders whose *.yaml and *.yml files are read
// (recursively, in name order). Every problem of every file is reported, each with its place.
func Load(paths ...string) ([]*File, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no *.yaml fixture files", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	var out []*File
	var errs []error
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := Parse(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, f)
	}
	return out, errors.Join(errs...)
}

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

var merchantFields = []string{"base", "mchid", "appid", "service_id", "serial_no", "key_file", "api_v2_key", "api_v3_key", "settings"}

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
		m := &Merchant{Name: name, Pos: p.pos(pr.key)}
		fields := p.pairs(pr.val)
		// base comes first, wherever it is written: the other fields override it.
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
			copied.Name, copied.Pos = name, m.Pos
			m = &copied
		}
		var keyFile *yaml.Node
		for _, f := range fields {
			switch f.key.Value {
			case "base":
			case "mchid":
				m.MchID = p.str(f.val, "mchid")
			case "appid":
				m.AppID = p.str(f.val, "appid")
			case "service_id":
				m.ServiceID = p.str(f.val, "service_id")
			case "serial_no":
				m.Serial = strings.ToUpper(p.str(f.val, "serial_no"))
			case "key_file":
				keyFile = f.val
			case "api_v2_key":
				m.APIv2Key = p.str(f.val, "api_v2_key")
			case "api_v3_key":
				m.APIv3Key = p.str(f.val, "api_v3_key")
			case "settings":
				var s simulator.MerchantSettings
				if err := DecodeStrict(p.file, f.val, &s); err != nil {
					p.errs = append(p.errs, err)
					continue
				}
				m.Settings = &s
			default:
				p.unknownKey(f.key, "merchant "+name, merchantFields)
			}
		}
		if keyFile != nil {
			path := p.str(keyFile, "key_file")
			if !filepath.IsAbs(path) {
				path = filepath.Join(p.dir, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				p.add(keyFile, "key_file: %v", err)
			} else if m.Key, err = wxcrypto.ParsePrivateKey(b); err != nil {
				p.add(keyFile, "key_file %s: %v", path, err)
			}
		}
		for _, req := range []struct{ v, name string }{{m.MchID, "mchid"}, {m.AppID, "appid"}, {m.ServiceID, "service_id"}, {m.Serial, "serial_no"}, {m.APIv3Key, "api_v3_key"}} {
			if req.v == "" {
				p.add(pr.key, "merchant %s needs %s (or base: demo|other)", name, req.name)
			}
		}
		if m.Key == nil && keyFile == nil {
			p.add(pr.key, "merchant %s needs key_file, its private key (PEM), to sign requests (or base: demo|other)", name)
		}
		p.f.Merchants[name] = m
	}
}

// defaults reads per-kind default arguments.
func (p *parser) defaults(n *yaml.Node) {
	if !p.want(n, yaml.MappingNode, "defaults") {
		return
	}
	p.known = map[string]bool{}
	for _, pr := range p.pairs(n) {
		spec, ok := kinds[pr.key.Value]
		if !ok {
			p.unknownKind(pr.key)
			continue
		}
		if !spec.mapping || !p.want(pr.val, yaml.MappingNode, "defaults."+pr.key.Value) {
			if !spec.mapping {
				p.add(pr.key, "%s takes no mapping of arguments, so it has no defaults", pr.key.Value)
			}
			continue
		}
		p.checkArgs(spec, pr.key.Value, pr.val)
		p.f.Defaults[pr.key.Value] = p.value(pr.val).(map[string]any)
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
		switch pr.key.Value {
		case "name":
			sc.Name = p.str(pr.val, "name")
		case "description":
			sc.Description = p.str(pr.val, "description")
		case "merchant":
			name := p.str(pr.val, "merchant")
			if m := p.f.merchant(name); m != nil {
				sc.Merchant = m.Name
			} else {
				p.add(pr.val, "merchant %q is not demo, other or a merchant of this file's merchants: (the runner needs its private key)", name)
			}
		case "exclusive":
			if p.want(pr.val, yaml.ScalarNode, "exclusive") && pr.val.Decode(&sc.Exclusive) != nil {
				p.add(pr.val, "exclusive must be true or false")
			}
		case "skip":
			sc.Skip = p.str(pr.val, "skip")
		case "steps":
			steps = pr.val
		default:
			p.unknownKey(pr.key, "a scenario", scenarioFields)
		}
	}
	if sc.Name == "" {
		p.add(n, "a scenario needs a name that tells its story")
	} else if first, dup := p.seen[sc.Name]; dup {
		p.add(n, "another scenario of this file is named %q (line %d); names must tell scenarios apart", sc.Name, first.Line)
	} else {
		p.seen[sc.Name] = sc.Pos
	}
	if steps == nil {
		p.add(n, "a scenario needs steps")
	} else if p.want(steps, yaml.SequenceNode, "steps") {
		for _, s := range resolve(steps).Content {
			if st := p.step(s, len(sc.Steps)+1); st != nil {
				sc.Steps = append(sc.Steps, st)
				if st.Kind == "advance_clock" {
					sc.Exclusive = true
				}
			}
		}
		if len(sc.Steps) == 0 && len(resolve(steps).Content) == 0 {
			p.add(steps, "a scenario needs at least one step")
		}
	}
	p.f.Scenarios = append(p.f.Scenarios, sc)
}

// step reads one step: a bare kind (- confirm), or a mapping of one kind to its argument beside
// the common fields expect, capture, as and note.
func (p *parser) step(n *yaml.Node, index int) *Step {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		spec, ok := kinds[n.Value]
		if !ok {
			p.unknownKind(n)
			return nil
		}
		if spec.required {
			p.add(n, "%s needs an argument: %s", n.Value, spec.usage)
			return nil
		}
		return &Step{Index: index, Kind: n.Value, Pos: p.pos(n)}
	}
	if !p.want(n, yaml.MappingNode, "a step") {
		return nil
	}
	st := &Step{Index: index}
	var kindKey, arg, expect, capture, eventually *yaml.Node
	for _, pr := range p.pairs(n) {
		switch pr.key.Value {
		case "expect":
			expect = pr.val
		case "capture":
			capture = pr.val
		case "as":
			name := p.str(pr.val, "as")
			if m := p.f.merchant(name); m != nil {
				st.As = m.Name
			} else {
				p.add(pr.val, "as: %q is not demo, other or a merchant of this file's merchants:", name)
			}
		case "note":
			st.Note = p.str(pr.val, "note")
		case "eventually":
			d, err := parseDuration(p.str(pr.val, "eventually"))
			if err != nil {
				p.add(pr.val, "eventually: %v", err)
			}
			st.Eventually = d
			eventually = pr.key
		default:
			if _, ok := kinds[pr.key.Value]; !ok {
				p.unknownKind(pr.key)
				continue
			}
			if kindKey != nil {
				p.add(pr.key, "a step takes one action; this one has %s (line %d) and %s: make them two steps", kindKey.Value, kindKey.Line, pr.key.Value)
				continue
			}
			kindKey, arg = pr.key, pr.val
		}
	}
	if kindKey == nil {
		p.add(n, "this step has no action: start it with one of %s", strings.Join(keys(kinds), ", "))
		return nil
	}
	st.Kind, st.Pos = kindKey.Value, p.pos(kindKey)
	spec := kinds[st.Kind]
	st.Arg = p.arg(spec, st.Kind, arg)
	if eventually != nil && !spec.reads {
		p.add(eventually, "eventually repeats a step until its expectations hold, so it applies to steps that only read: query, query_permission, get_visit, get_order, raw GETs; not %s", st.Kind)
	}
	if st.As != "" && !spec.merchantStep {
		p.add(kindKey, "as: applies to the merchant's API calls, not to %s", st.Kind)
	}
	if expect != nil {
		if !spec.response {
			p.add(expect, "%s has no response to expect anything of", st.Kind)
		} else {
			st.Expect = p.expect(expect)
		}
	}
	if st.Kind == "expect_notification" {
		p.notificationResource(st, arg)
	}
	if capture != nil {
		if !spec.response {
			p.add(capture, "%s has no response to capture from", st.Kind)
		} else {
			st.Capture = p.captures(capture)
		}
	}
	return st
}

func (p *parser) unknownKind(n *yaml.Node) {
	hint := ""
	if c := closest(n.Value, keys(kinds)); c != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", c)
	}
	p.add(n, "unknown step %q%s; steps are: %s", n.Value, hint, strings.Join(keys(kinds), ", "))
}

// arg reads and checks a step's argument.
func (p *parser) arg(spec *kindSpec, kind string, n *yaml.Node) any {
	n = resolve(n)
	switch {
	case n == nil || n.ShortTag() == "!!null":
		if spec.required {
			p.add(n, "%s needs an argument: %s", kind, spec.usage)
		}
		return nil
	case n.Kind == yaml.ScalarNode:
		if spec.scalar == "" {
			p.add(n, "%s takes a mapping of fields, not a single value: %s", kind, spec.usage)
			return nil
		}
		v := p.value(n)
		if spec.check != nil {
			if err := spec.check(v); err != nil {
				p.add(n, "%s: %v", kind, err)
			}
		}
		if !spec.mapping {
			return v
		}
		return map[string]any{spec.scalar: v}
	case n.Kind == yaml.MappingNode:
		if !spec.mapping {
			p.add(n, "%s takes a single value, not a mapping: %s", kind, spec.usage)
			return nil
		}
		p.checkArgs(spec, kind, n)
		return p.value(n)
	default:
		p.add(n, "%s takes %s, not a list: %s", kind, map[bool]string{true: "a mapping of fields", false: "a single value"}[spec.mapping], spec.usage)
		return nil
	}
}

// checkArgs checks the fields of a mapping argument against the kind's fields, and the fields of
// an API body against the body's Go type.
func (p *parser) checkArgs(spec *kindSpec, kind string, n *yaml.Node) {
	known := append([]string(nil), spec.fields...)
	var body map[string]reflect.Type
	if spec.body != nil {
		body = fieldsOf(spec.body, "json")
		known = append(known, keys(body)...)
	}
	for _, pr := range p.pairs(n) {
		name := pr.key.Value
		if t, ok := body[name]; ok {
			p.checkShape(pr.val, t, "json", kind+"."+name)
			continue
		}
		if !contains(spec.fields, name) {
			p.unknownKey(pr.key, kind, known)
			continue
		}
		if check := spec.fieldCheck[name]; check != nil {
			if err := check(p.value(pr.val)); err != nil {
				p.add(pr.val, "%s.%s: %v", kind, name, err)
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
// resource.
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
