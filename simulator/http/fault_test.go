package http_test

// Failure on demand, driven as a merchant's tests would: set a fault rule through the control
// API, call Pay Score through gopay or wechatpay-go, see the failure the SDK reports, and check
// that the merchant's retry or query finds what production would have.

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// faultMarked counts the records of the request log that carry a fault mark.
func faultMarked(t *testing.T, sim *simtest.Sim) int {
	t.Helper()
	n := 0
	for _, r := range sdkRequestLog(t, sim) {
		if r.Fault != nil {
			n++
		}
	}
	return n
}

// faultCreateBody is a create request that can be sent again unchanged.
func faultCreateBody(t *testing.T, tag string) (no string, body map[string]any) {
	no = sdkOutOrderNo(t, tag)
	start, end := sdkTimeRange(time.Now())
	return no, sdkCreateOrderBody(no, start, end)
}

func TestFaultControlAPI(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})

	status, rule := pageControl(t, sim, http.MethodPost, "/sim/v1/faults", map[string]any{
		"mchid": fixtures.DemoMchID, "operation": "complete", "fault": "delay", "delay": "3s",
		"times": 2, "out_order_no": "A1",
	})
	if status != http.StatusCreated || rule["id"] == "" || rule["operation"] != "complete" || rule["fault"] != "delay" ||
		rule["delay"] != "3s" || rule["times"] != 2.0 || rule["remaining"] != 2.0 || rule["out_order_no"] != "A1" {
		t.Fatalf("POST /sim/v1/faults: %d %v, want 201 with the rule", status, rule)
	}
	id, _ := rule["id"].(string)

	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"mchid": fixtures.DemoMchID, "operation": "complet", "fault": "system_error"}, "operation"},
		{map[string]any{"mchid": fixtures.DemoMchID, "operation": "create", "fault": "timeout"}, "fault"},
		{map[string]any{"mchid": "1230000190", "operation": "create", "fault": "system_error"}, "mchid"},
		{map[string]any{"mchid": fixtures.DemoMchID, "operation": "create", "fault": "delay"}, "delay"},
		{map[string]any{"mchid": fixtures.DemoMchID, "operation": "certificates", "fault": "reset", "out_order_no": "A1"}, "out_order_no"},
		{map[string]any{"mchid": fixtures.DemoMchID, "operation": "any", "fault": "refund_abnormal"}, "operation"},
	} {
		status, out := pageControl(t, sim, http.MethodPost, "/sim/v1/faults", bad.body)
		detail, _ := out["detail"].(map[string]any)
		if status != http.StatusBadRequest || out["code"] != "PARAM_ERROR" || detail["field"] != bad.field {
			t.Errorf("POST %v: %d %v, want 400 PARAM_ERROR on %s", bad.body, status, out, bad.field)
		}
	}

	sim.Fault(t, map[string]any{"operation": "any", "fault": "rate_limited"})
	if status, list := pageControl(t, sim, http.MethodGet, "/sim/v1/faults?mchid="+fixtures.DemoMchID, nil); status != http.StatusOK || len(list["data"].([]any)) != 2 {
		t.Errorf("GET /sim/v1/faults: %d %v, want both rules", status, list)
	}
	if status, out := pageControl(t, sim, http.MethodDelete, "/sim/v1/faults/"+id, nil); status != http.StatusOK || out["id"] != id {
		t.Errorf("DELETE: %d %v, want 200 with rule %s", status, out, id)
	}
	if status, out := pageControl(t, sim, http.MethodDelete, "/sim/v1/faults/"+id, nil); status != http.StatusNotFound || out["code"] != "NOT_FOUND" {
		t.Errorf("DELETE again: %d %v, want 404 NOT_FOUND", status, out)
	}

	// A reset of the merchant removes its rules.
	status, out := pageControl(t, sim, http.MethodPost, "/sim/v1/reset?mchid="+fixtures.DemoMchID, nil)
	if deleted, _ := out["deleted"].(map[string]any); status != http.StatusOK || deleted["faults"] != 1.0 {
		t.Errorf("reset: %d %v, want one fault rule deleted", status, out)
	}
	if _, list := pageControl(t, sim, http.MethodGet, "/sim/v1/faults", nil); len(list["data"].([]any)) != 0 {
		t.Errorf("rules after the reset: %v", list)
	}
}

