package run

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	simhttp "github.com/payscore-sim/payscore-sim/simulator/http"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// world is where a run's scenarios play: a target simulator, or fresh in-process ones.
type world struct {
	target string
	hc     *http.Client
	rcv    *scenario.Receiver
	logger *slog.Logger
	// fresh are the merchants of the run's own on the target (see freshMerchant).
	fresh freshMerchants
}

// simulator is the scenario to play, the base URL of the simulator it plays against, and what
// closes that simulator when it is done: on the target, sc as the run's own merchants; else sc
// itself on a fresh in-process simulator serving its merchants.
func (w *world) simulator(ctx context.Context, sc *scenario.Scenario) (play *scenario.Scenario, base string, closeSim func() error, err error) {
	if w.target != "" {
		play, err := w.fresh.scenario(ctx, w, sc)
		return play, w.target, func() error { return nil }, err
	}
	logger := w.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	notifyClient := httpClient(true, "")
	a, err := app.Open(ctx, app.Options{
		Addr: "127.0.0.1:0", DB: ":memory:", Merchants: sc.SimMerchants(), Logger: logger,
		NotifySchedule: simulator.FastSchedule, NotifyClient: notifyClient,
	})
	if err != nil {
		return nil, "", nil, fmt.Errorf("start an in-process simulator: %w", err)
	}
	closeSim = func() error {
		defer notifyClient.CloseIdleConnections()
		// Its own deadline: the scenario's may have passed.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(cctx); err != nil {
			return fmt.Errorf("close the in-process simulator: %w", err)
		}
		return nil
	}
	return sc, a.URL(), closeSim, nil
}

// httpClient connects directly, never through a proxy; for in-process simulators it reaches
// loopback addresses only. A token goes with every request (tokenTransport).
func httpClient(loopbackOnly bool, token string) *http.Client {
	var d net.Dialer
	t := &http.Transport{Proxy: nil, DialContext: d.DialContext, MaxIdleConns: 100, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	if loopbackOnly {
		t.DialContext = loopbackDial
	}
	var rt http.RoundTripper = t
	if token != "" {
		rt = tokenTransport{token: token, next: t}
	}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}
}

// tokenTransport sends the target's control token (serve --control-token), which its control
// API, pages and dashboard require; the APIv3 ignores it. A request that sets the header
// itself (a raw step) keeps its own.
type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get(simhttp.TokenHeader) != "" {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set(simhttp.TokenHeader, t.token)
	return t.next.RoundTrip(r)
}

// loopbackDial refuses every address but loopback ones: in-process simulators deliver
// notifications to the runner's receiver and nowhere else, whatever notify_url a scenario gives.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("scenario: refusing to connect to %s: an in-process simulator reaches loopback addresses only", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// fixturePlatformKeys are the published test platform keys every simulator signs with.
func fixturePlatformKeys() (map[string]*rsa.PublicKey, error) {
	p, err := fixtures.Platform()
	if err != nil {
		return nil, err
	}
	pub, err := wxcrypto.ParsePublicKey(p.PublicKeyPEM)
	if err != nil {
		return nil, err
	}
	return map[string]*rsa.PublicKey{p.CertSerial: p.Cert.PublicKey.(*rsa.PublicKey), p.PublicKeyID: pub}, nil
}

// fetchPlatformKeys asks a running simulator for its platform certificate, as an SDK does
// (GET /v3/certificates, decrypted with the demo merchant's APIv3 key), and for its WeChat Pay
// public key (the demo credentials).
func fetchPlatformKeys(ctx context.Context, hc *http.Client, base string) (map[string]*rsa.PublicKey, error) {
	demo := scenario.Demo()
	keys, err := platformCertificates(ctx, hc, base, demo)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sim/v1/demo-credentials", nil)
	if err != nil {
		return nil, err
	}
	hresp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", base, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(hresp.Body, 4096))
		return nil, fmt.Errorf("target %s: GET /sim/v1/demo-credentials answered %d %s%s", base, hresp.StatusCode, scenario.Escape(string(body)), tokenHint(hresp.StatusCode))
	}
	var creds fixtures.Credentials
	if err := json.NewDecoder(hresp.Body).Decode(&creds); err != nil {
		return nil, fmt.Errorf("target %s: demo credentials: %w", base, err)
	}
	pub, err := wxcrypto.ParsePublicKey([]byte(creds.PlatformPublicKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("target %s: WeChat Pay public key: %w", base, err)
	}
	keys[creds.PlatformPublicKeyID] = pub
	return keys, nil
}

// platformCertificates downloads and decrypts the platform certificates, by serial.
func platformCertificates(ctx context.Context, hc *http.Client, base string, demo *scenario.Merchant) (map[string]*rsa.PublicKey, error) {
	c := &client.Client{BaseURL: base, MchID: demo.MchID, Serial: demo.Serial, Key: demo.Key, HTTP: hc}
	resp, err := c.Do(ctx, http.MethodGet, "/v3/certificates", nil)
	if err != nil {
		return nil, fmt.Errorf("target %s: download the platform certificate: %w", base, err)
	}
	var list struct {
		Data []struct {
			SerialNo string `json:"serial_no"`
			Enc      struct {
				Nonce          string `json:"nonce"`
				AssociatedData string `json:"associated_data"`
				Ciphertext     string `json:"ciphertext"`
			} `json:"encrypt_certificate"`
		} `json:"data"`
	}
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &list) != nil || len(list.Data) == 0 {
		return nil, fmt.Errorf("target %s: GET /v3/certificates answered %d %s", base, resp.Status, resp.Body)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, d := range list.Data {
		pemBytes, err := wxcrypto.DecryptAEAD(demo.APIv3Key, d.Enc.Nonce, d.Enc.AssociatedData, d.Enc.Ciphertext)
		if err != nil {
			return nil, fmt.Errorf("target %s: decrypt platform certificate %s: %w", base, d.SerialNo, err)
		}
		cert, err := wxcrypto.ParseCertificate(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("target %s: platform certificate %s: %w", base, d.SerialNo, err)
		}
		keys[wxcrypto.CertificateSerial(cert)] = cert.PublicKey.(*rsa.PublicKey)
	}
	return keys, nil
}
