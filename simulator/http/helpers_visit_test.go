package http_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Helpers shared by the tests of visits and of the user's pages (and the many other files
// that create an order to visit, or call the control API): orders, visits, the front end's
// signed extraData, and the pages' HTTP answers.

// pageSeq makes out_order_nos unique within the test binary.
var pageSeq atomic.Int64

func pageOutOrderNo(tag string) string {
	return fmt.Sprintf("PAGE%s%d%d", tag, time.Now().UnixNano()%1e9, pageSeq.Add(1))
}

// pageCreate creates the order as the demo merchant, after edit changes the body, and returns
// its package.
func pageCreate(t *testing.T, sim *simtest.Sim, no string, edit func(map[string]any)) string {
	t.Helper()
	body := demoOrderBody(no)
	if edit != nil {
		edit(body)
	}
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", body)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("create %s: %v %d %s", no, err, resp.Status, resp.Body)
	}
	var o struct{ Package string }
	if err := resp.Decode(&o); err != nil || o.Package == "" {
		t.Fatalf("create %s: no package in %s", no, resp.Body)
	}
	return o.Package
}

// pageControl calls the control API; a nil body sends no body.
func pageControl(t *testing.T, sim *simtest.Sim, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, sim.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// pageOpenUse opens a wxpayScoreUse visit with {"package": pkg} and returns its id and page_url.
func pageOpenUse(t *testing.T, sim *simtest.Sim, pkg string) (id, pageURL string) {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodPost, "/sim/v1/visits",
		map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg}})
	if status != http.StatusCreated {
		t.Fatalf("open visit: %d %v", status, v)
	}
	id, _ = v["visit_id"].(string)
	pageURL, _ = v["page_url"].(string)
	if id == "" || pageURL != sim.URL+"/sim/visits/"+id {
		t.Fatalf("open visit: visit_id %q, page_url %q", id, pageURL)
	}
	return id, pageURL
}

// pageVisitQueryID is the query_id the control API reports for the visit.
func pageVisitQueryID(t *testing.T, sim *simtest.Sim, id string) string {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/visits/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get visit %s: %d %v", id, status, v)
	}
	q, _ := v["query_id"].(string)
	return q
}

// pageQueryOrder queries the order with the signing client, by out_order_no or query_id.
func pageQueryOrder(t *testing.T, sim *simtest.Sim, key, value string) (state, desc string) {
	t.Helper()
	q := url.Values{key: {value}, "service_id": {fixtures.DemoServiceID}, "appid": {fixtures.DemoAppID}}
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodGet, "/v3/payscore/serviceorder?"+q.Encode(), nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("query order by %s: %v %d %s", key, err, resp.Status, resp.Body)
	}
	var o struct {
		State            string `json:"state"`
		StateDescription string `json:"state_description"`
	}
	if err := resp.Decode(&o); err != nil {
		t.Fatal(err)
	}
	return o.State, o.StateDescription
}

func pageWantState(t *testing.T, sim *simtest.Sim, key, value, state, desc string) {
	t.Helper()
	if s, d := pageQueryOrder(t, sim, key, value); s != state || d != desc {
		t.Errorf("order queried by %s: state %q %q, want %q %q", key, s, d, state, desc)
	}
}

// pageOpenURL is GET /sim/open with the parameters, extraData given as a JSON value.
func pageOpenURL(t *testing.T, sim *simtest.Sim, params url.Values, extraData any) string {
	t.Helper()
	if extraData != nil {
		b, err := json.Marshal(extraData)
		if err != nil {
			t.Fatal(err)
		}
		params.Set("extraData", string(b))
	}
	return sim.URL + "/sim/open?" + params.Encode()
}

// pageNoRedirect is a client that shows redirects instead of following them.
var pageNoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pageGet fetches a page without following redirects.
func pageGet(t *testing.T, method, target string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pageDo(t, req)
}

