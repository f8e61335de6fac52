package http_test

// These tests take one confirm-mode order through its whole life with each SDK, the user's part
// played through the visit control API:
//
//	create → open the Pay Score page with signed extraData → confirm → return (query_id) →
//	query by query_id → complete → modify down → pay (催收) → sync (Order_Paid)
//
// After every step they check state, state_description, total_amount, need_collection and
// collection, both in the step's own answer (as the SDK decoded it, its signature verified) and
// in a fresh query. Orders are read from the JSON the server sent, into life* structs whose
// pointers tell an absent member from a zero one, not into simulator.Order.
//
// The gopay, wechatpay-go, sdk* and visit* helpers live in sdk_gopay_test.go,
// sdk_wechatpaygo_test.go and visit_test.go.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func TestGoPayFullLifecycle(t *testing.T) {
	t.Parallel()
	sim := lifeStart(t)
	m := &lifeGopay{c: gopayCertClient(t, sim), key: sdkPlatformPublicKey(t)}
	// An explicit start half an hour ago: confirming must leave it as it is.
	lifeRun(t, sim, m, "gplife", false)
}

func TestWechatPayGoFullLifecycle(t *testing.T) {
	t.Parallel()
	sim := lifeStart(t)
	m := &lifeWechatpay{c: wechatpayClient(t, sim)}
	// OnAccept: confirming must replace it with the time of the confirmation.
	lifeRun(t, sim, m, "wxlife", true)
}

// lifeStart starts a simulator whose demo merchant's deductions fail (deduction mode fail):
// by default Pay Score deducts as soon as an order is completed, which would leave nothing to
// modify, pay or sync.
func lifeStart(t *testing.T) *simtest.Sim {
	t.Helper()
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demo.Settings.Deduction = simulator.DeductFail
	return simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{demo}})
}

// ---- the lifecycle ----

// The amounts of the lifecycle: complete charges 300 + 50 − 100 = 250, modify lowers it by a
// further discount of 70 to 180.
const (
	lifeCableName          = "充电线"
	lifeCableAmount        = 50
	lifeCableDescription   = "线材损耗"
	lifeFirstDiscount      = 100
	lifeCompensationName   = "故障补偿"
	lifeCompensationDesc   = "充电宝电量不足"
	lifeCompensationAmount = 70
	lifeCompleteTotal      = sdkPaymentAmount + lifeCableAmount - lifeFirstDiscount                          // 250
	lifeModifyTotal        = sdkPaymentAmount + lifeCableAmount - lifeFirstDiscount - lifeCompensationAmount // 180
	lifeModifyReason       = "充电宝电量不足，减免部分费用"
	// lifeUser is the user who visits the Pay Score page and confirms.
	lifeUser = "oUpF8uLifecycleUser00000000"
)

// lifeMerchant is the merchant's back end, calling the APIs through one SDK. Each method fails
// the test unless the call succeeded with a verified response, and returns the order as sent.
type lifeMerchant interface {
	create(t *testing.T, body map[string]any) (o lifeOrder, pkg string)
	// query finds the order by key ("out_order_no" or "query_id").
	query(t *testing.T, op, key, value string) lifeOrder
	complete(t *testing.T, no string, body map[string]any) lifeOrder
	modify(t *testing.T, no string, body map[string]any) lifeOrder
	pay(t *testing.T, no string) lifeRef
	sync(t *testing.T, no string, body map[string]any) lifeOrder
	// queryTarget is the request target the SDK sends for a query by key.
	queryTarget(key, value string) string
	// firstLogged is what the request log holds before the lifecycle's first call.
	firstLogged() []sdkLogged
}

