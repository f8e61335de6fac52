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

// config is the --config file: merchants beside the built-in demo merchant. It holds each
// merchant's certificate or public key, never its private key.
type config struct {
	Merchants []merchantConfig `yaml:"merchants"`
	// CORSOrigins are added to --cors-origin.
	CORSOrigins []string `yaml:"cors_origins"`
}

// loadedConfig is a config file, checked.
type loadedConfig struct {
	merchants   []*simulator.Merchant
	corsOrigins []string
}

type merchantConfig struct {
	MchID        string                     `yaml:"mchid"`
	AppIDs       []string                   `yaml:"appids"`
	ServiceIDs   []string                   `yaml:"service_ids"`
	APIv2Key     string                     `yaml:"api_v2_key"`
	APIv3Key     string                     `yaml:"api_v3_key"`
	Certificates []certificateConfig        `yaml:"certificates"`
	Settings     simulator.MerchantSettings `yaml:"settings"`
}

// certificateConfig names a merchant API certificate, or a bare public key with its serial.
// Each of Certificate and PublicKey is a PEM file's path (relative to the config file) or the
// PEM itself.
type certificateConfig struct {
	SerialNo    string `yaml:"serial_no"`
	Certificate string `yaml:"certificate"`
	PublicKey   string `yaml:"public_key"`
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
		m, err := mc.merchant(dir)
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

// merchant reads the merchant's PEM files (relative to dir) and checks it as a registration
// through the control API is checked.
func (mc merchantConfig) merchant(dir string) (*simulator.Merchant, error) {
	r := simulator.MerchantRegistration{
		MchID: mc.MchID, AppIDs: mc.AppIDs, ServiceIDs: mc.ServiceIDs,
		APIv2Key: mc.APIv2Key, APIv3Key: mc.APIv3Key, Settings: mc.Settings,
	}
	for j, cc := range mc.Certificates {
		k := simulator.MerchantKey{SerialNo: cc.SerialNo}
		var err error
		if cc.Certificate != "" {
			var b []byte
			b, err = readPEM(dir, cc.Certificate)
			k.Certificate = string(b)
		}
		if cc.PublicKey != "" && err == nil {
			var b []byte
			b, err = readPEM(dir, cc.PublicKey)
			k.PublicKey = string(b)
		}
		if err != nil {
			return nil, fmt.Errorf("certificates[%d]: %w", j, err)
		}
		r.Certificates = append(r.Certificates, k)
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
func readPEM(dir, v string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(dir, v)
	}
	b, err := readFileLimited(v, maxPEMBytes)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("%s holds no PEM block", v)
	}
	return b, nil
}
