package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// These tests drive, through both SDKs, what a back end that passes here must also meet in
// production (reference §9.1): complete answers before Pay Score deducts, the deduction in
// flight refuses cancel, modify, sync and pay, a repeated complete is re-entrant, and the
// fields each answer carries.

// parityAnswer is an API call's outcome as the SDK reported it: the status, the error's code
// and message, and the body.
type parityAnswer struct {
	status        int
	code, message string
	body          []byte
}

func (a parityAnswer) object(t *testing.T, op string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("%s: body %q: %v", op, a.body, err)
	}
	return v
}

// parityClient is the merchant's back end, calling through one SDK.
type parityClient interface {
	create(t *testing.T, body map[string]any) parityAnswer
	// action posts .../{no}/{action} (complete, cancel, modify, pay, sync) with body.
	action(t *testing.T, no, action string, body map[string]any) parityAnswer
	query(t *testing.T, no string) parityAnswer
}

// parityGopay calls through gopay's typed methods.
type parityGopay struct{ c *wechat.ClientV3 }

// gopayAnswer reads a gopay response: the body it verified (SignInfo.SignBody) on success, the
// refusal's body otherwise.
func gopayAnswer(t *testing.T, op string, rsp any, err error) parityAnswer {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	code, body, e := gopayOutcome(t, rsp)
	if code != wechat.Success {
		return parityAnswer{status: code, code: e.Code, message: e.Message, body: []byte(body)}
	}
	si := reflect.ValueOf(rsp).Elem().FieldByName("SignInfo").Interface().(*wechat.SignInfo)
	return parityAnswer{status: http.StatusOK, body: []byte(si.SignBody)}
}

func (g parityGopay) create(t *testing.T, body map[string]any) parityAnswer {
	rsp, err := g.c.V3ScoreOrderCreate(context.Background(), gopay.BodyMap(body))
	return gopayAnswer(t, "create", rsp, err)
}

func (g parityGopay) action(t *testing.T, no, action string, body map[string]any) parityAnswer {
	ctx, bm := context.Background(), gopay.BodyMap(body)
	switch action {
	case "complete":
		rsp, err := g.c.V3ScoreOrderComplete(ctx, no, bm)
		return gopayAnswer(t, action, rsp, err)
	case "cancel":
		rsp, err := g.c.V3ScoreOrderCancel(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID, body["reason"].(string))
		return gopayAnswer(t, action, rsp, err)
	case "modify":
		rsp, err := g.c.V3ScoreOrderModify(ctx, no, bm)
		return gopayAnswer(t, action, rsp, err)
	case "pay":
		rsp, err := g.c.V3ScoreOrderPay(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID)
		return gopayAnswer(t, action, rsp, err)
	case "sync":
		rsp, err := g.c.V3ScoreOrderSync(ctx, no, bm)
		return gopayAnswer(t, action, rsp, err)
	}
	t.Fatalf("no gopay method for %s", action)
	return parityAnswer{}
}

func (g parityGopay) query(t *testing.T, no string) parityAnswer {
	rsp, err := g.c.V3ScoreOrderQuery(context.Background(), wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	return gopayAnswer(t, "query", rsp, err)
}

// parityWechatpay calls through wechatpay-go's core.Client, which validates every response.
type parityWechatpay struct{ c *core.Client }

func wechatpayAnswer(t *testing.T, op string, result *core.APIResult, err error) parityAnswer {
	t.Helper()
	var apiErr *core.APIError
	switch {
	case errors.As(err, &apiErr):
		return parityAnswer{status: apiErr.StatusCode, code: apiErr.Code, message: apiErr.Message, body: []byte(apiErr.Body)}
	case err != nil:
		t.Fatalf("%s: %v", op, err)
	}
	body, err := io.ReadAll(result.Response.Body)
	if err != nil {
		t.Fatalf("%s: read the body: %v", op, err)
	}
	return parityAnswer{status: result.Response.StatusCode, body: body}
}

func (w parityWechatpay) create(t *testing.T, body map[string]any) parityAnswer {
	result, err := w.c.Post(context.Background(), wechatpayHost+"/v3/payscore/serviceorder", body)
	return wechatpayAnswer(t, "create", result, err)
}

func (w parityWechatpay) action(t *testing.T, no, action string, body map[string]any) parityAnswer {
	body["appid"], body["service_id"] = fixtures.DemoAppID, fixtures.DemoServiceID
	result, err := w.c.Post(context.Background(), wechatpayActionURL(no, action), body)
	return wechatpayAnswer(t, action, result, err)
}

func (w parityWechatpay) query(t *testing.T, no string) parityAnswer {
	result, err := w.c.Get(context.Background(), wechatpayServiceOrderURL(no))
	return wechatpayAnswer(t, "query", result, err)
}

// paritySDKs runs fn once per SDK, each against a simulator of its own whose demo merchant's
// deductions wait an hour, so that a test sees the deduction in flight for as long as it
// wants; advancing the clock runs it.
func paritySDKs(t *testing.T, fn func(t *testing.T, sim *simtest.Sim, c parityClient)) {
	start := func(t *testing.T) *simtest.Sim {
		demo, err := fixtures.DemoMerchant()
		if err != nil {
			t.Fatal(err)
		}
		hour := time.Hour
		demo.Settings.DeductionDelay = &hour
		return simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{demo}})
	}
	t.Run("gopay", func(t *testing.T) {
		t.Parallel()
		sim := start(t)
		fn(t, sim, parityGopay{gopayCertClient(t, sim)})
	})
	t.Run("wechatpay-go", func(t *testing.T) {
		t.Parallel()
		sim := start(t)
		fn(t, sim, parityWechatpay{wechatpayClient(t, sim)})
	})
}