// lifeRun drives one order through its life. onAccept chooses the create's start_time: OnAccept
// or a time half an hour ago.
func lifeRun(t *testing.T, sim *simtest.Sim, m lifeMerchant, tag string, onAccept bool) {
	lifeCheckSignVector(t)
	no := sdkOutOrderNo(t, tag)
	now := time.Now()
	start := "OnAccept"
	if !onAccept {
		start = compactTime(now.Add(-30 * time.Minute))
	}
	end := compactTime(now.Add(3 * time.Hour))

	// 1. Create, in confirm mode.
	created, pkg := m.create(t, sdkCreateOrderBody(no, start, end))
	orderID := created.OrderID
	if !sdkOrderIDPattern.MatchString(orderID) {
		t.Fatalf("create: order_id = %q, want 31 digits", orderID)
	}
	if pkg == "" {
		t.Fatal("create: no package; a confirm-mode order needs one")
	}
	id := lifeIDs{no: no, orderID: orderID}
	createdWant := lifeWant{State: "CREATED"}
	lifeCheck(t, "create", created, id, createdWant)
	lifeCheckTimeRange(t, "create", created, start, end)
	lifeCheck(t, "query after create", m.query(t, "query after create", "out_order_no", no), id, createdWant)

	// 2. The merchant's front end opens the Pay Score page with the older, signed extraData, for
	// the user lifeUser, from the mini-program of the order's appid.
	extra := lifeSignedUse(pkg)
	status, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": extra,
		"openid": lifeUser, "invoker_appid": fixtures.DemoAppID})
	if status != http.StatusCreated {
		t.Fatalf("open visit: HTTP %d %v, want 201", status, v)
	}
	visitID, _ := v["visit_id"].(string)
	if visitID == "" {
		t.Fatalf("open visit: no visit_id in %v", v)
	}
	if u, _ := v["page_url"].(string); u != sim.URL+"/sim/visits/"+visitID {
		t.Errorf("open visit: page_url = %q, want %q", u, sim.URL+"/sim/visits/"+visitID)
	}
	if v["businessType"] != "wxpayScoreUse" || v["form"] != "extraData" || v["signed"] != true ||
		v["mchid"] != fixtures.DemoMchID || v["out_order_no"] != no || v["confirmed"] != false {
		t.Errorf("open visit: (businessType, form, signed, mchid, out_order_no, confirmed) = (%v, %v, %v, %v, %v, %v), want (wxpayScoreUse, extraData, true, %s, %s, false)",
			v["businessType"], v["form"], v["signed"], v["mchid"], v["out_order_no"], v["confirmed"], fixtures.DemoMchID, no)
	}
	if v["openid"] != lifeUser || v["invoker_appid"] != fixtures.DemoAppID {
		t.Errorf("open visit: (openid, invoker_appid) = (%v, %v), want (%s, %s)", v["openid"], v["invoker_appid"], lifeUser, fixtures.DemoAppID)
	}
	if v["warnings"] != nil || v["outcome"] != nil || v["appShow"] != nil {
		t.Errorf("open visit: (warnings, outcome, appShow) = (%v, %v, %v), want none for a correctly signed, unfinished visit",
			v["warnings"], v["outcome"], v["appShow"])
	}
	if got := lifeDig(v, "params", "sign"); got != extra["sign"] {
		t.Errorf("open visit: params.sign = %v, want the sign sent, %s", got, extra["sign"])
	}
	if st := lifeDig(v, "order", "state"); st != "CREATED" {
		t.Errorf("open visit: order.state = %v, want CREATED", st)
	}
	lifeCheck(t, "query after opening the page", m.query(t, "query after opening the page", "out_order_no", no), id, createdWant)

	// 3. The user confirms.
	beforeConfirm := time.Now()
	status, v = visitPost(t, sim, "/sim/v1/visits/"+visitID+"/confirm", nil)
	afterConfirm := time.Now()
	if status != http.StatusOK {
		t.Fatalf("confirm: HTTP %d %v, want 200", status, v)
	}
	if v["confirmed"] != true || v["outcome"] != nil || v["appShow"] != nil {
		t.Errorf("confirm: (confirmed, outcome, appShow) = (%v, %v, %v), want (true, none, none): the user is still on the page",
			v["confirmed"], v["outcome"], v["appShow"])
	}
	if st, sd := lifeDig(v, "order", "state"), lifeDig(v, "order", "state_description"); st != "DOING" || sd != "USER_CONFIRM" {
		t.Errorf("confirm: order (state, state_description) = (%v, %v), want (DOING, USER_CONFIRM)", st, sd)
	}
	gv := lifeGetVisit(t, sim, visitID)
	if gv["confirmed"] != true || gv["outcome"] != nil || gv["appShow"] != nil {
		t.Errorf("GET visit after confirm: (confirmed, outcome, appShow) = (%v, %v, %v), want (true, none, none)",
			gv["confirmed"], gv["outcome"], gv["appShow"])
	}
	if u := lifeDig(v, "order", "openid"); u != lifeUser {
		t.Errorf("confirm: order.openid = %v, want the visit's user %s", u, lifeUser)
	}
	confirmedWant := lifeWant{OpenID: lifeUser, State: "DOING", StateDescription: "USER_CONFIRM"}
	confirmed := m.query(t, "query after confirm", "out_order_no", no)
	lifeCheck(t, "query after confirm", confirmed, id, confirmedWant)
	actualStart := start
	if confirmed.TimeRange == nil {
		t.Fatal("query after confirm: no time_range")
	}
	if onAccept {
		actualStart = confirmed.TimeRange.StartTime
		lifeCheckConfirmTime(t, actualStart, beforeConfirm, afterConfirm)
	}
	lifeCheckTimeRange(t, "query after confirm", confirmed, actualStart, end)

	// 4. The user taps the in-page return button; App.onShow receives the query_id.
	status, v = visitPost(t, sim, "/sim/v1/visits/"+visitID+"/return", nil)
	if status != http.StatusOK {
		t.Fatalf("return: HTTP %d %v, want 200", status, v)
	}
	queryID, _ := lifeDig(v, "referrerInfo", "extraData", "query_id").(string)
	ref, _ := v["referrerInfo"].(map[string]any)
	extraBack, _ := ref["extraData"].(map[string]any)
	if v["scene"] != float64(1038) || ref["appId"] != "wxd8f3793ea3b935b8" || queryID == "" ||
		len(v) != 2 || len(ref) != 2 || len(extraBack) != 1 {
		t.Fatalf(`return: got %s, want exactly {"scene":1038,"referrerInfo":{"appId":"wxd8f3793ea3b935b8","extraData":{"query_id":"..."}}}`, sdkJSON(v))
	}
	if len(queryID) > 64 {
		t.Errorf("return: query_id has %d characters; the mini-program return documents string(64)", len(queryID))
	}
	gv = lifeGetVisit(t, sim, visitID)
	if gv["confirmed"] != true || gv["outcome"] != "return_with_params" || gv["query_id"] != queryID ||
		lifeDig(gv, "appShow", "scene") != float64(1038) || lifeDig(gv, "appShow", "referrerInfo", "appId") != "wxd8f3793ea3b935b8" ||
		lifeDig(gv, "appShow", "referrerInfo", "extraData", "query_id") != queryID {
		t.Errorf("GET visit after return: (confirmed, outcome, query_id, appShow) = (%v, %v, %v, %s), want (true, return_with_params, %s, the return's answer)",
			gv["confirmed"], gv["outcome"], gv["query_id"], sdkJSON(gv["appShow"]), queryID)
	}

	// 5. The merchant resolves the query_id with the query API.
	byQueryID := m.query(t, "query by query_id", "query_id", queryID)
	lifeCheck(t, "query by query_id", byQueryID, id, confirmedWant)
	lifeCheckTimeRange(t, "query by query_id", byQueryID, actualStart, end)
	lifeCheck(t, "query after query by query_id", m.query(t, "query after query by query_id", "out_order_no", no), id, confirmedWant)

	// 6. Complete: the service ended a moment ago, after it started.
	startAt, err := time.ParseInLocation("20060102150405", actualStart, chinaTime)
	if err != nil {
		t.Fatalf("start_time %q: %v", actualStart, err)
	}
	endAt := time.Now().Add(-time.Minute).Truncate(time.Second)
	if !endAt.After(startAt) {
		endAt = startAt.Add(time.Second)
	}
	// The end must not lie in the simulator's future: wait until it is past.
	time.Sleep(time.Until(endAt.Add(50 * time.Millisecond)))
	actualEnd := compactTime(endAt)
	completeBody := lifeCompleteBody(actualEnd)
	if got := lifeSum(completeBody); got != lifeCompleteTotal || completeBody["total_amount"] != lifeCompleteTotal {
		t.Fatalf("complete body: items sum to %d, total_amount %v, want both %d", got, completeBody["total_amount"], lifeCompleteTotal)
	}
	completedWant := lifeWant{
		OpenID: lifeUser, State: "DOING", StateDescription: "MCH_COMPLETE", TotalAmount: lifePtr[int64](lifeCompleteTotal), NeedCollection: lifePtr(true),
		Collection: &lifeCollectionWant{State: "USER_PAYING", TotalAmount: lifeCompleteTotal, PayingAmount: lifeCompleteTotal, PaidAmount: 0},
	}
	// The complete answers before Pay Score deducts: no collection yet (production's has none).
	answerWant := completedWant
	answerWant.Collection = nil
	completed := m.complete(t, no, completeBody)
	lifeCheck(t, "complete", completed, id, answerWant)
	lifeCheckTimeRange(t, "complete", completed, actualStart, actualEnd)
	lifeCheckItems(t, "complete", completed, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount})
	q := m.query(t, "query after complete", "out_order_no", no)
	lifeCheck(t, "query after complete", q, id, completedWant)
	lifeCheckTimeRange(t, "query after complete", q, actualStart, actualEnd)
	lifeCheckItems(t, "query after complete", q, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount})

	// 7. Modify the amount down.
	modifyBody := lifeModifyBody()
	if got := lifeSum(modifyBody); got != lifeModifyTotal || modifyBody["total_amount"] != lifeModifyTotal {
		t.Fatalf("modify body: items sum to %d, total_amount %v, want both %d", got, modifyBody["total_amount"], lifeModifyTotal)
	}
	modifiedWant := lifeWant{
		OpenID: lifeUser, State: "DOING", StateDescription: "MCH_COMPLETE", TotalAmount: lifePtr[int64](lifeModifyTotal), NeedCollection: lifePtr(true),
		Collection: &lifeCollectionWant{State: "USER_PAYING", TotalAmount: lifeModifyTotal, PayingAmount: lifeModifyTotal, PaidAmount: 0},
	}
	modified := m.modify(t, no, modifyBody)
	lifeCheck(t, "modify", modified, id, modifiedWant)
	lifeCheckItems(t, "modify", modified, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount, lifeCompensationAmount})
	q = m.query(t, "query after modify", "out_order_no", no)
	lifeCheck(t, "query after modify", q, id, modifiedWant)
	lifeCheckItems(t, "query after modify", q, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount, lifeCompensationAmount})

	// 8. Pay (催收): answered with the order's identifiers. The deduction it asks for fails (see
	// lifeStart), so the order still waits for payment.
	paid := m.pay(t, no)
	if want := (lifeRef{fixtures.DemoAppID, fixtures.DemoMchID, no, fixtures.DemoServiceID, orderID}); paid != want {
		t.Errorf("pay: response = %+v, want %+v", paid, want)
	}
	lifeCheck(t, "query after pay", m.query(t, "query after pay", "out_order_no", no), id, modifiedWant)

	// 9. Sync: the merchant was paid through its own channel.
	paidTime := compactTime(time.Now())
	syncBody := sdkSyncBody(time.Now())
	syncBody["detail"] = map[string]any{"paid_time": paidTime}
	// state_description is returned only while DOING.
	doneWant := lifeWant{
		OpenID: lifeUser, State: "DONE", TotalAmount: lifePtr[int64](lifeModifyTotal), NeedCollection: lifePtr(true),
		Collection: &lifeCollectionWant{State: "USER_PAID", TotalAmount: lifeModifyTotal, PayingAmount: 0, PaidAmount: lifeModifyTotal,
			Details: []lifeDetail{{Seq: 1, Amount: lifeModifyTotal, PaidType: "MCH", PaidTime: paidTime}}},
	}
	lifeCheck(t, "sync", m.sync(t, no, syncBody), id, doneWant)
	q = m.query(t, "query after sync", "out_order_no", no)
	lifeCheck(t, "query after sync", q, id, doneWant)
	lifeCheckTimeRange(t, "query after sync", q, actualStart, actualEnd)

	path := "/v3/payscore/serviceorder/" + url.PathEscape(no)
	byNo := m.queryTarget("out_order_no", no)
	sdkCheckRequestLog(t, sim, append(m.firstLogged(), []sdkLogged{
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"GET", byNo, 200, ""},
		{"GET", byNo, 200, ""},
		{"GET", byNo, 200, ""},
		{"GET", m.queryTarget("query_id", queryID), 200, ""},
		{"GET", byNo, 200, ""},
		{"POST", path + "/complete", 200, ""},
		{"GET", byNo, 200, ""},
		{"POST", path + "/modify", 200, ""},
		{"GET", byNo, 200, ""},
		{"POST", path + "/pay", 200, ""},
		{"GET", byNo, 200, ""},
		{"POST", path + "/sync", 200, ""},
		{"GET", byNo, 200, ""},
	}...))
}

