package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// config is the --config file: merchants beside the built-in demo merchant, as a registration
// through the control API gives them. It holds each merchant's certificate or public key, never
// its private key; each may be a PEM file's path (relative to the config file) or the PEM itself.
type config struct {
	Merchants []simulator.MerchantRegistration `yaml:"merchants"`
	// CORSOrigins are added to --cors-origin.
	CORSOrigins []string `yaml:"cors_origins"`
}

// loadedConfig is a config file, checked.
type loadedConfig struct {
	merchants   []*simulator.Merchant
	corsOrigins []string
}

// loadConfig reads and checks the config file at path. Unknown keys are errors, with their line,
// so a typo never silently drops a setting.
func loadConfig(path string) (*loadedConfig, error) {
	data, err := readFileLimited(path, maxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg config
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	seen := map[string]bool{}
	var merchants []*simulator.Merchant
	for i, mc := range cfg.Merchants {
		m, err := merchantOf(mc, dir)
		if err != nil {
			return nil, fmt.Errorf("config %s: merchants[%d] (mchid %q): %w", path, i, mc.MchID, err)
		}
		if seen[m.MchID] {
			return nil, fmt.Errorf("config %s: merchants[%d]: mchid %s appears twice", path, i, m.MchID)
		}
		seen[m.MchID] = true
		merchants = append(merchants, m)
	}
	return &loadedConfig{merchants, cfg.CORSOrigins}, nil
}

// merchantOf reads the registration's PEM files (relative to dir) and checks it as a
// registration through the control API is checked.
func merchantOf(r simulator.MerchantRegistration, dir string) (*simulator.Merchant, error) {
	keys := r.Certificates
	r.Certificates = make([]simulator.MerchantKey, len(keys))
	for j, k := range keys {
		var err error
		if k.Certificate != "" {
			k.Certificate, err = readPEM(dir, k.Certificate)
		}
		if k.PublicKey != "" && err == nil {
			k.PublicKey, err = readPEM(dir, k.PublicKey)
		}
		if err != nil {
			return nil, fmt.Errorf("certificates[%d]: %w", j, err)
		}
		r.Certificates[j] = k
	}
	m, err := r.Merchant()
	var e *simulator.Error
	if errors.As(err, &e) {
		// The file's reader wants the rule, not the control API's WeChat-shaped wording.
		return nil, fmt.Errorf("%v %v", e.Detail["field"], e.Detail["issue"])
	}
	return m, err
}

// readPEM returns v itself when it is PEM, else the file it names.
func readPEM(dir, v string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return v, nil
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(dir, v)
	}
	b, err := readFileLimited(v, maxPEMBytes)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return "", fmt.Errorf("%s holds no PEM block", v)
	}
	return string(b), nil
}