// pageDo sends the request without following redirects, and returns the answer and its body.
func pageDo(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := pageNoRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var pageVisitPath = regexp.MustCompile(`^/sim/visits/([0-9a-f-]{36})$`)

// pageWantHTML checks that a page is HTML, with the status and the fragments.
func pageWantHTML(t *testing.T, resp *http.Response, body string, status int, fragments ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	for _, f := range fragments {
		if !strings.Contains(body, f) {
			t.Errorf("page lacks %q:\n%s", f, body)
		}
	}
}

// visitCreate creates a confirm-mode order as the demo merchant and returns its package.
func visitCreate(t *testing.T, c *client.Client, no string) string {
	t.Helper()
	return visitCreateFor(t, c, no, fixtures.DemoAppID, fixtures.DemoServiceID)
}

func visitCreateFor(t *testing.T, c *client.Client, no, appid, serviceID string) string {
	t.Helper()
	end := time.Now().In(simulator.ChinaTime).Add(3 * time.Hour).Format("20060102150405")
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no": no, "appid": appid, "service_id": serviceID,
		"service_introduction": "共享充电宝",
		"time_range":           map[string]any{"start_time": "OnAccept", "end_time": end},
		"risk_fund":            map[string]any{"name": "DEPOSIT", "amount": 9900},
		"notify_url":           "https://merchant.example.com/payscore/notify",
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("create %s: %v %s", no, err, resp.Body)
	}
	var o struct{ Package string }
	if err := resp.Decode(&o); err != nil || o.Package == "" {
		t.Fatalf("create %s: no package in %s", no, resp.Body)
	}
	return o.Package
}

// visitOpenEnable pre-authorizes authorization_code code as the demo merchant and opens its
// wxpayScoreEnable visit; it returns the visit as POST /sim/v1/visits answers.
func visitOpenEnable(t *testing.T, sim *simtest.Sim, c *client.Client, code string) map[string]any {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/permissions", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "authorization_code": code})
	var tok struct {
		Token string `json:"apply_permissions_token"`
	}
	if err != nil || resp.Decode(&tok) != nil || tok.Token == "" {
		t.Fatalf("permissions: %v %v", err, resp)
	}
	st, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": tok.Token}})
	if st != http.StatusCreated {
		t.Fatalf("open enable visit: %d %v", st, v)
	}
	return v
}

// visitPost posts a JSON body (or nothing) to the control API and decodes the answer.
func visitPost(t *testing.T, sim *simtest.Sim, path string, body any) (int, map[string]any) {
	t.Helper()
	return pageControl(t, sim, http.MethodPost, path, body)
}

// withSign sets fields["sign"] to the front end's sign as the reference (§1.6) defines it,
// computed here rather than with the simulator's code: the non-empty fields but sign, sorted,
// as k=v joined by &, then &key=KEY; HMAC-SHA256 keyed with key (the APIv2 key); upper-case
// hex. It returns fields. sign_type is the caller's: a row may send one the simulator refuses.
func withSign(fields map[string]string, key string) map[string]string {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + fields[k] + "&")
	}
	b.WriteString("key=" + key)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(b.String()))
	fields["sign"] = strings.ToUpper(hex.EncodeToString(mac.Sum(nil)))
	return fields
}

// signedUse is the older signed wxpayScoreUse extraData of the demo merchant for pkg, signed
// now with key.
func signedUse(pkg, key string) map[string]string {
	return withSign(map[string]string{
		"mch_id": fixtures.DemoMchID, "package": pkg, "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"nonce_str": wxcrypto.NewNonce(), "sign_type": wxcrypto.SignTypeHMACSHA256,
	}, key)
}

// signedDetail is the signed wxpayScoreDetail extraData of the demo merchant's order no under
// serviceID, signed now with the APIv2 key.
func signedDetail(no, serviceID string) map[string]string {
	return withSign(map[string]string{
		"mch_id": fixtures.DemoMchID, "service_id": serviceID, "out_order_no": no,
		"timestamp": strconv.FormatInt(time.Now().Unix(), 10), "nonce_str": wxcrypto.NewNonce(), "sign_type": wxcrypto.SignTypeHMACSHA256,
	}, fixtures.DemoAPIv2Key)
}