// lifeCompleteBody completes the order: two payments, one discount, 250 in all.
func lifeCompleteBody(endTime string) map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": sdkPaymentAmount, "description": sdkPaymentDescription, "count": 1},
			{"name": lifeCableName, "amount": lifeCableAmount, "description": lifeCableDescription, "count": 1},
		},
		"post_discounts": []map[string]any{
			{"name": sdkDiscountName, "description": sdkDiscountDescription, "amount": lifeFirstDiscount, "count": 1},
		},
		"total_amount": lifeCompleteTotal,
		"time_range":   map[string]any{"end_time": endTime},
	}
}

// lifeModifyBody lowers the amount to 180 with a second discount.
func lifeModifyBody() map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": sdkPaymentAmount, "description": sdkPaymentDescription, "count": 1},
			{"name": lifeCableName, "amount": lifeCableAmount, "description": lifeCableDescription, "count": 1},
		},
		"post_discounts": []map[string]any{
			{"name": sdkDiscountName, "description": sdkDiscountDescription, "amount": lifeFirstDiscount, "count": 1},
			{"name": lifeCompensationName, "description": lifeCompensationDesc, "amount": lifeCompensationAmount, "count": 1},
		},
		"total_amount": lifeModifyTotal,
		"reason":       lifeModifyReason,
	}
}

