package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// exampleSeed is the seed file the repository ships.
const exampleSeed = "../../fixtures/seed/example.yaml"

// serveOutput runs serve and returns its URL and the n lines it printed after the startup line.
func serveOutput(t *testing.T, env map[string]string, n int, args ...string) (string, []string) {
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
	r := bufio.NewReader(pr)
	first, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read startup line: %v", err)
	}
	m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("startup line %q", first)
	}
	var lines []string
	for range n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read seed line: %v", err)
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	go io.Copy(io.Discard, r)
	return m[1], lines
}

func signingClient(t *testing.T, base, mchid, serial string, keyPEM []byte) *client.Client {
	t.Helper()
	key, err := wxcrypto.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &client.Client{BaseURL: base, MchID: mchid, Serial: serial, Key: key}
}

// query asks the API for an order, as a merchant's back end does.
func query(t *testing.T, c *client.Client, appid, serviceID, no string) map[string]any {
	t.Helper()
	q := url.Values{"out_order_no": {no}, "appid": {appid}, "service_id": {serviceID}}
	resp, err := c.Do(context.Background(), http.MethodGet, "/v3/payscore/serviceorder?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("query %s: %d %s", no, resp.Status, resp.Body)
	}
	var o map[string]any
	if err := json.Unmarshal(resp.Body, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestServeSeedsOrdersTheAPIThenAnswersFor(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seeded.db")
	base, lines := serveOutput(t, nil, 1, "--addr", "127.0.0.1:0", "--db", db, "--seed", exampleSeed)
	if len(lines) != 1 || lines[0] != "seeded "+exampleSeed+": 2 authorizations, 10 orders (2 CREATED, 2 DOING/USER_CONFIRM, 1 DOING/MCH_COMPLETE, 3 DONE, 1 REVOKED, 1 EXPIRED), 2 refunds" {
		t.Errorf("seed lines = %q", lines)
	}
	demo := signingClient(t, base, fixtures.DemoMchID, fixtures.DemoMerchantSerial, fixtures.DemoMerchantKeyPEM)
	for no, want := range map[string]string{
		"SEED-CREATED-0001":          "CREATED",
		"SEED-CONFIRMED-0001":        "DOING USER_CONFIRM",
		"SEED-NOCONFIRM-0001":        "DOING USER_CONFIRM",
		"SEED-AWAITING-PAYMENT-0001": "DOING MCH_COMPLETE USER_PAYING",
		"SEED-DONE-0001":             "DONE USER_PAID",
		"SEED-DONE-SYNC-0001":        "DONE USER_PAID",
		"SEED-DONE-REFUNDED-0001":    "DONE USER_PAID",
		"SEED-REVOKED-0001":          "REVOKED",
		"SEED-EXPIRED-0001":          "EXPIRED",
	} {
		o := query(t, demo, fixtures.DemoAppID, fixtures.DemoServiceID, no)
		got := o["state"].(string)
		if d, ok := o["state_description"].(string); ok {
			got += " " + d
		}
		if c, ok := o["collection"].(map[string]any); ok {
			got += " " + c["state"].(string)
		}
		if got != want {
			t.Errorf("%s is %s, want %s", no, got, want)
		}
	}
	// The seeded refunds answer the refund API as made.
	for no, want := range map[string]string{"SEED-DONE-REFUNDED-0001-R1": `"status":"SUCCESS"`, "SEED-REFUND-ABNORMAL-0001": `"status":"ABNORMAL"`} {
		resp, err := demo.Do(context.Background(), http.MethodGet, "/v3/refund/domestic/refunds/"+no, nil)
		if err != nil || resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), want) {
			t.Errorf("query refund %s: %v %d %s, want %s", no, err, resp.Status, resp.Body, want)
		}
	}
	if o := query(t, demo, fixtures.DemoAppID, fixtures.DemoServiceID, "SEED-AWAITING-PAYMENT-0001"); o["total_amount"] != float64(400) {
		t.Errorf("the order awaiting payment totals %v, want 450 - 50", o["total_amount"])
	}
	// The seeded order awaiting payment is paid when the merchant asks, like any other.
	resp, err := demo.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/SEED-AWAITING-PAYMENT-0001/pay",
		map[string]string{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("pay: %v %d %s", err, resp.Status, resp.Body)
	}
	// Pay Score deducts after /pay answers: the merchant polls, as in production.
	deadline := time.Now().Add(20 * time.Second)
	for o := query(t, demo, fixtures.DemoAppID, fixtures.DemoServiceID, "SEED-AWAITING-PAYMENT-0001"); o["state"] != "DONE"; o = query(t, demo, fixtures.DemoAppID, fixtures.DemoServiceID, "SEED-AWAITING-PAYMENT-0001") {
		if time.Now().After(deadline) {
			t.Fatalf("after pay the order is still %v", o["state"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The seed file's merchant is served, with its order and its authorized user.
	other := signingClient(t, base, fixtures.OtherMchID, fixtures.OtherMerchantSerial, fixtures.OtherMerchantKeyPEM)
	if o := query(t, other, fixtures.OtherAppID, fixtures.OtherServiceID, "SEED-OTHER-CREATED-0001"); o["state"] != "CREATED" {
		t.Errorf("the other merchant's order is %v", o["state"])
	}
	resp, err = other.Do(context.Background(), http.MethodGet,
		"/v3/payscore/permissions/openid/oUpF8uSEEDuser000000000000002?appid="+fixtures.OtherAppID+"&service_id="+fixtures.OtherServiceID, nil)
	if err != nil || resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"authorization_state":"AVAILABLE"`) {
		t.Errorf("the seeded authorization: %v %d %s", err, resp.Status, resp.Body)
	}
}

func TestSeedingTwiceChangesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seeded.db")
	_, lines := serveOutput(t, nil, 2, "--addr", "127.0.0.1:0", "--db", db, "--seed", exampleSeed, "--seed", exampleSeed)
	if len(lines) != 2 || !strings.HasSuffix(lines[1], ": 0 authorizations, 0 orders; already present: 2 authorizations, 10 orders") {
		t.Errorf("seed lines = %q", lines)
	}
}

func TestSeedFromEnvironmentAndRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seeded.db")
	dir := t.TempDir()
	second := writeFile(t, dir, "second.yaml", "orders:\n  - {out_order_no: ENV-SEED-1, state: DONE}\n")
	env := map[string]string{"PAYSCORE_SIM_SEED": exampleSeed + "," + second}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() {
		first <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, pw, func(k string) string { return env[k] })
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	var out []string
	for range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	go io.Copy(io.Discard, r)
	cancel()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out[2], "second.yaml: 0 authorizations, 1 orders (1 DONE)") {
		t.Errorf("first run printed %q", out)
	}
	// A restart on the same database seeds nothing new.
	_, lines := serveOutput(t, env, 2, "--addr", "127.0.0.1:0", "--db", db)
	if len(lines) != 2 || !strings.HasSuffix(lines[1], "already present: 0 authorizations, 1 orders") {
		t.Errorf("restart printed %q", lines)
	}
}

func TestSeedErrorsStopServe(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cert_test.pem", string(fixtures.OtherMerchantCertPEM))
	tests := []struct{ name, content, want string }{
		{"unknown order field", "orders:\n  - {out_order_no: A, state: CREATED, servce_introduction: x}\n", `seed.yaml:2:39: unknown field "servce_introduction" in an order`},
		{"unknown merchant field", "merchants:\n  - mchid: \"1\"\n    appid: [x]\n", `seed.yaml:3:5: unknown field "appid" in this section[0] (did you mean appids?)`},
		{"bad merchant", "merchants:\n  - {mchid: \"1\", appids: [a], service_ids: [s], api_v3_key: short, certificates: [{certificate: cert_test.pem}]}\n", "seed.yaml:2: merchants[0] (mchid \"1\"): api_v3_key must be 32 bytes"},
		{"unknown merchant of an order", "orders:\n  - {merchant: \"42\", out_order_no: A, state: CREATED}\n", "seed.yaml:2:5: seed: order A (CREATED): merchant 42 is not a merchant of this simulator"},
		{"a state the order cannot reach", "orders:\n  - {out_order_no: A, state: DONE, time_range: {start_time: \"20991231\"}}\n", "seed.yaml:2:5: seed: order A (DONE): complete: PARAM_ERROR"},
		{"no-confirm order for nobody authorized", "orders:\n  - {out_order_no: A, state: DOING/USER_CONFIRM, need_user_confirm: false, openid: oNobody}\n", "INVALID_REQUEST 用户未授权该服务"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, "seed.yaml", tt.content)
			err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", ":memory:", "--seed", path}, io.Discard, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
