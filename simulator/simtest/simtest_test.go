package simtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// isoCreate is a confirm-mode create of the demo merchant for amount.
func isoCreate(no string, amount int) gopay.BodyMap {
	now := time.Now()
	return gopay.BodyMap{
		"out_order_no":         no,
		"appid":                "wxd678efh567hg6787",
		"service_id":           "88888888000011",
		"service_introduction": "共享充电宝",
		"post_payments":        []map[string]any{{"name": "租借费", "amount": amount, "count": 1}},
		"time_range":           map[string]any{"start_time": simulator.FormatCompact(now), "end_time": simulator.FormatCompact(now.Add(3 * time.Hour))},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900},
		"notify_url":           "https://merchant.example.com/payscore/notify",
		"need_user_confirm":    true,
	}
}

// isoOrders lists a simulator's orders through its control API.
func isoOrders(t *testing.T, sim *simtest.Sim) []simulator.Order {
	t.Helper()
	var list struct {
		Data []struct {
			Order simulator.Order `json:"order"`
		} `json:"data"`
	}
	isoGet(t, sim.URL+"/sim/v1/orders", &list)
	var out []simulator.Order
	for _, d := range list.Data {
		out = append(out, d.Order)
	}
	return out
}

func isoGet(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// Two simulators in one process, used at once, share nothing: the same out_order_no is a
// different order in each, and neither's orders, packages, query_ids or request logs are
// visible in the other.
func TestIsolatedSimulatorsInParallel(t *testing.T) {
	t.Parallel()
	const no = "ISO-same-out-order-no"
	sims := []*simtest.Sim{simtest.Start(t, app.Options{}), simtest.Start(t, app.Options{})}
	amounts := []int{300, 700}
	if sims[0].URL == sims[1].URL {
		t.Fatalf("both simulators listen on %s", sims[0].URL)
	}

	// The same create, other amounts, at the same time, through each simulator's gopay client.
	created := make([]*wechat.ScoreOrderCreate, 2)
	var wg sync.WaitGroup
	for i, sim := range sims {
		c := sim.GoPay(t)
		wg.Go(func() {
			rsp, err := c.V3ScoreOrderCreate(context.Background(), isoCreate(no, amounts[i]))
			if err != nil || rsp.Code != wechat.Success {
				t.Errorf("simulator %d: create: %v %+v", i, err, rsp)
				return
			}
			created[i] = rsp.Response
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if created[0].OrderId == created[1].OrderId || created[0].Package == created[1].Package {
		t.Errorf("the two orders share an order_id or package: %s %s", created[0].OrderId, created[1].OrderId)
	}

	for i, sim := range sims {
		orders := isoOrders(t, sim)
		if len(orders) != 1 {
			t.Fatalf("simulator %d lists %d orders, want its own one", i, len(orders))
		}
		if o := orders[0]; o.OrderID != created[i].OrderId || o.TotalAmount != int64(amounts[i]) {
			t.Errorf("simulator %d lists order %s for %d, want its own %s for %d",
				i, o.OrderID, o.TotalAmount, created[i].OrderId, amounts[i])
		}
	}

	// The user confirms in the first; the second's order stays CREATED, and neither the
	// package nor the query_id of the first means anything to the second.
	queryID := sims[0].UserConfirms(t, created[0].Package)
	resp, err := http.Post(sims[1].URL+"/sim/v1/visits", "application/json",
		strings.NewReader(`{"businessType":"wxpayScoreUse","extraData":{"package":"`+created[0].Package+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Errorf("the second simulator opened a visit with the first's package: HTTP %d", resp.StatusCode)
	}

	ctx := context.Background()
	first, err := sims[0].GoPay(t).V3ScoreOrderQuery(ctx, wechat.QueryId, "wxd678efh567hg6787", queryID, "88888888000011")
	if err != nil || first.Code != wechat.Success || first.Response.State != "DOING" || first.Response.OrderId != created[0].OrderId {
		t.Errorf("first simulator, query by query_id: %v %+v, want its DOING order", err, first)
	}
	second, err := sims[1].GoPay(t).V3ScoreOrderQuery(ctx, wechat.QueryId, "wxd678efh567hg6787", queryID, "88888888000011")
	if err != nil || second.Code != http.StatusNotFound {
		t.Errorf("second simulator, query by the first's query_id: %v, HTTP %d, want 404", err, second.Code)
	}
	// wechatpay-go, through simtest's host-rewriting client, sees the second's own order.
	var o struct {
		State   string `json:"state"`
		OrderID string `json:"order_id"`
	}
	res, err := sims[1].WechatPayGo(t).Get(ctx, "https://"+simtest.ProductionHost+"/v3/payscore/serviceorder?out_order_no="+no+
		"&service_id=88888888000011&appid=wxd678efh567hg6787")
	if err != nil {
		t.Fatalf("second simulator, wechatpay-go query: %v", err)
	}
	defer res.Response.Body.Close()
	if err := json.NewDecoder(res.Response.Body).Decode(&o); err != nil {
		t.Fatal(err)
	}
	if o.State != "CREATED" || o.OrderID != created[1].OrderId {
		t.Errorf("second simulator's order after the user confirmed in the first: %+v, want CREATED %s", o, created[1].OrderId)
	}

	// Each request log holds only its own simulator's creates.
	for i, sim := range sims {
		var logged struct {
			Data []simulator.RequestRecord `json:"data"`
		}
		isoGet(t, sim.URL+"/sim/v1/requests", &logged)
		creates := 0
		for _, r := range logged.Data {
			if r.Method == http.MethodPost && r.Target == "/v3/payscore/serviceorder" {
				creates++
			}
		}
		if creates != 1 {
			t.Errorf("simulator %d logged %d creates, want 1", i, creates)
		}
	}
}

// The host-rewriting client sends nothing anywhere but to the simulator.
func TestIsolatedProductionClientRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	hc := sim.ProductionClient(t)
	for _, u := range []string{"https://example.com/v3/certificates", "http://" + simtest.ProductionHost + "/v3/certificates"} {
		resp, err := hc.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s went through (HTTP %d); want a refusal", u, resp.StatusCode)
		}
	}
	resp, err := hc.Get("https://" + simtest.ProductionHost + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET production /healthz through the client: HTTP %d, want the simulator's 200", resp.StatusCode)
	}
}