// lifeSum is Σpost_payments.amount − Σpost_discounts.amount of a request body.
func lifeSum(body map[string]any) int {
	total := 0
	for _, p := range body["post_payments"].([]map[string]any) {
		total += p["amount"].(int)
	}
	if ds, ok := body["post_discounts"].([]map[string]any); ok {
		for _, d := range ds {
			total -= d["amount"].(int)
		}
	}
	return total
}

// ---- the order as the server sends it, and the checks ----

// lifeOrder is a service order as the create, query, complete, modify and sync APIs answer it.
// Pointers tell an absent member from a zero one.
type lifeOrder struct {
	AppID            string          `json:"appid"`
	MchID            string          `json:"mchid"`
	OutOrderNo       string          `json:"out_order_no"`
	ServiceID        string          `json:"service_id"`
	OrderID          string          `json:"order_id"`
	State            string          `json:"state"`
	StateDescription *string         `json:"state_description"`
	TotalAmount      *int64          `json:"total_amount"`
	NeedCollection   *bool           `json:"need_collection"`
	Collection       *lifeCollection `json:"collection"`
	TimeRange        *struct {
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
	} `json:"time_range"`
	PostPayments  []lifeItem `json:"post_payments"`
	PostDiscounts []lifeItem `json:"post_discounts"`
	Package       *string    `json:"package"`
	OpenID        *string    `json:"openid"`
}

