package scenario

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

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
	// Exclusive scenarios run alone among the scenarios of a run against a shared simulator:
	// they advance the clock of the merchants the run shares.
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
	// Arg is the step's argument as written: a mapping, a single value, or nil. Its strings may
	// hold ${...}, expanded when the step runs.
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
// test keys. They are made afresh for each file, because a file's merchants may be based on them.
func builtinMerchants() map[string]*Merchant {
	return map[string]*Merchant{
		"demo": {Name: "demo", MchID: fixtures.DemoMchID, AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID,
			Serial: fixtures.DemoMerchantSerial, Key: mustKey(fixtures.DemoMerchantKeyPEM), APIv2Key: fixtures.DemoAPIv2Key, APIv3Key: fixtures.DemoAPIv3Key},
		"other": {Name: "other", MchID: fixtures.OtherMchID, AppID: fixtures.OtherAppID, ServiceID: fixtures.OtherServiceID,
			Serial: fixtures.OtherMerchantSerial, Key: mustKey(fixtures.OtherMerchantKeyPEM), APIv2Key: fixtures.OtherAPIv2Key, APIv3Key: fixtures.OtherAPIv3Key},
	}
}

// mustKey parses a key compiled into the binary: a failure is a broken build, not an input.
func mustKey(pem []byte) *rsa.PrivateKey {
	k, err := wxcrypto.ParsePrivateKey(pem)
	if err != nil {
		panic("scenario: built-in merchant key: " + err.Error())
	}
	return k
}

// Demo is the built-in demo merchant, whose credentials every simulator serves.
func Demo() *Merchant { return builtinMerchants()["demo"] }

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

// UsedMerchants returns the merchants the scenario acts as, in name order.
func (sc *Scenario) UsedMerchants() []*Merchant {
	names := map[string]bool{sc.Merchant: true}
	for _, st := range sc.Steps {
		if st.As != "" {
			names[st.As] = true
		}
	}
	var out []*Merchant
	for _, n := range keys(names) {
		out = append(out, sc.File.Merchants[n])
	}
	return out
}

// SimMerchants are the merchants an in-process simulator for the scenario serves beside the
// demo one: the other merchant, the file's own merchants, and the copies with settings the
// scenario acts as.
func (sc *Scenario) SimMerchants() []*simulator.Merchant {
	byMchID := map[string]*simulator.Merchant{}
	for _, n := range keys(sc.File.Merchants) {
		m := sc.File.Merchants[n]
		// The demo merchant is served already; a file merchant based on a built-in one with
		// the same mchid is served only when a scenario needs its settings (below).
		if n == "other" || (n != "demo" && m.MchID != fixtures.DemoMchID && m.MchID != fixtures.OtherMchID) {
			byMchID[m.MchID] = m.simMerchant()
		}
	}
	for _, m := range sc.UsedMerchants() {
		if m.Settings != nil {
			byMchID[m.MchID] = m.simMerchant()
		}
	}
	out := make([]*simulator.Merchant, 0, len(byMchID))
	for _, id := range keys(byMchID) {
		out = append(out, byMchID[id])
	}
	return out
}

// ServedMerchants are the merchants a simulator serves for the scenario: the demo merchant,
// and SimMerchants beside it (the scenario's copy of the demo merchant, with its settings,
// when it has one).
func (sc *Scenario) ServedMerchants() []*simulator.Merchant {
	served := sc.SimMerchants()
	for _, m := range served {
		if m.MchID == fixtures.DemoMchID {
			return served
		}
	}
	return append([]*simulator.Merchant{builtinMerchants()["demo"].simMerchant()}, served...)
}

// WithMchIDs returns a copy of the scenario whose merchants act under other mchids: ids maps
// a merchant's mchid to the one it takes. The runner plays a scenario against a shared
// simulator so, as merchants of its own run.
func (sc *Scenario) WithMchIDs(ids map[string]string) *Scenario {
	f := *sc.File
	f.Merchants = make(map[string]*Merchant, len(sc.File.Merchants))
	for name, m := range sc.File.Merchants {
		if id, ok := ids[m.MchID]; ok {
			renamed := *m
			renamed.MchID = id
			m = &renamed
		}
		f.Merchants[name] = m
	}
	c := *sc
	c.File = &f
	return &c
}

// Load reads the fixture files at paths: files, or folders whose *.yaml and *.yml files are read
// (recursively, in name order). Every problem of every file is reported, each with its place.
//
// A folder may hold seed files too (fixtures/ holds fixtures/seed beside fixtures/scenarios):
// those are skipped, and notes say so, rather than reported as broken scenario files. A seed
// file named on its own is an error that says what it is.
func Load(paths ...string) (files []*File, notes []string, err error) {
	var errs []error
	for _, p := range paths {
		found, explicit, err := fixtureFiles(p)
		if err != nil {
			return nil, nil, err
		}
		before := len(files)
		for _, path := range found {
			f, note, err := loadFile(path, explicit)
			switch {
			case err != nil:
				errs = append(errs, err)
			case note != "":
				notes = append(notes, note)
			default:
				files = append(files, f)
			}
		}
		if !explicit && len(files) == before && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s holds no scenario files, only seed files (for serve --seed); the scenario library is fixtures/scenarios", p))
		}
	}
	return files, notes, errors.Join(errs...)
}

// fixtureFiles lists the YAML files p names: p itself (explicit), or those under the folder p.
func fixtureFiles(p string) (found []string, explicit bool, err error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, false, err
	}
	if !info.IsDir() {
		return []string{p}, true, nil
	}
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
		return nil, false, err
	}
	if len(found) == 0 {
		return nil, false, fmt.Errorf("%s holds no *.yaml fixture files", p)
	}
	sort.Strings(found)
	return found, false, nil
}

// loadFile parses one file. A seed file is a note when a folder was walked, an error when the
// file was named.
func loadFile(path string, explicit bool) (*File, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	if isSeed(data) {
		if explicit {
			return nil, "", fmt.Errorf("%s is a seed file (payscore-sim serve --seed %s), not a scenario file; the scenario library is fixtures/scenarios", path, path)
		}
		return nil, Escape(fmt.Sprintf("skipped %s: a seed file (for serve --seed), not scenarios", path)), nil
	}
	f, err := Parse(path, data)
	return f, "", err
}
