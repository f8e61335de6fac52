package http_test

// Tests of the request log's bounds (issue 15): junk from anyone is logged at a bounded rate,
// bodies are kept once and cut, the log keeps its retention, and /sim/v1/requests pages through
// it; a merchant's own calls, failing or not, are all there. Package-level names in this file
// start with rlog.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// rlogAll reads the whole log through /sim/v1/requests, following next, and returns it with
// the number of pages.
func rlogAll(t *testing.T, sim *simtest.Sim, query string) ([]*simulator.RequestRecord, int) {
	t.Helper()
	var all []*simulator.RequestRecord
	seen := map[int64]bool{}
	next := "/sim/v1/requests?" + query
	pages := 0
	for next != "" {
		pages++
		resp, err := http.Get(sim.URL + next)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Data []*simulator.RequestRecord `json:"data"`
			Next string                     `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", next, resp.StatusCode, err)
		}
		for _, r := range page.Data {
			if seen[r.ID] {
				t.Fatalf("record %d listed twice (page %d, %s)", r.ID, pages, next)
			}
			seen[r.ID] = true
		}
		all = append(all, page.Data...)
		next = page.Next
	}
	return all, pages
}

// TestRequestLogBoundsJunk replays the growth attack: unsigned 256 KiB POSTs from anyone. Only
// a bounded number is logged (a burst, then a few a second), each body cut to 64 KiB, and a
// summary says how many were not; a merchant's own failing call is logged whole but for its
// body, with its diagnostic.
func TestRequestLogBoundsJunk(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	const n, size = 250, 256 << 10
	junk := bytes.Repeat([]byte("j"), size)
	start := time.Now()
	for i := range n {
		resp, err := http.Post(sim.URL+"/v3/payscore/serviceorder", "application/json", bytes.NewReader(junk))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned POST %d: %d, want 401", i, resp.StatusCode)
		}
	}
	elapsed := time.Since(start)

	// A known merchant's call with a signature that does not verify, and a 1 MiB body.
	body := `{"out_order_no":"RLOG-BAD","pad":"` + strings.Repeat("p", 1<<20-64) + `"}`
	req, _ := http.NewRequest(http.MethodPost, sim.URL+"/v3/payscore/serviceorder", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="n",signature="AAAA",timestamp="%d",serial_no="%s"`,
		fixtures.DemoMchID, time.Now().Unix(), fixtures.DemoMerchantSerial))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the badly signed call: %d, want 401", resp.StatusCode)
	}

	records, _ := rlogAll(t, sim, "limit=1000")
	var junkLogged int
	var summary string
	for _, r := range records {
		if len(r.RequestBody) > 65<<10 || len(r.ResponseBody) > 65<<10 {
			t.Errorf("record %d keeps a request body of %d bytes and a response body of %d; want them cut at 64 KiB", r.ID, len(r.RequestBody), len(r.ResponseBody))
		}
		if r.MchID == "" {
			junkLogged++
		}
		for _, w := range r.Warnings {
			if strings.Contains(w, "were not logged") {
				summary = w
			}
		}
	}
	// A burst of 100, then 10 a second: the bound follows from the time the flood took.
	if bound := 100 + int(elapsed.Seconds()*10) + 1; junkLogged > bound || junkLogged == 0 {
		t.Errorf("%d of %d unsigned requests logged in %v; want 1 to %d", junkLogged, n, elapsed, bound)
	}
	if junkLogged < n && summary == "" {
		t.Errorf("%d unsigned requests were not logged, and no record says so", n-junkLogged)
	}
	bad := records[0]
	if bad.MchID != fixtures.DemoMchID || !strings.Contains(bad.RequestBody, "RLOG-BAD") || !strings.Contains(bad.RequestBody, "cut here") {
		t.Fatalf("the newest record is %d (mchid %q, body %.80q); want the merchant's badly signed call, its body cut", bad.ID, bad.MchID, bad.RequestBody)
	}
	if ss, _ := bad.Diagnostic["signed_string"].(string); !strings.HasPrefix(ss, "POST\n/v3/payscore/serviceorder\n") || len(ss) > 5<<10 {
		t.Errorf("the diagnostic's signed_string is %d bytes, starting %.60q; want its head, cut at 4 KiB", len(ss), ss)
	}
}

// TestRequestLogRetentionAndPages: with a retention of 30 requests, 145 signed calls leave the
// newest 30 or fewer (trimming goes down to nine tenths), listed page by page with nothing
// twice, and a merchant's own calls are never rate-limited.
func TestRequestLogRetentionAndPages(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{RequestLog: simulator.RequestRetention{Rows: 30}})
	c := sim.DemoClient(t)
	const calls = 145
	for i := range calls {
		if _, err := c.Do(t.Context(), http.MethodGet, "/v3/payscore/serviceorder?out_order_no=RLOG-"+strconv.Itoa(i)+
			"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID, nil); err != nil {
			t.Fatal(err)
		}
	}
	records, pages := rlogAll(t, sim, "limit=7")
	if len(records) < 27 || len(records) > 30 || pages < 4 {
		t.Fatalf("%d records in %d pages; want 27 to 30 (a retention of 30), 7 a page", len(records), pages)
	}
	for i, r := range records {
		if want := "out_order_no=RLOG-" + strconv.Itoa(calls-1-i) + "&"; !strings.Contains(r.Target, want) {
			t.Fatalf("record %d of the listing is %s; want the call with %s (the newest first)", i, r.Target, want)
		}
	}
	if status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/requests?before=x", nil); status != http.StatusBadRequest || v["code"] != "PARAM_ERROR" {
		t.Errorf("before=x: %d %v, want a PARAM_ERROR", status, v)
	}
}