type lifeItem struct {
	Name   string `json:"name"`
	Amount *int64 `json:"amount"`
}

type lifeCollection struct {
	State        string       `json:"state"`
	TotalAmount  *int64       `json:"total_amount"`
	PayingAmount *int64       `json:"paying_amount"`
	PaidAmount   *int64       `json:"paid_amount"`
	Details      []lifeDetail `json:"details"`
}

type lifeDetail struct {
	Seq           int64  `json:"seq"`
	Amount        int64  `json:"amount"`
	PaidType      string `json:"paid_type"`
	PaidTime      string `json:"paid_time"`
	TransactionID string `json:"transaction_id"`
}

// lifeRef is the answer of pay.
type lifeRef struct {
	AppID      string `json:"appid"`
	MchID      string `json:"mchid"`
	OutOrderNo string `json:"out_order_no"`
	ServiceID  string `json:"service_id"`
	OrderID    string `json:"order_id"`
}

// lifeWant is what a step must leave. StateDescription "" means absent or empty; nil
// TotalAmount and NeedCollection are not checked (before complete); nil Collection means
// collection must be absent.
type lifeWant struct {
	// OpenID is the user who confirmed; "" means the order has none (before the confirmation).
	OpenID           string
	State            string
	StateDescription string
	TotalAmount      *int64
	NeedCollection   *bool
	Collection       *lifeCollectionWant
}

