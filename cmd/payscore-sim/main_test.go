package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
)

// startServe runs `payscore-sim serve args...` in the background and returns the URL it
// printed; the server stops when the test ends.
func startServe(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), pw, func(k string) string { return env[k] })
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read startup line: %v (serve: %v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:(\d+))`).FindStringSubmatch(line)
	if m == nil || m[2] == "0" {
		t.Fatalf("startup line %q does not name the real address", line)
	}
	return m[1]
}

func TestServePrintsRealPortAndIsHealthy(t *testing.T) {
	url := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", ":memory:")
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %s", resp.Status)
	}
	if err := run(context.Background(), []string{"healthcheck", "--addr", strings.TrimPrefix(url, "http://")}, io.Discard, os.Getenv); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}
}

func TestServeTakesEnvironmentAndCreatesDatabaseFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sim.db")
	startServe(t, map[string]string{"PAYSCORE_SIM_ADDR": "127.0.0.1:0", "PAYSCORE_SIM_DB": db})
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

func TestHealthcheckFailsWithoutServer(t *testing.T) {
	err := run(context.Background(), []string{"healthcheck", "--addr", "127.0.0.1:1"}, io.Discard, os.Getenv)
	if err == nil {
		t.Fatal("healthcheck succeeded with nothing listening")
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"serv"}, io.Discard, os.Getenv)
	if err == nil || !strings.Contains(err.Error(), `unknown command "serv"`) {
		t.Fatalf("err = %v", err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigAddsMerchants(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "other_test_cert.pem", string(fixtures.OtherMerchantCertPEM))
	cfg := writeFile(t, dir, "merchants.yaml", `
merchants:
  - mchid: "1900000001"
    appids: [wx1900000001test0]
    service_ids: ["500001"]
    api_v3_key: 0123456789abcdef0123456789abcdef
    certificates:
      - certificate: other_test_cert.pem
    settings:
      reject_cancel_after_complete: true
`)
	loaded, err := loadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	merchants := loaded.merchants
	if len(merchants) != 1 {
		t.Fatalf("got %d merchants", len(merchants))
	}
	m := merchants[0]
	if m.MchID != "1900000001" || !m.HasService("500001") || !m.Settings.RejectCancelAfterComplete {
		t.Fatalf("merchant = %+v", m)
	}
	if got := m.KeySerials(); len(got) != 1 || got[0] != "01E1BA53D6DFD8FE4530DCD9834EA6B530F5DF9E" {
		t.Fatalf("serials = %v", got)
	}

	url := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", ":memory:", "--config", cfg)
	resp, err := http.Get(url + "/sim/v1/merchants")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"mchid":"1900000001"`) || !strings.Contains(string(body), `"mchid":"1230000109"`) {
		t.Fatalf("/sim/v1/merchants = %s", body)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "not_pem.txt", "hello")
	writeFile(t, dir, "cert_test.pem", string(fixtures.OtherMerchantCertPEM))
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key with line", "merchants:\n  - mchid: \"1\"\n    appid: [x]\n", "line 3: field appid not found"},
		{"unknown deduction mode", "merchants:\n  - mchid: \"1\"\n    settings: {deduction: sometimes}\n", `deduction "sometimes" must be one of immediate, fail, on_pay`},
		{"short APIv3 key", "merchants:\n  - mchid: \"1\"\n    appids: [a]\n    service_ids: [s]\n    api_v3_key: short\n", "api_v3_key must be 32 bytes, is 5"},
		{"no certificate", "merchants:\n  - mchid: \"1\"\n    appids: [a]\n    service_ids: [s]\n    api_v3_key: 0123456789abcdef0123456789abcdef\n", "certificates needs at least one"},
		{"missing file", "merchants:\n  - mchid: \"1\"\n    appids: [a]\n    service_ids: [s]\n    api_v3_key: 0123456789abcdef0123456789abcdef\n    certificates: [{certificate: nope.pem}]\n", "nope.pem"},
		{"not PEM", "merchants:\n  - mchid: \"1\"\n    appids: [a]\n    service_ids: [s]\n    api_v3_key: 0123456789abcdef0123456789abcdef\n    certificates: [{certificate: not_pem.txt}]\n", "holds no PEM block"},
		{"public key without serial", "merchants:\n  - mchid: \"1\"\n    appids: [a]\n    service_ids: [s]\n    api_v3_key: 0123456789abcdef0123456789abcdef\n    certificates: [{public_key: cert_test.pem}]\n", "serial_no is required with public_key"},
		{"duplicate mchid", "merchants:\n" + strings.Repeat("  - {mchid: \"1\", appids: [a], service_ids: [s], api_v3_key: 0123456789abcdef0123456789abcdef, certificates: [{certificate: cert_test.pem}]}\n", 2), "mchid 1 appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(writeFile(t, dir, "c.yaml", tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if err := run(context.Background(), []string{"serve", "--config", filepath.Join(dir, "missing.yaml")}, io.Discard, os.Getenv); err == nil {
		t.Fatal("serve with a missing config file succeeded")
	}
}

func TestServeRequiresControlToken(t *testing.T) {
	url := startServe(t, map[string]string{"PAYSCORE_SIM_CONTROL_TOKEN": "TEST-token"}, "--addr", "127.0.0.1:0", "--db", ":memory:")
	resp, err := http.Get(url + "/sim/v1/orders")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("/sim/v1/orders without the token: %s", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/sim/v1/orders", nil)
	req.Header.Set("X-Payscore-Sim-Token", "TEST-token")
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/sim/v1/orders with the token: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:0": true, "[::1]:80": true, "0.0.0.0:8080": false, ":8080": false, "192.168.1.10:8080": false} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v", addr, got)
		}
	}
}
