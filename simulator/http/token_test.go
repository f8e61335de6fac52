package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func TestControlToken(t *testing.T) {
	t.Parallel()
	const token = "s3cret-TEST-token"
	sim := simtest.Start(t, app.Options{ControlToken: token})
	get := func(t *testing.T, path string, header map[string]string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, sim.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}

	for _, path := range []string{"/sim/v1/orders", "/sim/v1/demo-credentials", "/", "/dashboard/requests", "/sim/visits/x"} {
		if st, body := get(t, path, nil); st != http.StatusForbidden || body["code"] != "NO_AUTH" || !strings.Contains(body["detail"].(map[string]any)["issue"].(string), "--control-token") {
			t.Errorf("GET %s without the token: %d %v", path, st, body)
		}
	}
	if st, body := get(t, "/sim/v1/orders", map[string]string{"X-Payscore-Sim-Token": "wrong"}); st != http.StatusForbidden || !strings.Contains(body["detail"].(map[string]any)["issue"].(string), "not this simulator's") {
		t.Errorf("a wrong token: %d %v", st, body)
	}
	for _, h := range []map[string]string{{"X-Payscore-Sim-Token": token}, {"Authorization": "Bearer " + token}} {
		if st, body := get(t, "/sim/v1/orders", h); st != http.StatusOK {
			t.Errorf("GET /sim/v1/orders with %v: %d %v", h, st, body)
		}
	}
	// The health check, the static files and the signed APIv3 need no token.
	if st, _ := get(t, "/healthz", nil); st != http.StatusOK {
		t.Errorf("/healthz: %d", st)
	}
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodGet, "/v3/certificates", nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("/v3/certificates without a control token: %v %v", err, resp)
	}

	// A visit's page_url carries the token; a browser that opens it keeps it in a cookie, so
	// the page's forms work.
	pkg := visitCreate(t, sim.DemoClient(t), "token-visit")
	req, _ := http.NewRequest(http.MethodPost, sim.URL+"/sim/v1/visits",
		strings.NewReader(`{"businessType":"wxpayScoreUse","extraData":{"package":"`+pkg+`"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Payscore-Sim-Token", token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PageURL string `json:"page_url"`
	}
	_ = json.NewDecoder(r.Body).Decode(&v)
	r.Body.Close()
	if !strings.HasSuffix(v.PageURL, "?token="+token) {
		t.Fatalf("page_url %q does not carry the token", v.PageURL)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page, err := browser.Get(v.PageURL)
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("open page_url: %v %v", err, page)
	}
	page.Body.Close()
	confirm, err := browser.Post(strings.SplitN(v.PageURL, "?", 2)[0]+"/confirm", "application/x-www-form-urlencoded", nil)
	if err != nil || confirm.StatusCode != http.StatusOK {
		t.Fatalf("confirm with the cookie: %v %v", err, confirm)
	}
	confirm.Body.Close()
	if o := clockOrder(t, sim.DemoClient(t), "token-visit"); o["state"] != "DOING" {
		t.Fatalf("order after confirming through the page: %v", o["state"])
	}

}