type lifeCollectionWant struct {
	State                                 string
	TotalAmount, PayingAmount, PaidAmount int64
	Details                               []lifeDetail // nil: none
}

type lifeIDs struct{ no, orderID string }

func lifePtr[T any](v T) *T { return &v }

func lifeShow[T any](p *T) string {
	if p == nil {
		return "absent"
	}
	return sdkJSON(*p)
}

func lifeCheck(t *testing.T, op string, o lifeOrder, id lifeIDs, w lifeWant) {
	t.Helper()
	if o.OutOrderNo != id.no || o.OrderID != id.orderID || o.AppID != fixtures.DemoAppID || o.MchID != fixtures.DemoMchID || o.ServiceID != fixtures.DemoServiceID {
		t.Errorf("%s: (out_order_no, order_id, appid, mchid, service_id) = (%s, %s, %s, %s, %s), want (%s, %s, %s, %s, %s)",
			op, o.OutOrderNo, o.OrderID, o.AppID, o.MchID, o.ServiceID, id.no, id.orderID, fixtures.DemoAppID, fixtures.DemoMchID, fixtures.DemoServiceID)
	}
	if o.State != w.State {
		t.Errorf("%s: state = %q, want %s", op, o.State, w.State)
	}
	if sd := o.StateDescription; w.StateDescription == "" && sd != nil && *sd != "" || w.StateDescription != "" && (sd == nil || *sd != w.StateDescription) {
		want := w.StateDescription
		if want == "" {
			want = "absent or empty"
		}
		t.Errorf("%s: state_description = %s, want %s", op, lifeShow(sd), want)
	}
	if w.TotalAmount != nil && (o.TotalAmount == nil || *o.TotalAmount != *w.TotalAmount) {
		t.Errorf("%s: total_amount = %s, want %d", op, lifeShow(o.TotalAmount), *w.TotalAmount)
	}
	if w.NeedCollection != nil && (o.NeedCollection == nil || *o.NeedCollection != *w.NeedCollection) {
		t.Errorf("%s: need_collection = %s, want %v", op, lifeShow(o.NeedCollection), *w.NeedCollection)
	}
	c, wc := o.Collection, w.Collection
	switch {
	case wc == nil && c != nil:
		t.Errorf("%s: collection = %s, want none before complete", op, sdkJSON(c))
	case wc == nil:
	case c == nil:
		t.Errorf("%s: no collection, want %+v", op, *wc)
	default:
		if c.State != wc.State || c.TotalAmount == nil || *c.TotalAmount != wc.TotalAmount ||
			c.PayingAmount == nil || *c.PayingAmount != wc.PayingAmount || c.PaidAmount == nil || *c.PaidAmount != wc.PaidAmount {
			t.Errorf("%s: collection (state, total_amount, paying_amount, paid_amount) = (%s, %s, %s, %s), want (%s, %d, %d, %d)",
				op, c.State, lifeShow(c.TotalAmount), lifeShow(c.PayingAmount), lifeShow(c.PaidAmount), wc.State, wc.TotalAmount, wc.PayingAmount, wc.PaidAmount)
		}
		switch {
		case len(wc.Details) == 0 && len(c.Details) != 0:
			t.Errorf("%s: collection.details = %s, want none", op, sdkJSON(c.Details))
		case len(wc.Details) != 0 && sdkJSON(c.Details) != sdkJSON(wc.Details):
			t.Errorf("%s: collection.details = %s, want %s", op, sdkJSON(c.Details), sdkJSON(wc.Details))
		}
	}
	if w.OpenID == "" && o.OpenID != nil || w.OpenID != "" && (o.OpenID == nil || *o.OpenID != w.OpenID) {
		t.Errorf("%s: openid = %s, want %q (none before the user confirms)", op, lifeShow(o.OpenID), w.OpenID)
	}
	if o.Package != nil && op != "create" {
		t.Errorf("%s: package %q; only create answers with one", op, *o.Package)
	}
}