// parityConfirmed creates an order through c and has the user confirm it.
func parityConfirmed(t *testing.T, sim *simtest.Sim, c parityClient, tag string) string {
	t.Helper()
	no := sdkOutOrderNo(t, tag)
	start, end := sdkTimeRange(time.Now())
	created := c.create(t, sdkCreateOrderBody(no, start, end))
	if created.status != http.StatusOK {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	o := created.object(t, "create")
	// The documented create response, and production's, have neither.
	for _, absent := range []string{"total_amount", "need_collection", "state_description"} {
		if v, ok := o[absent]; ok {
			t.Errorf("create answered %s: %v; production's create response has none", absent, v)
		}
	}
	sim.UserConfirms(t, o["package"].(string))
	return no
}

func parityWant(t *testing.T, op string, a parityAnswer, status int, code, message string) {
	t.Helper()
	if a.status != status || a.code != code || a.message != message {
		t.Errorf("%s: %d %s %q, want %d %s %q (body %s)", op, a.status, a.code, a.message, status, code, message, a.body)
	}
}

var outTradeNo = regexp.MustCompile(`^[0-9]{19}$`)

func TestParityCompleteAnswersBeforeTheDeduction(t *testing.T) {
	t.Parallel()
	paritySDKs(t, func(t *testing.T, sim *simtest.Sim, c parityClient) {
		no := parityConfirmed(t, sim, c, "async")
		body := sdkCompleteBody(time.Now())
		completed := c.action(t, no, "complete", body)
		if completed.status != http.StatusOK {
			t.Fatalf("complete: %d %s", completed.status, completed.body)
		}
		o := completed.object(t, "complete")
		if o["state"] != "DOING" || o["state_description"] != "MCH_COMPLETE" || o["need_collection"] != true || o["collection"] != nil {
			t.Errorf("complete answered %s, want DOING/MCH_COMPLETE, need_collection, no collection", completed.body)
		}

		// Re-entry: the same complete again gets the same answer; other parameters are refused.
		again := c.action(t, no, "complete", body)
		if again.status != http.StatusOK || sdkJSON(again.object(t, "repeat")) != sdkJSON(o) {
			t.Errorf("repeated complete: %d %s, want the first answer %s", again.status, again.body, completed.body)
		}
		other := sdkCompleteBody(time.Now().Add(-time.Hour))
		other["total_amount"] = 1
		differs := c.action(t, no, "complete", other)
		parityWant(t, "complete with other parameters", differs, http.StatusBadRequest, "PARAM_ERROR", "订单重入参数校验失败")
		if fields := sdkJSON(differs.object(t, "differs")["detail"].(map[string]any)["differing_fields"]); fields != `["time_range","total_amount"]` {
			t.Errorf("differing_fields = %s, want time_range and total_amount", fields)
		}

		// While Pay Score deducts, the merchant's other calls must wait.
		const busy = "单据正在扣款中，请稍后再试"
		for action, body := range map[string]map[string]any{
			"cancel": {"reason": "用户取消"},
			"modify": sdkModifyBody(),
			"sync":   sdkSyncBody(time.Now()),
			"pay":    {},
		} {
			parityWant(t, action+" during the deduction", c.action(t, no, action, body), http.StatusBadRequest, "INVALID_REQUEST", busy)
		}
		q := c.query(t, no).object(t, "query")
		if col, _ := q["collection"].(map[string]any); q["state"] != "DOING" || col["state"] != "USER_PAYING" {
			t.Errorf("query during the deduction: %v", q)
		}

		// The dashboard shows the deduction pending.
		dashPage(t, sim.URL+dashOrderPath(no), http.StatusOK, "deduction pending, due")

		// The deduction runs when it is due on the simulated clock.
		if _, err := sim.Server.Service.AdvanceClock(context.Background(), fixtures.DemoMchID, time.Hour); err != nil {
			t.Fatal(err)
		}
		paid := c.query(t, no).object(t, "query")
		col, _ := paid["collection"].(map[string]any)
		details, _ := col["details"].([]any)
		if paid["state"] != "DONE" || col["state"] != "USER_PAID" || len(details) != 1 {
			t.Fatalf("query after the deduction: %v", paid)
		}
		if _, ok := paid["state_description"]; ok {
			t.Errorf("a DONE order has state_description %v; production returns it only while DOING", paid["state_description"])
		}
		detail := details[0].(map[string]any)
		stored := sim.WaitDeducted(t, fixtures.DemoMchID, no)
		if len(stored.Sim.Deductions) != 1 || stored.Sim.Deductions[0].TransactionID != detail["transaction_id"] ||
			!outTradeNo.MatchString(stored.Sim.Deductions[0].OutTradeNo) || detail["paid_type"] != "NEWTON" {
			t.Fatalf("deductions %+v, detail %v", stored.Sim.Deductions, detail)
		}
		ns, err := sim.DB.ListNotifications(context.Background(), simulator.NotificationFilter{OutOrderNo: no, EventType: simulator.EventUserPaid})
		if err != nil || len(ns) != 1 {
			t.Fatalf("USER_PAID notifications: %d %v", len(ns), err)
		}
		var resource map[string]any
		if err := json.Unmarshal(ns[0].Resource, &resource); err != nil {
			t.Fatal(err)
		}
		if resource["out_trade_no"] != stored.Sim.Deductions[0].OutTradeNo || resource["state"] != "DONE" {
			t.Errorf("USER_PAID resource: %v, want DONE with out_trade_no %s", resource, stored.Sim.Deductions[0].OutTradeNo)
		}
		dashLacks(t, dashPage(t, sim.URL+dashOrderPath(no), http.StatusOK, "pay score: deduction"), "deduction pending")
		// The deduction over, the paid order answers as paid orders do.
		parityWant(t, "cancel a paid order", c.action(t, no, "cancel", map[string]any{"reason": "用户取消"}), http.StatusBadRequest, "ORDER_DONE", "订单已完成")
	})
}

func TestParityWrongStateAndItems(t *testing.T) {
	t.Parallel()
	paritySDKs(t, func(t *testing.T, sim *simtest.Sim, c parityClient) {
		no := parityConfirmed(t, sim, c, "state")
		if a := c.action(t, no, "cancel", map[string]any{"reason": "用户取消"}); a.status != http.StatusOK {
			t.Fatalf("cancel: %d %s", a.status, a.body)
		}
		// As production logs show: INVALID_REQUEST, not the error table's ORDER_CANCELED.
		parityWant(t, "complete a revoked order", c.action(t, no, "complete", sdkCompleteBody(time.Now())), http.StatusBadRequest, "INVALID_REQUEST", "当前订单状态不合法")
		parityWant(t, "modify a revoked order", c.action(t, no, "modify", sdkModifyBody()), http.StatusBadRequest, "ORDER_CANCELED", "订单已取消")

		dup := parityConfirmed(t, sim, c, "items")
		body := sdkCompleteBody(time.Now())
		payments := body["post_payments"].([]map[string]any)
		body["post_payments"] = append(payments, payments[0])
		body["total_amount"] = 2 * sdkPaymentAmount
		a := c.action(t, dup, "complete", body)
		if field := a.object(t, "items")["detail"].(map[string]any)["field"]; a.status != http.StatusBadRequest || a.code != "PARAM_ERROR" || field != "post_payments[1].name" {
			t.Errorf("complete with a payment name twice: %d %s", a.status, a.body)
		}
	})
}

// TestParityDeductionSurvivesARestart: a deduction pending when the simulator stops is stored
// with its order, and the next run makes it when it is due.
func TestParityDeductionSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sim.db")
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Hour
	demo.Settings.DeductionDelay = &hour
	opts := app.Options{DB: path, Merchants: []*simulator.Merchant{demo}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NotifyClient: simtest.LoopbackClient()}

	first, err := app.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	sim := &simtest.Sim{App: first, URL: first.URL(), Creds: fixtures.DemoCredentials(), Platform: first.Server.Platform}
	c := parityWechatpay{wechatpayClient(t, sim)}
	no := parityConfirmed(t, sim, c, "restart")
	if a := c.action(t, no, "complete", sdkCompleteBody(time.Now())); a.status != http.StatusOK {
		t.Fatalf("complete: %d %s", a.status, a.body)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// While the simulator is down, the simulated clock passes the deduction's due time.
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	offsets, err := db.ClockOffsets(ctx)
	if err == nil {
		err = db.SaveClockOffset(ctx, fixtures.DemoMchID, offsets[fixtures.DemoMchID]+2*time.Hour)
	}
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}

	second := simtest.Start(t, opts)
	o := second.WaitOrder(t, fixtures.DemoMchID, no, func(o *simulator.Order) bool { return o.State == simulator.StateDone })
	if o.Collection.State != simulator.UserPaid || len(o.Sim.Deductions) != 1 {
		t.Errorf("after the restart: collection %+v, deductions %+v", o.Collection, o.Sim.Deductions)
	}
}
