package http_test

// The lifecycle's merchant (lifeMerchant, sdk_lifecycle_test.go) through gopay and through
// wechatpay-go.

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"testing"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"

	"github.com/payscore-sim/payscore-sim/fixtures"
)

// ---- gopay ----

// lifeGopay calls through gopay. Its structs cannot tell an absent member from a zero one, so
// the order is read from the verified body (SignInfo.SignBody), and gopay's own decoding is
// checked to agree with it.
type lifeGopay struct {
	c   *wechat.ClientV3
	key *rsa.PublicKey
}

// lifeGopayView is what gopay decoded of the members the lifecycle checks.
type lifeGopayView struct {
	State, StateDescription, OrderID string
	TotalAmount                      int
	NeedCollection                   bool
	Collection                       *wechat.Collection
	noAmounts                        bool // the gopay type has no total_amount and need_collection
	noCollection                     bool // the gopay type has no collection member
}

func (g *lifeGopay) order(t *testing.T, op string, si *wechat.SignInfo, view lifeGopayView) lifeOrder {
	t.Helper()
	gopayCheckSignInfo(t, op, si, fixtures.PlatformSerial, g.key)
	var o lifeOrder
	if err := json.Unmarshal([]byte(si.SignBody), &o); err != nil {
		t.Fatalf("%s: body is not an order: %v: %s", op, err, si.SignBody)
	}
	sd := ""
	if o.StateDescription != nil {
		sd = *o.StateDescription
	}
	if view.State != o.State || view.StateDescription != sd || view.OrderID != o.OrderID {
		t.Errorf("%s: gopay decoded (state, state_description, order_id) = (%s, %s, %s), the body says (%s, %s, %s)",
			op, view.State, view.StateDescription, view.OrderID, o.State, sd, o.OrderID)
	}
	if nc := o.NeedCollection != nil && *o.NeedCollection; !view.noAmounts && (view.TotalAmount != lifeInt(o.TotalAmount) || view.NeedCollection != nc) {
		t.Errorf("%s: gopay decoded (total_amount, need_collection) = (%d, %v), the body says (%s, %s)",
			op, view.TotalAmount, view.NeedCollection, lifeShow(o.TotalAmount), lifeShow(o.NeedCollection))
	}
	if view.noCollection {
		return o
	}
	if gc, c := view.Collection, o.Collection; !lifeSameCollection(gc, c) {
		t.Errorf("%s: gopay decoded collection %s, the body has %s", op, sdkJSON(gc), sdkJSON(c))
	}
	return o
}

// lifeInt is *p, or 0 when p is nil, as gopay decodes an absent amount.
func lifeInt(p *int64) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// lifeSameCollection reports whether gopay decoded collection c as gc: both absent, or the same
// state, amounts and details.
func lifeSameCollection(gc *wechat.Collection, c *lifeCollection) bool {
	if gc == nil || c == nil {
		return gc == nil && c == nil
	}
	same := gc.State == c.State && gc.TotalAmount == lifeInt(c.TotalAmount) && gc.PayingAmount == lifeInt(c.PayingAmount) &&
		gc.PaidAmount == lifeInt(c.PaidAmount) && len(gc.Details) == len(c.Details)
	for i := 0; same && i < len(c.Details); i++ {
		d, w := gc.Details[i], c.Details[i]
		same = int64(d.Seq) == w.Seq && int64(d.Amount) == w.Amount && d.PaidType == w.PaidType && d.PaidTime == w.PaidTime
	}
	return same
}

func (g *lifeGopay) create(t *testing.T, body map[string]any) (lifeOrder, string) {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderCreate(context.Background(), gopay.BodyMap(body))
	gopayMustSucceed(t, "create", rsp, err)
	r := rsp.Response
	// gopay's ScoreOrderCreate has neither total_amount, need_collection nor collection.
	o := g.order(t, "create", rsp.SignInfo, lifeGopayView{State: r.State, StateDescription: r.StateDescription, OrderID: r.OrderId,
		noAmounts: true, noCollection: true})
	if o.Package == nil || *o.Package != r.Package {
		t.Errorf("create: gopay decoded package %q, the body has %s", r.Package, lifeShow(o.Package))
	}
	return o, r.Package
}

func (g *lifeGopay) query(t *testing.T, op, key, value string) lifeOrder {
	t.Helper()
	kind := wechat.OutTradeNo
	if key == "query_id" {
		kind = wechat.QueryId
	}
	rsp, err := g.c.V3ScoreOrderQuery(context.Background(), kind, fixtures.DemoAppID, value, fixtures.DemoServiceID)
	gopayMustSucceed(t, op, rsp, err)
	r := rsp.Response
	return g.order(t, op, rsp.SignInfo, lifeGopayView{State: r.State, StateDescription: r.StateDescription, OrderID: r.OrderId,
		TotalAmount: r.TotalAmount, NeedCollection: r.NeedCollection, Collection: r.Collection})
}