func lifeCheckTimeRange(t *testing.T, op string, o lifeOrder, start, end string) {
	t.Helper()
	if tr := o.TimeRange; tr == nil || tr.StartTime != start || tr.EndTime != end {
		t.Errorf("%s: time_range = %s, want start_time %s, end_time %s", op, sdkJSON(o.TimeRange), start, end)
	}
}

// lifeCheckItems checks the amounts of post_payments and post_discounts, in order.
func lifeCheckItems(t *testing.T, op string, o lifeOrder, payments, discounts []int64) {
	t.Helper()
	amounts := func(items []lifeItem) []int64 {
		var out []int64
		for _, it := range items {
			if it.Amount == nil {
				out = append(out, -1)
			} else {
				out = append(out, *it.Amount)
			}
		}
		return out
	}
	if p, d := amounts(o.PostPayments), amounts(o.PostDiscounts); sdkJSON(p) != sdkJSON(payments) || sdkJSON(d) != sdkJSON(discounts) {
		t.Errorf("%s: amounts of (post_payments, post_discounts) = (%v, %v), want (%v, %v)", op, p, d, payments, discounts)
	}
}

// lifeCheckConfirmTime checks that OnAccept became the time of the confirmation.
func lifeCheckConfirmTime(t *testing.T, start string, before, after time.Time) {
	t.Helper()
	if !compactTimePattern.MatchString(start) {
		t.Fatalf("query after confirm: time_range.start_time = %q, want OnAccept replaced by a yyyyMMddHHmmss time", start)
	}
	at, err := time.ParseInLocation("20060102150405", start, chinaTime)
	if err != nil {
		t.Fatalf("query after confirm: time_range.start_time %q: %v", start, err)
	}
	if at.Before(before.Truncate(time.Second)) || at.After(after) {
		t.Errorf("query after confirm: time_range.start_time = %s, want the confirmation's time, between %s and %s",
			start, compactTime(before), compactTime(after))
	}
}

// ---- the front end's part ----

// lifeFrontendSign is the front-end sign as the reference (§1.6) defines it, computed here
// rather than with the simulator's code: the non-empty fields but sign, sorted, as k=v joined
// by &, then &key=KEY; HMAC-SHA256 keyed with the APIv2 key; upper-case hex.
func lifeFrontendSign(fields map[string]string, key string) string {
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
	return strings.ToUpper(hex.EncodeToString(mac.Sum(nil)))
}

// lifeCheckSignVector checks lifeFrontendSign against the reference's wxpayScoreUse vector.
func lifeCheckSignVector(t *testing.T) {
	t.Helper()
	got := lifeFrontendSign(map[string]string{
		"mch_id":    "1230000109",
		"nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2",
		"package":   "AAQTnZoAAAABAAAAAAD8m2b8VRdZ2kVdKmHNZiAAAABcwQVtru-5k9MmEOZJ_Pv_Nq7Cw56dNKKN5Ej3Knt5jTHF-NdsP_McFW-iaU3iuJ0gWlNQeG9UihoKi0k2pv1t71M6mpk15X6L1545yNpmPD5uhi3poFV8e_5EdYwi_cbc6tXYVfa0AJUO4OzHGPhMdT4ZMwmFFhD0HQi9mRHQhFRKPwFai4NkkW7vm9mv1test",
		"sign_type": "HMAC-SHA256",
		"timestamp": "1530097563",
	}, "192006250b4c09247ec02edce69f6a2d")
	if want := "8FE703D566295EE01949962A14C0DA644E978283E16F9F7F016C8156868D53F4"; got != want {
		t.Fatalf("lifeFrontendSign on the reference's wxpayScoreUse vector = %s, want %s", got, want)
	}
}

// lifeSignedUse is the older signed wxpayScoreUse extraData for pkg, as the demo merchant's
// front end sends it.
func lifeSignedUse(pkg string) map[string]string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	p := map[string]string{
		"mch_id":    fixtures.DemoMchID,
		"package":   pkg,
		"timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"nonce_str": hex.EncodeToString(nonce),
		"sign_type": "HMAC-SHA256",
	}
	p["sign"] = lifeFrontendSign(p, fixtures.DemoAPIv2Key)
	return p
}

