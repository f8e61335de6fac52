package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func TestClockExpiresCreatedOrdersAfter30Days(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	visitCreate(t, c, "expire-me")
	confirmed := visitCreate(t, c, "confirmed-stays")
	_, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": confirmed}})
	visitPost(t, sim, "/sim/v1/visits/"+v["visit_id"].(string)+"/confirm", nil)

	if st, got := clockAdvance(t, sim, "719h"); st != http.StatusOK || got["offset_seconds"] != float64(719*3600) {
		t.Fatalf("advance: %d %v", st, got)
	}
	if o := clockOrder(t, c, "expire-me"); o["state"] != "CREATED" {
		t.Fatalf("after 29 days 23 hours: %v, want CREATED", o["state"])
	}
	clockAdvance(t, sim, "61m")
	if o := clockOrder(t, c, "expire-me"); o["state"] != "EXPIRED" {
		t.Fatalf("after 30 days: %v, want EXPIRED", o["state"])
	}
	if o := clockOrder(t, c, "confirmed-stays"); o["state"] != "DOING" {
		t.Fatalf("a confirmed order expired: %v", o["state"])
	}
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/expire-me/cancel",
		map[string]any{"appid": fixtures.DemoAppID, "reason": "too late"})
	if err != nil || resp.Status != http.StatusBadRequest || resp.Err().Code != "INVALID_ORDER_STATE" {
		t.Fatalf("cancel an expired order: %v %d %s", err, resp.Status, resp.Body)
	}

	// The clock the control API shows has moved by the same 30 days.
	r, err := http.Get(sim.URL + "/sim/v1/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var clock struct {
		Now    string  `json:"now"`
		Offset float64 `json:"offset_seconds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&clock); err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, clock.Now)
	if err != nil || !strings.HasSuffix(clock.Now, "+08:00") || time.Until(now) < 719*time.Hour {
		t.Fatalf("clock = %+v (%v)", clock, err)
	}
}

func TestClockExpiresPackageAfterOneHour(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	pkg := visitCreate(t, sim.DemoClient(t), "pkg-expiry")
	clockAdvance(t, sim, "59m")
	if st, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg}}); st != http.StatusCreated {
		t.Fatalf("after 59 minutes: %d %v", st, v)
	}
	clockAdvance(t, sim, "2m")
	st, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg}})
	detail, _ := json.Marshal(v["detail"])
	if st != http.StatusBadRequest || v["message"] != "package 已过期" || !strings.Contains(string(detail), "valid for one hour") {
		t.Fatalf("after 61 minutes: %d %v", st, v)
	}
}

func TestClockRejectsBadDurations(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	for _, d := range []string{"", "-1h", "0s", "ten minutes", "900000h"} {
		st, v := clockAdvance(t, sim, d)
		if st != http.StatusBadRequest || v["code"] != "PARAM_ERROR" {
			t.Errorf("advance %q: %d %v, want 400 PARAM_ERROR", d, st, v)
		}
	}
}

// deductionComplete creates, confirms and completes an order of 250 fen, with its deduction
// mode set first when mode is not empty.
func deductionComplete(t *testing.T, sim *simtest.Sim, c *client.Client, no, mode string) map[string]any {
	t.Helper()
	pkg := visitCreate(t, c, no)
	_, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg}})
	visitPost(t, sim, "/sim/v1/visits/"+v["visit_id"].(string)+"/confirm", nil)
	if mode != "" {
		if st, got := visitPost(t, sim, "/sim/v1/orders/"+fixtures.DemoMchID+"/"+no+"/deduction", map[string]any{"mode": mode}); st != http.StatusOK {
			t.Fatalf("set deduction %s: %d %v", mode, st, got)
		}
	}
	// The service started when the user confirmed (OnAccept), a moment ago, and ends now.
	end := time.Now().In(simulator.ChinaTime).Format("20060102150405")
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/"+no+"/complete", map[string]any{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{{"name": "充电宝租借费", "amount": 250}},
		"total_amount":  250, "time_range": map[string]any{"end_time": end},
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("complete %s: %v %s", no, err, resp.Body)
	}
	var o map[string]any
	_ = resp.Decode(&o)
	return o
}

// collectionOf returns the order's collection state and its only payment's paid_type and
// transaction_id.
func collectionOf(t *testing.T, o map[string]any) (state, paidType, txID string) {
	t.Helper()
	col, ok := o["collection"].(map[string]any)
	if !ok {
		t.Fatalf("no collection in %v", o)
	}
	details, _ := col["details"].([]any)
	if len(details) == 1 {
		d := details[0].(map[string]any)
		paidType, _ = d["paid_type"].(string)
		txID, _ = d["transaction_id"].(string)
	}
	return col["state"].(string), paidType, txID
}

func TestDeductionModes(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	pay := func(no string) {
		resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/"+no+"/pay",
			map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID})
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("pay %s: %v %v", no, err, resp)
		}
	}

	t.Run("immediate by default, after complete answered", func(t *testing.T) {
		o := deductionComplete(t, sim, c, "deduct-immediate", "")
		if o["state"] != "DOING" || o["state_description"] != "MCH_COMPLETE" || o["collection"] != nil {
			t.Fatalf("complete answered %v, want DOING/MCH_COMPLETE without a collection", o)
		}
		sim.WaitDeducted(t, fixtures.DemoMchID, "deduct-immediate")
		o = clockOrder(t, c, "deduct-immediate")
		state, paidType, tx := collectionOf(t, o)
		if o["state"] != "DONE" || state != "USER_PAID" || paidType != "NEWTON" || !transactionID.MatchString(tx) {
			t.Fatalf("after the deduction: %v", o)
		}
	})
	t.Run("fail holds the order until the user pays", func(t *testing.T) {
		deductionComplete(t, sim, c, "deduct-fail", "fail")
		o := clockOrder(t, c, "deduct-fail")
		if state, _, _ := collectionOf(t, o); o["state"] != "DOING" || state != "USER_PAYING" {
			t.Fatalf("after complete: %v", o)
		}
		pay("deduct-fail")
		if state, _, _ := collectionOf(t, clockOrder(t, c, "deduct-fail")); state != "USER_PAYING" {
			t.Fatalf("after pay: %s, want USER_PAYING", state)
		}
		st, got := visitPost(t, sim, "/sim/v1/orders/"+fixtures.DemoMchID+"/deduct-fail/user-pays", nil)
		if st != http.StatusOK {
			t.Fatalf("user pays: %d %v", st, got)
		}
		o = clockOrder(t, c, "deduct-fail")
		if state, paidType, tx := collectionOf(t, o); o["state"] != "DONE" || state != "USER_PAID" || paidType != "NEWTON" || tx == "" {
			t.Fatalf("after the user paid: %v", o)
		}
		// Paying a paid order is refused, as the API refuses /pay.
		if st, got := visitPost(t, sim, "/sim/v1/orders/"+fixtures.DemoMchID+"/deduct-fail/user-pays", nil); st != http.StatusBadRequest || got["code"] != "ORDER_DONE" {
			t.Fatalf("user pays twice: %d %v", st, got)
		}
	})
	t.Run("on_pay succeeds on the next pay", func(t *testing.T) {
		deductionComplete(t, sim, c, "deduct-on-pay", "on_pay")
		if state, _, _ := collectionOf(t, clockOrder(t, c, "deduct-on-pay")); state != "USER_PAYING" {
			t.Fatalf("after complete: %s, want USER_PAYING", state)
		}
		pay("deduct-on-pay")
		sim.WaitDeducted(t, fixtures.DemoMchID, "deduct-on-pay")
		o := clockOrder(t, c, "deduct-on-pay")
		if state, paidType, _ := collectionOf(t, o); o["state"] != "DONE" || state != "USER_PAID" || paidType != "NEWTON" {
			t.Fatalf("after pay: %v", o)
		}
	})
	t.Run("every paid deduction notifies USER_PAID once", func(t *testing.T) {
		for _, no := range []string{"deduct-immediate", "deduct-fail", "deduct-on-pay"} {
			ns, err := sim.DB.ListNotifications(context.Background(), simulator.NotificationFilter{OutOrderNo: no, EventType: simulator.EventUserPaid})
			if err != nil || len(ns) != 1 {
				t.Errorf("%s: %d USER_PAID notifications (%v), want 1", no, len(ns), err)
			}
		}
	})
	t.Run("rejections", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			body any
			code string
			want string
		}{
			{"/sim/v1/orders/" + fixtures.DemoMchID + "/deduct-fail/deduction", map[string]any{"mode": "sometimes"}, "PARAM_ERROR", "immediate, fail, on_pay"},
			{"/sim/v1/orders/1999999999/x/deduction", map[string]any{"mode": "fail"}, "PARAM_ERROR", "not a merchant"},
			{"/sim/v1/orders/" + fixtures.DemoMchID + "/nope/user-pays", nil, "ORDER_NOT_EXIST", "nope"},
		} {
			st, got := visitPost(t, sim, tc.path, tc.body)
			detail := fmt.Sprint(got["detail"])
			if st < 400 || st >= 500 || got["code"] != tc.code || !strings.Contains(detail, tc.want) {
				t.Errorf("POST %s: %d %v, want %s mentioning %q", tc.path, st, got, tc.code, tc.want)
			}
		}
	})
}

func TestDeductionMerchantDefault(t *testing.T) {
	t.Parallel()
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demo.Settings.Deduction = simulator.DeductFail
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{demo}})
	c := sim.DemoClient(t)
	deductionComplete(t, sim, c, "merchant-fail", "")
	// Under fail no deduction is even started, so none is pending to wait for.
	if o := clockOrder(t, c, "merchant-fail"); o["state"] != "DOING" {
		t.Fatalf("the merchant's fail mode: %v", o)
	}
	if state, _, _ := collectionOf(t, clockOrder(t, c, "merchant-fail")); state != "USER_PAYING" {
		t.Fatalf("the merchant's fail mode did not hold the deduction: %s", state)
	}
	// An order's own mode wins over the merchant's.
	deductionComplete(t, sim, c, "order-immediate", "immediate")
	sim.WaitDeducted(t, fixtures.DemoMchID, "order-immediate")
	if state, _, _ := collectionOf(t, clockOrder(t, c, "order-immediate")); state != "USER_PAID" {
		t.Fatalf("the order's immediate mode did not win: %s", state)
	}
}

func TestOrderHistoryNamesEveryCause(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	deductionComplete(t, sim, sim.DemoClient(t), "history", "fail")
	visitPost(t, sim, "/sim/v1/orders/"+fixtures.DemoMchID+"/history/user-pays", nil)
	r, err := http.Get(sim.URL + "/sim/v1/orders/" + fixtures.DemoMchID + "/history")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var v struct {
		Sim simulator.OrderRecord `json:"sim"`
	}
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range v.Sim.History {
		got = append(got, h.Cause+" → "+h.To)
	}
	want := []string{
		"merchant: create → CREATED",
		"user: confirm → DOING/USER_CONFIRM",
		"merchant: complete → DOING/MCH_COMPLETE (collection USER_PAYING)",
		"user: paid → DONE (collection USER_PAID)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAmountsCannotOverflow: two amounts near the int64 limit would wrap total_amount negative;
// each amount is bounded instead.
func TestAmountsCannotOverflow(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	end := time.Now().In(simulator.ChinaTime).Add(3 * time.Hour).Format("20060102150405")
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no": "overflow", "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"service_introduction": "x", "time_range": map[string]any{"start_time": "OnAccept", "end_time": end},
		"risk_fund":  map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 100},
		"notify_url": "https://merchant.example.com/n",
		"post_payments": []map[string]any{
			{"name": "a", "amount": int64(9223372036854775807)}, {"name": "b", "amount": int64(9223372036854775807)}},
	})
	e := resp.Err()
	if err != nil || resp.Status != http.StatusBadRequest || e.Code != "PARAM_ERROR" || e.Detail["field"] != "post_payments[0].amount" {
		t.Fatalf("got %v %d %s", err, resp.Status, resp.Body)
	}
}