func (g *lifeGopay) complete(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderComplete(context.Background(), no, gopay.BodyMap(body))
	gopayMustSucceed(t, "complete", rsp, err)
	r := rsp.Response
	// gopay's ScoreOrderComplete has no collection member (the documented complete answer has
	// none); the simulator answers with the whole order, read from the body.
	return g.order(t, "complete", rsp.SignInfo, lifeGopayView{State: r.State, StateDescription: r.StateDescription, OrderID: r.OrderId,
		TotalAmount: r.TotalAmount, NeedCollection: r.NeedCollection, noCollection: true})
}

func (g *lifeGopay) modify(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderModify(context.Background(), no, gopay.BodyMap(body))
	gopayMustSucceed(t, "modify", rsp, err)
	r := rsp.Response
	return g.order(t, "modify", rsp.SignInfo, lifeGopayView{State: r.State, StateDescription: r.StateDescription, OrderID: r.OrderId,
		TotalAmount: r.TotalAmount, NeedCollection: r.NeedCollection, Collection: r.Collection})
}

func (g *lifeGopay) pay(t *testing.T, no string) sdkOrderRef {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderPay(context.Background(), fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "pay", rsp, err)
	gopayCheckSignInfo(t, "pay", rsp.SignInfo, fixtures.PlatformSerial, g.key)
	r := rsp.Response
	return sdkOrderRef{AppID: r.Appid, MchID: r.Mchid, OutOrderNo: r.OutOrderNo, ServiceID: r.ServiceId, OrderID: r.OrderId}
}

func (g *lifeGopay) sync(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderSync(context.Background(), no, gopay.BodyMap(body))
	gopayMustSucceed(t, "sync", rsp, err)
	r := rsp.Response
	return g.order(t, "sync", rsp.SignInfo, lifeGopayView{State: r.State, StateDescription: r.StateDescription, OrderID: r.OrderId,
		TotalAmount: r.TotalAmount, NeedCollection: r.NeedCollection, Collection: r.Collection})
}

func (g *lifeGopay) queryTarget(key, value string) string { return gopayQueryTargetBy(key, value) }

func (g *lifeGopay) firstLogged() []sdkLogged {
	return []sdkLogged{{"GET", "/v3/certificates", 200, ""}} // AutoVerifySign's download
}

// ---- wechatpay-go ----

// lifeWechatpay calls through wechatpay-go's core.Client, which validates every response
// against the platform certificate; the order is decoded with core.UnMarshalResponse.
type lifeWechatpay struct {
	c *core.Client
}

func (w *lifeWechatpay) post(t *testing.T, op, target string, body map[string]any, v any) {
	t.Helper()
	result, err := w.c.Post(context.Background(), target, body)
	wechatpayDecode(t, op, result, err, v)
	wechatpaySerials(t, op, result, fixtures.PlatformSerial)
}

func (w *lifeWechatpay) create(t *testing.T, body map[string]any) (lifeOrder, string) {
	t.Helper()
	var o lifeOrder
	w.post(t, "create", wechatpayHost+"/v3/payscore/serviceorder", body, &o)
	if o.Package == nil {
		return o, ""
	}
	return o, *o.Package
}

func (w *lifeWechatpay) query(t *testing.T, op, key, value string) lifeOrder {
	t.Helper()
	var o lifeOrder
	result, err := w.c.Get(context.Background(), wechatpayHost+w.queryTarget(key, value))
	wechatpayDecode(t, op, result, err, &o)
	wechatpaySerials(t, op, result, fixtures.PlatformSerial)
	return o
}

func (w *lifeWechatpay) complete(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	var o lifeOrder
	w.post(t, "complete", wechatpayActionURL(no, "complete"), body, &o)
	return o
}

func (w *lifeWechatpay) modify(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	var o lifeOrder
	w.post(t, "modify", wechatpayActionURL(no, "modify"), body, &o)
	return o
}

func (w *lifeWechatpay) pay(t *testing.T, no string) sdkOrderRef {
	t.Helper()
	var r sdkOrderRef
	w.post(t, "pay", wechatpayActionURL(no, "pay"), map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID}, &r)
	return r
}

func (w *lifeWechatpay) sync(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	var o lifeOrder
	w.post(t, "sync", wechatpayActionURL(no, "sync"), body, &o)
	return o
}

func (w *lifeWechatpay) queryTarget(key, value string) string {
	return wechatpayQueryTargetBy(key, value)
}

func (w *lifeWechatpay) firstLogged() []sdkLogged { return nil }