// TestFaultSystemErrorDoesNothing: a 500 before any work; the retry creates the order.
func TestFaultSystemErrorDoesNothing(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "f500")
	rule := sim.Fault(t, map[string]any{"operation": "create", "fault": "system_error"})

	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	gopayWantError(t, "create with system_error", created, err, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayWantError(t, "query after the 500", queried, err, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")

	created, err = client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	gopayMustSucceed(t, "retried create", created, err)

	rec := faultRecord(t, sim, rule.ID)
	if rec.Status != http.StatusInternalServerError || rec.Code != "SYSTEM_ERROR" || rec.Fault.Fault != simulator.FaultSystemError {
		t.Errorf("logged %d %s %+v, want 500 SYSTEM_ERROR marked system_error", rec.Status, rec.Code, rec.Fault)
	}
	if n := faultMarked(t, sim); n != 1 {
		t.Errorf("%d requests marked as injected, want only the faulted one", n)
	}
}

// TestFaultCommittedCreateRetried: the create is committed, the merchant gets a 500, retries
// with the same parameters and gets the very order the first call made.
func TestFaultCommittedCreateRetried(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "fcommit")
	rule := sim.Fault(t, map[string]any{"operation": "create", "fault": "system_error_after_commit", "out_order_no": no})

	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	gopayWantError(t, "create", created, err, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query after the committed 500", queried, err)

	retried, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	gopayMustSucceed(t, "retried create", retried, err)
	if retried.Response.OrderId != queried.Response.OrderId || retried.Response.Package == "" {
		t.Errorf("retried create: order_id %s, package %q; want the committed order %s and its package",
			retried.Response.OrderId, retried.Response.Package, queried.Response.OrderId)
	}
	rec := faultRecord(t, sim, rule.ID)
	if rec.Status != http.StatusInternalServerError || rec.Diagnostic["committed_status"] != 200.0 {
		t.Errorf("logged %d %v, want 500 saying the work was committed with 200", rec.Status, rec.Diagnostic)
	}
}

// TestFaultCommittedCancelRetried: the same with wechatpay-go, on a cancel (re-entrant in
// production too).
func TestFaultCommittedCancelRetried(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "fcancel")
	_, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", body)
	if err != nil {
		t.Fatal(err)
	}
	sim.Fault(t, map[string]any{"operation": "cancel", "fault": "system_error_after_commit"})
	cancel := map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "用户取消"}

	_, err = client.Post(ctx, wechatpayActionURL(no, "cancel"), cancel)
	wechatpayWantAPIError(t, "cancel", err, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	var order wechatpayOrder
	result, err := client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query", result, err, &order)
	if order.State != "REVOKED" {
		t.Errorf("after the committed 500 the order is %s, want REVOKED", order.State)
	}
	var ref sdkOrderRef
	result, err = client.Post(ctx, wechatpayActionURL(no, "cancel"), cancel)
	wechatpayDecode(t, "retried cancel", result, err, &ref)
	if ref.OrderID != order.OrderID {
		t.Errorf("retried cancel answered order %s, want %s", ref.OrderID, order.OrderID)
	}
}

// TestFaultRateLimitedThenSuccess: a 429 with Pay Score's code, then the retry succeeds.
func TestFaultRateLimitedThenSuccess(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "f429")
	rule := sim.Fault(t, map[string]any{"operation": "create", "fault": "rate_limited"})

	_, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", body)
	wechatpayWantAPIError(t, "create", err, http.StatusTooManyRequests, "FREQUENCY_LIMITED", "频率限制")
	result, err := client.Get(ctx, wechatpayServiceOrderURL(no))
	if !core.IsAPIError(err, "ORDER_NOT_EXIST") {
		t.Errorf("query after the 429: %v, %v; want ORDER_NOT_EXIST (nothing done)", result, err)
	}
	var order wechatpayOrder
	result, err = client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", body)
	wechatpayDecode(t, "create after the 429", result, err, &order)
	if rec := faultRecord(t, sim, rule.ID); rec.Status != http.StatusTooManyRequests || rec.Fault.Fault != simulator.FaultRateLimited {
		t.Errorf("logged %d %+v, want 429 marked rate_limited", rec.Status, rec.Fault)
	}
}

