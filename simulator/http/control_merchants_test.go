package http_test

import (
	"context"
	"crypto/rsa"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// registration is a valid POST /sim/v1/merchants body for mchid: the demo merchant's ids and
// published test certificate under another mchid.
func registration(mchid string) map[string]any {
	return map[string]any{
		"mchid": mchid, "appids": []string{fixtures.DemoAppID}, "service_ids": []string{fixtures.DemoServiceID},
		"api_v2_key": fixtures.DemoAPIv2Key, "api_v3_key": fixtures.DemoAPIv3Key,
		"certificates": []map[string]any{{"certificate": string(fixtures.DemoMerchantCertPEM)}},
	}
}

// with is body with key set to v (nil deletes it).
func with(body map[string]any, key string, v any) map[string]any {
	c := map[string]any{}
	for k, x := range body {
		c[k] = x
	}
	if v == nil {
		delete(c, key)
	} else {
		c[key] = v
	}
	return c
}

// TestRegisterMerchantRefusesBadInput: each broken registration is a WeChat-shaped 400 naming
// its field, and registers nothing.
func TestRegisterMerchantRefusesBadInput(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	good := registration("9000000001")
	for _, tc := range []struct {
		name, field string
		body        any
	}{
		{"no mchid", "mchid", with(good, "mchid", nil)},
		{"an mchid with a quote", "mchid", with(good, "mchid", `90"1`)},
		{"an mchid too long", "mchid", with(good, "mchid", strings.Repeat("9", 33))},
		{"no appid", "appids", with(good, "appids", []string{})},
		{"an empty service_id", "service_ids[0]", with(good, "service_ids", []string{""})},
		{"a short APIv3 key", "api_v3_key", with(good, "api_v3_key", "short")},
		{"a short APIv2 key", "api_v2_key", with(good, "api_v2_key", "short")},
		{"no certificate", "certificates", with(good, "certificates", nil)},
		{"a certificate that is not PEM", "certificates[0]", with(good, "certificates", []map[string]any{{"certificate": "nope"}})},
		{"a public key without serial", "certificates[0]", with(good, "certificates", []map[string]any{{"public_key": string(fixtures.PublicKeyModePublicPEM)}})},
		{"a serial that is not the certificate's", "certificates[0]", with(good, "certificates", []map[string]any{{"serial_no": "ABC", "certificate": string(fixtures.DemoMerchantCertPEM)}})},
		{"an unknown deduction mode", "", with(good, "settings", map[string]any{"deduction": "sometimes"})},
		{"appids as a string", "appids", with(good, "appids", fixtures.DemoAppID)},
	} {
		status, got := visitPost(t, sim, "/sim/v1/merchants", tc.body)
		detail, _ := got["detail"].(map[string]any)
		if status != http.StatusBadRequest || got["code"] != simulator.CodeParamError || got["message"] == "" ||
			(tc.field != "" && detail["field"] != tc.field) {
			t.Errorf("%s: %d %v; want 400 PARAM_ERROR naming %q", tc.name, status, got, tc.field)
		}
	}
	_, list := pageControl(t, sim, http.MethodGet, "/sim/v1/merchants", nil)
	if data := list["data"].([]any); len(data) != 1 {
		t.Errorf("after refused registrations the simulator has %d merchants, want the demo one", len(data))
	}
}

// TestRegisterMerchant: a registered merchant signs requests like a configured one; the same
// registration again is 200, another one of a taken mchid 409 MERCHANT_EXISTS.
func TestRegisterMerchant(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	body := registration("9000000001")
	status, got := visitPost(t, sim, "/sim/v1/merchants", body)
	if status != http.StatusCreated || got["mchid"] != "9000000001" || got["registered"] != true ||
		got["certificate_serials"].([]any)[0] != fixtures.DemoMerchantSerial {
		t.Fatalf("register: %d %v", status, got)
	}
	if status, got := visitPost(t, sim, "/sim/v1/merchants", body); status != http.StatusOK || got["mchid"] != "9000000001" {
		t.Errorf("the same registration again: %d %v; want 200 with the merchant", status, got)
	}
	for name, clash := range map[string]map[string]any{
		"other fields":           with(body, "service_ids", []string{"500001"}),
		"the demo merchant's":    registration(fixtures.DemoMchID),
		"a public key this time": with(body, "certificates", []map[string]any{{"serial_no": fixtures.DemoMerchantSerial, "public_key": demoPublicKeyPEM(t)}}),
	} {
		status, got := visitPost(t, sim, "/sim/v1/merchants", clash)
		if status != http.StatusConflict || got["code"] != simulator.CodeMerchantExists || got["detail"].(map[string]any)["issue"] == "" {
			t.Errorf("%s: %d %v; want 409 MERCHANT_EXISTS with an issue", name, status, got)
		}
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	visitCreate(t, sim.Client(t, "9000000001", fixtures.DemoMerchantSerial, key), "REGISTERED-1")
	if status, o := pageControl(t, sim, http.MethodGet, "/sim/v1/orders/9000000001/REGISTERED-1", nil); status != http.StatusOK {
		t.Errorf("the registered merchant's order: %d %v", status, o)
	}
}

func demoPublicKeyPEM(t *testing.T) string {
	t.Helper()
	cert, err := wxcrypto.ParseCertificate(fixtures.DemoMerchantCertPEM)
	if err != nil {
		t.Fatal(err)
	}
	return string(sdkPEMPublicKey(t, cert.PublicKey.(*rsa.PublicKey)))
}

// TestClockOfOneMerchant: advancing one merchant's clock expires its orders only; the demo
// merchant, named by default, stays on the real time.
func TestClockOfOneMerchant(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	if status, got := visitPost(t, sim, "/sim/v1/merchants", registration("9000000002")); status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, got)
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	visitCreate(t, sim.DemoClient(t), "CLOCK-DEMO")
	visitCreate(t, sim.Client(t, "9000000002", fixtures.DemoMerchantSerial, key), "CLOCK-MINE")
	status, got := visitPost(t, sim, "/sim/v1/clock/advance", map[string]any{"mchid": "9000000002", "duration": "745h"})
	if status != http.StatusOK || got["mchid"] != "9000000002" || got["offset_seconds"] != float64(745*3600) {
		t.Fatalf("advance: %d %v", status, got)
	}
	for _, tc := range []struct{ path, mchid, no, state string }{
		{"/sim/v1/clock", fixtures.DemoMchID, "CLOCK-DEMO", "CREATED"},
		{"/sim/v1/clock?mchid=9000000002", "9000000002", "CLOCK-MINE", "EXPIRED"},
	} {
		_, clock := pageControl(t, sim, http.MethodGet, tc.path, nil)
		if clock["mchid"] != tc.mchid || (tc.mchid == fixtures.DemoMchID) != (clock["offset_seconds"] == float64(0)) {
			t.Errorf("GET %s = %v", tc.path, clock)
		}
		_, o := pageControl(t, sim, http.MethodGet, "/sim/v1/orders/"+tc.mchid+"/"+tc.no, nil)
		if o["order"].(map[string]any)["state"] != tc.state {
			t.Errorf("merchant %s's order after its merchant's 745h: %v, want %s", tc.mchid, o["order"], tc.state)
		}
	}
	if status, got := pageControl(t, sim, http.MethodGet, "/sim/v1/clock?mchid=1999999999", nil); status != http.StatusBadRequest || got["detail"].(map[string]any)["location"] != "query" {
		t.Errorf("the clock of an unknown merchant: %d %v", status, got)
	}
	if status, got := visitPost(t, sim, "/sim/v1/clock/advance", map[string]any{"mchid": "1999999999", "duration": "1h"}); status != http.StatusBadRequest || got["code"] != simulator.CodeParamError {
		t.Errorf("advancing an unknown merchant: %d %v", status, got)
	}
}

// TestRegisteredMerchantSurvivesRestart: a registered merchant and its clock are there after a
// restart on the same database, and it can still sign.
func TestRegisteredMerchantSurvivesRestart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sim.db")
	first, err := app.Open(context.Background(), app.Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	sim := &simtest.Sim{App: first, URL: first.URL()}
	if status, got := visitPost(t, sim, "/sim/v1/merchants", registration("9000000003")); status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, got)
	}
	if status, got := visitPost(t, sim, "/sim/v1/clock/advance", map[string]any{"mchid": "9000000003", "duration": "1h"}); status != http.StatusOK {
		t.Fatalf("advance: %d %v", status, got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	second := simtest.Start(t, app.Options{DB: db})
	_, list := pageControl(t, second, http.MethodGet, "/sim/v1/merchants", nil)
	var found map[string]any
	for _, m := range list["data"].([]any) {
		if m := m.(map[string]any); m["mchid"] == "9000000003" {
			found = m
		}
	}
	if found == nil || found["registered"] != true || found["clock"].(map[string]any)["offset_seconds"] != float64(3600) {
		t.Fatalf("after the restart: %v", list)
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	visitCreate(t, second.Client(t, "9000000003", fixtures.DemoMerchantSerial, key), "AFTER-RESTART")
}
