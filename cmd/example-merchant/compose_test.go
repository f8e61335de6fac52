package main

import (
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// The example-merchant service of docker-compose.yml, read by the program's own flag parsing:
// it listens on all interfaces, reaches the simulator by its service name and port, and gives
// the simulator a notify_url that reaches it back; its healthcheck asks its own port.
func TestComposeExampleMerchantEnvironment(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("payscore-sim", true) })
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	svc, ok := p.Services["example-merchant"]
	if !ok {
		t.Fatal("docker-compose.yml has no example-merchant service")
	}
	sim := p.Services["payscore-sim"]
	getenv := func(s types.ServiceConfig) func(string) string {
		return func(k string) string {
			if v := s.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
	}
	o, err := parseOptions(nil, getenv(svc))
	if err != nil {
		t.Fatalf("the service's environment: %v", err)
	}

	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil || host != "0.0.0.0" {
		t.Errorf("listen address %q: inside a container it must listen on all interfaces (0.0.0.0)", o.Addr)
	}
	_, simPort, err := net.SplitHostPort(getenv(sim)("PAYSCORE_SIM_ADDR"))
	if err != nil {
		t.Fatalf("payscore-sim's PAYSCORE_SIM_ADDR: %v", err)
	}
	if u, err := url.Parse(o.SimulatorURL); err != nil || u.Scheme != "http" || u.Hostname() != sim.Name || u.Port() != simPort {
		t.Errorf("simulator URL %q, want http://%s:%s", o.SimulatorURL, sim.Name, simPort)
	}
	if u, err := url.Parse(o.PublicURL); err != nil || u.Scheme != "http" || u.Hostname() != svc.Name || u.Port() != port {
		t.Errorf("public URL %q, want http://%s:%s: the simulator sends notifications there", o.PublicURL, svc.Name, port)
	}
	if want := (types.HealthCheckTest{"CMD", "payscore-sim", "healthcheck", "--addr", "127.0.0.1:" + port}); svc.HealthCheck == nil || !slices.Equal(svc.HealthCheck.Test, want) {
		t.Errorf("healthcheck %+v, want %q", svc.HealthCheck, want)
	}

	// What that healthcheck asks: GET /healthz answers 200 once the merchant is connected.
	s := simtest.Start(t, app.Options{})
	merchant := startMerchant(t, s.URL)
	resp, err := http.Get(merchant + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: HTTP %d", resp.StatusCode)
	}
}

// Listening on all interfaces needs a public URL: the simulator could not reach 0.0.0.0.
func TestExampleMerchantNeedsPublicURLOnAllInterfaces(t *testing.T) {
	env := map[string]string{"EXAMPLE_MERCHANT_ADDR": "0.0.0.0:8081"}
	if _, err := parseOptions(nil, func(k string) string { return env[k] }); err == nil {
		t.Error("0.0.0.0 without a public URL was accepted")
	}
	o, err := parseOptions([]string{"--addr", "127.0.0.1:9000"}, func(string) string { return "" })
	if err != nil || o.PublicURL != "http://127.0.0.1:9000" {
		t.Errorf("public URL by default: %q, %v; want http://127.0.0.1:9000", o.PublicURL, err)
	}
}
