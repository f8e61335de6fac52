package main

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
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

func (mc merchantConfig) merchant(dir string) (*simulator.Merchant, error) {
	switch {
	case mc.MchID == "":
		return nil, errors.New("mchid is required")
	case len(mc.AppIDs) == 0:
		return nil, errors.New("appids needs at least one appid")
	case len(mc.ServiceIDs) == 0:
		return nil, errors.New("service_ids needs at least one service_id")
	case len(mc.APIv3Key) != 32:
		return nil, fmt.Errorf("api_v3_key must be 32 bytes, is %d", len(mc.APIv3Key))
	case mc.APIv2Key != "" && len(mc.APIv2Key) != 32:
		return nil, fmt.Errorf("api_v2_key must be 32 bytes, is %d", len(mc.APIv2Key))
	case len(mc.Certificates) == 0:
		return nil, errors.New("certificates needs at least one merchant certificate or public key")
	}
	m := &simulator.Merchant{
		MchID: mc.MchID, AppIDs: mc.AppIDs, ServiceIDs: mc.ServiceIDs,
		APIv2Key: mc.APIv2Key, APIv3Key: mc.APIv3Key,
		Keys: map[string]*rsa.PublicKey{}, Settings: mc.Settings,
	}
	for j, cc := range mc.Certificates {
		serial, key, err := cc.key(dir)
		if err != nil {
			return nil, fmt.Errorf("certificates[%d]: %w", j, err)
		}
		m.Keys[serial] = key
	}
	return m, nil
}

func (cc certificateConfig) key(dir string) (serial string, key *rsa.PublicKey, err error) {
	switch {
	case cc.Certificate != "" && cc.PublicKey != "":
		return "", nil, errors.New("give certificate or public_key, not both")
	case cc.Certificate != "":
		b, err := readPEM(dir, cc.Certificate)
		if err != nil {
			return "", nil, err
		}
		cert, err := wxcrypto.ParseCertificate(b)
		if err != nil {
			return "", nil, err
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return "", nil, errors.New("certificate: the key is not RSA")
		}
		serial = wxcrypto.CertificateSerial(cert)
		if cc.SerialNo != "" && !strings.EqualFold(cc.SerialNo, serial) {
			return "", nil, fmt.Errorf("serial_no %s does not match the certificate's serial %s", cc.SerialNo, serial)
		}
		return serial, pub, nil
	case cc.PublicKey != "":
		if cc.SerialNo == "" {
			return "", nil, errors.New("serial_no is required with public_key")
		}
		b, err := readPEM(dir, cc.PublicKey)
		if err != nil {
			return "", nil, err
		}
		pub, err := wxcrypto.ParsePublicKey(b)
		return strings.ToUpper(cc.SerialNo), pub, err
	default:
		return "", nil, errors.New("certificate or public_key is required")
	}
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