// lifeGetVisit is GET /sim/v1/visits/{id}.
func lifeGetVisit(t *testing.T, sim *simtest.Sim, id string) map[string]any {
	t.Helper()
	resp, err := http.Get(sim.URL + "/sim/v1/visits/" + url.PathEscape(id))
	if err != nil {
		t.Fatalf("GET visit: %v", err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET visit: HTTP %d, body not JSON: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET visit: HTTP %d %v, want 200", resp.StatusCode, v)
	}
	return v
}

// lifeDig follows keys through nested JSON objects; nil where one is missing.
func lifeDig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

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
	deref := func(p *int64) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	sd := ""
	if o.StateDescription != nil {
		sd = *o.StateDescription
	}
	if view.State != o.State || view.StateDescription != sd || view.OrderID != o.OrderID {
		t.Errorf("%s: gopay decoded (state, state_description, order_id) = (%s, %s, %s), the body says (%s, %s, %s)",
			op, view.State, view.StateDescription, view.OrderID, o.State, sd, o.OrderID)
	}
	if nc := o.NeedCollection != nil && *o.NeedCollection; !view.noAmounts && (view.TotalAmount != deref(o.TotalAmount) || view.NeedCollection != nc) {
		t.Errorf("%s: gopay decoded (total_amount, need_collection) = (%d, %v), the body says (%s, %s)",
			op, view.TotalAmount, view.NeedCollection, lifeShow(o.TotalAmount), lifeShow(o.NeedCollection))
	}
	if view.noCollection {
		return o
	}
	gc, c := view.Collection, o.Collection
	switch {
	case gc == nil && c == nil:
	case gc == nil || c == nil:
		t.Errorf("%s: gopay decoded collection %s, the body has %s", op, sdkJSON(gc), sdkJSON(c))
	default:
		same := gc.State == c.State && gc.TotalAmount == deref(c.TotalAmount) && gc.PayingAmount == deref(c.PayingAmount) &&
			gc.PaidAmount == deref(c.PaidAmount) && len(gc.Details) == len(c.Details)
		for i := 0; same && i < len(c.Details); i++ {
			d, w := gc.Details[i], c.Details[i]
			same = int64(d.Seq) == w.Seq && int64(d.Amount) == w.Amount && d.PaidType == w.PaidType && d.PaidTime == w.PaidTime
		}
		if !same {
			t.Errorf("%s: gopay decoded collection %s, the body has %s", op, sdkJSON(gc), sdkJSON(c))
		}
	}
	return o
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

func (g *lifeGopay) pay(t *testing.T, no string) lifeRef {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderPay(context.Background(), fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "pay", rsp, err)
	gopayCheckSignInfo(t, "pay", rsp.SignInfo, fixtures.PlatformSerial, g.key)
	r := rsp.Response
	return lifeRef{AppID: r.Appid, MchID: r.Mchid, OutOrderNo: r.OutOrderNo, ServiceID: r.ServiceId, OrderID: r.OrderId}
}

func (g *lifeGopay) sync(t *testing.T, no string, body map[string]any) lifeOrder {
	t.Helper()
	rsp, err := g.c.V3ScoreOrderSync(context.Background(), no, gopay.BodyMap(body))
	gopayMustSucceed(t, "sync", rsp, err)
	r := rsp.Response
	return g.order(t, "sync", rsp.SignInfo, lifeGopayView{State: r.State, StateDescription: r.StateDescription, OrderID: r.OrderId,
		TotalAmount: r.TotalAmount, NeedCollection: r.NeedCollection, Collection: r.Collection})
}

func (g *lifeGopay) queryTarget(key, value string) string {
	// gopay's parameter order, values not encoded.
	return "/v3/payscore/serviceorder?appid=" + fixtures.DemoAppID + "&" + key + "=" + value + "&service_id=" + fixtures.DemoServiceID
}

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

func (w *lifeWechatpay) pay(t *testing.T, no string) lifeRef {
	t.Helper()
	var r lifeRef
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
	return "/v3/payscore/serviceorder?" + key + "=" + url.QueryEscape(value) +
		"&service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID
}

func (w *lifeWechatpay) firstLogged() []sdkLogged { return nil }
