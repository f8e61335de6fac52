// Package simtest starts a fresh simulator in-process for a test: in memory, on a free loopback
// port, closed when the test ends.
package simtest

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Sim is a running simulator.
type Sim struct {
	*app.App
	URL      string
	Creds    fixtures.Credentials
	Platform *wxcrypto.Platform
}

// Start starts a simulator with opts (the zero Options: in memory, demo merchant only) and
// closes it with t.Cleanup.
func Start(t testing.TB, opts app.Options) *Sim {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.NotifyClient == nil {
		opts.NotifyClient = LoopbackClient()
	}
	a, err := app.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("simtest: start simulator: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("simtest: close simulator: %v", err)
		}
	})
	return &Sim{App: a, URL: a.URL(), Creds: fixtures.DemoCredentials(), Platform: a.Server.Platform}
}

// DemoClient returns a client that signs as the demo merchant and verifies every response's
// signature in both modes.
func (s *Sim) DemoClient(t testing.TB) *client.Client {
	t.Helper()
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatalf("simtest: demo merchant key: %v", err)
	}
	return s.Client(t, fixtures.DemoMchID, fixtures.DemoMerchantSerial, key)
}

// Client returns a client that signs as the given merchant key.
func (s *Sim) Client(t testing.TB, mchid, serial string, key *rsa.PrivateKey) *client.Client {
	t.Helper()
	pub, err := wxcrypto.ParsePublicKey(fixtures.PublicKeyModePublicPEM)
	if err != nil {
		t.Fatalf("simtest: public key: %v", err)
	}
	return &client.Client{
		BaseURL: s.URL, MchID: mchid, Serial: serial, Key: key,
		Verify: map[string]*rsa.PublicKey{
			s.Platform.CertSerial:  s.Platform.Cert.PublicKey.(*rsa.PublicKey),
			s.Platform.PublicKeyID: pub,
		},
	}
}

// LoopbackClient returns an HTTP client that connects to loopback addresses only and ignores
// proxy settings: the notifications of in-process simulators reach the test's own endpoints and
// nothing else (the notify_urls of many tests name merchant.example.com).
func LoopbackClient() *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("simtest: refusing to connect to %s: tests deliver notifications to loopback addresses only", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}