// TestFaultDelayOutlastsTheClient: the complete is done, but its answer comes after the
// merchant's client has given up; the merchant's query then finds it completed.
func TestFaultDelayOutlastsTheClient(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "fdelay")
	var created wechatpayOrder
	result, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", body)
	wechatpayDecode(t, "create", result, err, &created)
	sim.UserConfirms(t, *created.Package)
	rule := sim.Fault(t, map[string]any{"operation": "complete", "fault": "delay", "delay": "1m", "out_order_no": no})

	hurried := sim.ProductionClient(t)
	hurried.Timeout = 300 * time.Millisecond
	impatient := wechatpayNewClient(t,
		option.WithMerchantCredential(sim.Creds.MchID, sim.Creds.MerchantSerialNo, wechatpayMerchantKey(t, sim)),
		option.WithWechatPayCertificate([]*x509.Certificate{wechatpayPlatformCert(t, sim)}),
		option.WithHTTPClient(hurried),
	)
	complete := sdkCompleteBody(time.Now())
	_, err = impatient.Post(ctx, wechatpayActionURL(no, "complete"), complete)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("complete with a 300 ms client against a 1 min delay: err = %v, want a client timeout", err)
	}
	faultRecord(t, sim, rule.ID) // the work is done once the request is logged

	var order wechatpayOrder
	result, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query after the timeout", result, err, &order)
	if order.State == "CREATED" || order.Collection == nil {
		t.Errorf("after the timed-out complete the order is %s with collection %v, want it completed", order.State, order.Collection)
	}
	// The merchant's retry, with the very same body, gets the answer the timed-out call lost.
	var again wechatpayOrder
	result, err = client.Post(ctx, wechatpayActionURL(no, "complete"), complete)
	wechatpayDecode(t, "retried complete", result, err, &again)
	if again.OrderID != order.OrderID || again.State != "DOING" || again.StateDescription == nil || *again.StateDescription != "MCH_COMPLETE" {
		t.Errorf("retried complete answered %s %s %v, want order %s DOING/MCH_COMPLETE", again.OrderID, again.State, again.StateDescription, order.OrderID)
	}
}

// TestFaultDelayAnswersLate: with gopay, whose client waits, the answer comes, late.
func TestFaultDelayAnswersLate(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	rule := sim.Fault(t, map[string]any{"operation": "query", "fault": "delay", "delay": "50ms"})
	no, body := faultCreateBody(t, "flate")
	created, err := client.V3ScoreOrderCreate(context.Background(), gopay.BodyMap(body))
	gopayMustSucceed(t, "create (not delayed)", created, err)
	queried, err := client.V3ScoreOrderQuery(context.Background(), wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "delayed query", queried, err)
	if rec := faultRecord(t, sim, rule.ID); rec.Status != http.StatusOK || rec.Duration < 50*time.Millisecond {
		t.Errorf("logged %d after %v, want 200 after the delay", rec.Status, rec.Duration)
	}
}

// TestFaultResetAfterCommit: the connection drops after the create is committed; gopay reports
// a transport error, the order exists, and the retry gets it.
func TestFaultResetAfterCommit(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "freset")
	rule := sim.Fault(t, map[string]any{"operation": "create", "fault": "reset"})

	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	if err == nil {
		t.Fatalf("create over a reset connection: %+v, want a transport error", created)
	}
	faultRecord(t, sim, rule.ID)
	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query after the reset", queried, err)
	retried, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	gopayMustSucceed(t, "retried create", retried, err)
	if retried.Response.OrderId != queried.Response.OrderId {
		t.Errorf("retried create: order %s, want the committed %s", retried.Response.OrderId, queried.Response.OrderId)
	}
	if rec := faultRecord(t, sim, rule.ID); rec.Status != 0 || rec.Fault.Fault != simulator.FaultReset {
		t.Errorf("logged status %d %+v, want 0 (no answer) marked reset", rec.Status, rec.Fault)
	}
}

// TestFaultResetBeforeCommit: the connection drops before any work; wechatpay-go reports a
// transport error and the order does not exist.
func TestFaultResetBeforeCommit(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "fresetb")
	sim.Fault(t, map[string]any{"operation": "create", "fault": "reset", "before_commit": true})

	_, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", body)
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		t.Fatalf("create over a connection reset before commit: err = %v, want a transport error", err)
	}
	_, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayWantAPIError(t, "query after the reset", err, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
}

// TestFaultCertificates: the certificate download can fail too, once.
func TestFaultCertificates(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	sim.Fault(t, map[string]any{"operation": "certificates", "fault": "system_error"})
	c, err := wechat.NewClientV3(sim.Creds.MchID, sim.Creds.MerchantSerialNo, sim.Creds.APIv3Key, sim.Creds.MerchantPrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c.SetProxyHost(sim.URL)
	if err := c.AutoVerifySign(false); err == nil {
		t.Error("AutoVerifySign succeeded over a certificates 500")
	}
	if err := c.AutoVerifySign(false); err != nil {
		t.Errorf("AutoVerifySign after the rule fired: %v", err)
	}
}

// TestFaultDelayEndsAtShutdown: an answer held back by a delay goes out when the simulator
// shuts down, rather than holding the shutdown for the whole delay.
func TestFaultDelayEndsAtShutdown(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	no, body := faultCreateBody(t, "fshut")
	if _, err := client.Post(context.Background(), wechatpayHost+"/v3/payscore/serviceorder", body); err != nil {
		t.Fatal(err)
	}
	sim.Fault(t, map[string]any{"operation": "query", "fault": "delay", "delay": "5m"})

	answered := make(chan error, 1)
	go func() {
		_, err := client.Get(context.Background(), wechatpayServiceOrderURL(no))
		answered <- err
	}()
	// The rule is gone once it fired: the query is then held back by the delay.
	for sim.Server.Service.Faults.Any() {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sim.Server.Close(ctx); err != nil {
		t.Fatalf("shutdown with a delayed answer in flight: %v", err)
	}
	if err := <-answered; err != nil {
		t.Errorf("the delayed query: %v, want its answer at shutdown", err)
	}
}

// TestFaultOperationsMatchTheirRoutes: each operation's rule fails its own API, narrowed by an
// out_order_no read from the path, the query or the body.
func TestFaultOperationsMatchTheirRoutes(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	const no = "FAULT-ROUTE-1"
	order := "/v3/payscore/serviceorder/" + no + "/"
	perm := "/v3/payscore/permissions/"
	body := map[string]any{"out_order_no": no}
	for _, call := range []struct {
		op, method, target string
		body               any
	}{
		{"certificates", http.MethodGet, "/v3/certificates", nil},
		{"create", http.MethodPost, "/v3/payscore/serviceorder", body},
		{"query", http.MethodGet, "/v3/payscore/serviceorder?out_order_no=" + no + "&service_id=x&appid=y", nil},
		{"cancel", http.MethodPost, order + "cancel", map[string]any{}},
		{"modify", http.MethodPost, order + "modify", map[string]any{}},
		{"complete", http.MethodPost, order + "complete", map[string]any{}},
		{"pay", http.MethodPost, order + "pay", map[string]any{}},
		{"sync", http.MethodPost, order + "sync", map[string]any{}},
		{"direct_complete", http.MethodPost, "/v3/payscore/serviceorder/direct-complete", body},
		{"apply_permissions", http.MethodPost, "/v3/payscore/permissions", map[string]any{}},
		{"query_permission", http.MethodGet, perm + "authorization-code/A1?service_id=x", nil},
		{"query_permission", http.MethodGet, perm + "openid/o1?service_id=x&appid=y", nil},
		{"terminate_permission", http.MethodPost, perm + "authorization-code/A1/terminate", map[string]any{}},
		{"terminate_permission", http.MethodPost, perm + "openid/o1/terminate", map[string]any{}},
		{"refund", http.MethodPost, "/v3/refund/domestic/refunds", map[string]any{}},
		{"query_refund", http.MethodGet, "/v3/refund/domestic/refunds/RF1", nil},
		{"apply_abnormal_refund", http.MethodPost, "/v3/refund/domestic/refunds/R1/apply-abnormal-refund", map[string]any{}},
	} {
		rule := map[string]any{"operation": call.op, "fault": "rate_limited"}
		if strings.HasPrefix(call.target, "/v3/payscore/serviceorder") {
			rule["out_order_no"] = no
		}
		id := sim.Fault(t, rule).ID
		resp, err := c.Do(context.Background(), call.method, call.target, call.body)
		if err != nil {
			t.Fatalf("%s %s: %v", call.method, call.target, err)
		}
		if e := resp.Err(); resp.Status != http.StatusTooManyRequests || e.Detail["fault_rule"] != id {
			t.Errorf("%s %s under a %s rule: %d %s, want 429 from rule %s", call.method, call.target, call.op, resp.Status, resp.Body, id)
		}
		if rules := sim.Server.Service.Faults.List(""); len(rules) != 0 {
			t.Fatalf("after %s %s, rules still in force: %+v", call.method, call.target, rules)
		}
	}
}

// TestFaultDeductionInFlight: a test holds a deduction in flight with the order's deduction
// delay; the merchant's cancel, modify, sync and pay meet production's "单据正在扣款中", and once
// the clock passes the delay the deduction has run.
func TestFaultDeductionInFlight(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()
	no, body := faultCreateBody(t, "fdeduct")
	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(body))
	gopayMustSucceed(t, "create", created, err)
	sim.UserConfirms(t, created.Response.Package)
	target := "/sim/v1/orders/" + fixtures.DemoMchID + "/" + no + "/deduction"
	if status, out := pageControl(t, sim, http.MethodPost, target, map[string]any{"delay": "1h"}); status != http.StatusOK {
		t.Fatalf("hold the deduction: %d %v", status, out)
	}
	completed, err := client.V3ScoreOrderComplete(ctx, no, gopay.BodyMap(sdkCompleteBody(time.Now())))
	gopayMustSucceed(t, "complete", completed, err)

	const running = "单据正在扣款中，请稍后再试"
	cancelled, err := client.V3ScoreOrderCancel(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID, "用户取消")
	gopayWantError(t, "cancel during the deduction", cancelled, err, http.StatusBadRequest, "INVALID_REQUEST", running)
	modified, err := client.V3ScoreOrderModify(ctx, no, gopay.BodyMap(sdkModifyBody()))
	gopayWantError(t, "modify during the deduction", modified, err, http.StatusBadRequest, "INVALID_REQUEST", running)
	synced, err := client.V3ScoreOrderSync(ctx, no, gopay.BodyMap(sdkSyncBody(time.Now())))
	gopayWantError(t, "sync during the deduction", synced, err, http.StatusBadRequest, "INVALID_REQUEST", running)
	paid, err := client.V3ScoreOrderPay(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayWantError(t, "pay during the deduction", paid, err, http.StatusBadRequest, "INVALID_REQUEST", running)

	if status, out := pageControl(t, sim, http.MethodPost, "/sim/v1/clock/advance", map[string]any{"duration": "1h"}); status != http.StatusOK {
		t.Fatalf("advance the clock: %d %v", status, out)
	}
	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query after the deduction", queried, err)
	if queried.Response.State != "DONE" {
		t.Errorf("after the held deduction ran the order is %s, want DONE", queried.Response.State)
	}
	if status, out := pageControl(t, sim, http.MethodPost, target, map[string]any{"delay": "-1s"}); status != http.StatusBadRequest || out["code"] != "PARAM_ERROR" {
		t.Errorf("a negative delay: %d %v, want PARAM_ERROR", status, out)
	}
}
