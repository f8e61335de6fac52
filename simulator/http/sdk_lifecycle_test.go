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
// The orders and the checks are in sdk_lifecycle_order_test.go, the two SDKs' sides in
// sdk_lifecycle_sdks_test.go; the gopay, wechatpay-go, sdk* and visit* helpers live in
// helpers_sdk_test.go and helpers_visit_test.go.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

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
	pay(t *testing.T, no string) sdkOrderRef
	sync(t *testing.T, no string, body map[string]any) lifeOrder
	// queryTarget is the request target the SDK sends for a query by key.
	queryTarget(key, value string) string
	// firstLogged is what the request log holds before the lifecycle's first call.
	firstLogged() []sdkLogged
}

// lifeRun drives one order through its life. onAccept chooses the create's start_time: OnAccept
// or a time half an hour ago.

// lifeTrip is one order on its way through the lifecycle: its merchant, its identifiers and the
// time range its steps must keep.
type lifeTrip struct {
	sim *simtest.Sim
	m   lifeMerchant
	id  lifeIDs
	// start and end are the time range: start as created until the user confirms, then the
	// actual start; end as created until complete, then the actual end.
	start, end string
}

// lifeRun drives one order through its life. onAccept chooses the create's start_time: OnAccept
// or a time half an hour ago.
func lifeRun(t *testing.T, sim *simtest.Sim, m lifeMerchant, tag string, onAccept bool) {
	lifeCheckSignVector(t)
	trip := &lifeTrip{sim: sim, m: m}
	pkg := trip.create(t, sdkOutOrderNo(t, tag), onAccept)
	visitID := trip.openVisit(t, pkg)
	trip.confirm(t, visitID, onAccept)
	queryID := trip.returnToMerchant(t, visitID)
	trip.resolve(t, queryID)
	trip.complete(t)
	trip.modify(t)
	trip.pay(t)
	trip.sync(t)
	trip.checkRequestLog(t, queryID)
}

// query queries the order by out_order_no and checks it against w.
func (trip *lifeTrip) query(t *testing.T, op string, w lifeWant) lifeOrder {
	t.Helper()
	o := trip.m.query(t, op, "out_order_no", trip.id.no)
	lifeCheck(t, op, o, trip.id, w)
	return o
}

// create is step 1: create order no, in confirm mode. It returns the order's package.
func (trip *lifeTrip) create(t *testing.T, no string, onAccept bool) string {
	now := time.Now()
	trip.start = "OnAccept"
	if !onAccept {
		trip.start = compactTime(now.Add(-30 * time.Minute))
	}
	trip.end = compactTime(now.Add(3 * time.Hour))

	created, pkg := trip.m.create(t, sdkCreateOrderBody(no, trip.start, trip.end))
	orderID := created.OrderID
	if !sdkOrderIDPattern.MatchString(orderID) {
		t.Fatalf("create: order_id = %q, want 31 digits", orderID)
	}
	if pkg == "" {
		t.Fatal("create: no package; a confirm-mode order needs one")
	}
	trip.id = lifeIDs{no: no, orderID: orderID}
	lifeCheck(t, "create", created, trip.id, lifeCreatedWant)
	lifeCheckTimeRange(t, "create", created, trip.start, trip.end)
	trip.query(t, "query after create", lifeCreatedWant)
	return pkg
}

// lifeCreatedWant is the order before the user confirms it.
var lifeCreatedWant = lifeWant{State: "CREATED"}

// lifeConfirmedWant is the order once the user has confirmed it.
var lifeConfirmedWant = lifeWant{OpenID: lifeUser, State: "DOING", StateDescription: "USER_CONFIRM"}

// openVisit is step 2: the merchant's front end opens the Pay Score page with the older, signed
// extraData, for the user lifeUser, from the mini-program of the order's appid. It returns the
// visit's id.
func (trip *lifeTrip) openVisit(t *testing.T, pkg string) string {
	sim, no := trip.sim, trip.id.no
	extra := signedUse(pkg, fixtures.DemoAPIv2Key)
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
	trip.query(t, "query after opening the page", lifeCreatedWant)
	return visitID
}

// confirm is step 3: the user confirms. With OnAccept, the start becomes the confirmation's
// time.
func (trip *lifeTrip) confirm(t *testing.T, visitID string, onAccept bool) {
	beforeConfirm := time.Now()
	status, v := visitPost(t, trip.sim, "/sim/v1/visits/"+visitID+"/confirm", nil)
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
	gv := lifeGetVisit(t, trip.sim, visitID)
	if gv["confirmed"] != true || gv["outcome"] != nil || gv["appShow"] != nil {
		t.Errorf("GET visit after confirm: (confirmed, outcome, appShow) = (%v, %v, %v), want (true, none, none)",
			gv["confirmed"], gv["outcome"], gv["appShow"])
	}
	if u := lifeDig(v, "order", "openid"); u != lifeUser {
		t.Errorf("confirm: order.openid = %v, want the visit's user %s", u, lifeUser)
	}
	confirmed := trip.query(t, "query after confirm", lifeConfirmedWant)
	if confirmed.TimeRange == nil {
		t.Fatal("query after confirm: no time_range")
	}
	if onAccept {
		trip.start = confirmed.TimeRange.StartTime
		lifeCheckConfirmTime(t, trip.start, beforeConfirm, afterConfirm)
	}
	lifeCheckTimeRange(t, "query after confirm", confirmed, trip.start, trip.end)
}

// returnToMerchant is step 4: the user taps the in-page return button; App.onShow receives the
// query_id, which it returns.
func (trip *lifeTrip) returnToMerchant(t *testing.T, visitID string) string {
	status, v := visitPost(t, trip.sim, "/sim/v1/visits/"+visitID+"/return", nil)
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
	gv := lifeGetVisit(t, trip.sim, visitID)
	if gv["confirmed"] != true || gv["outcome"] != "return_with_params" || gv["query_id"] != queryID ||
		lifeDig(gv, "appShow", "scene") != float64(1038) || lifeDig(gv, "appShow", "referrerInfo", "appId") != "wxd8f3793ea3b935b8" ||
		lifeDig(gv, "appShow", "referrerInfo", "extraData", "query_id") != queryID {
		t.Errorf("GET visit after return: (confirmed, outcome, query_id, appShow) = (%v, %v, %v, %s), want (true, return_with_params, %s, the return's answer)",
			gv["confirmed"], gv["outcome"], gv["query_id"], sdkJSON(gv["appShow"]), queryID)
	}
	return queryID
}

// resolve is step 5: the merchant resolves the query_id with the query API.
func (trip *lifeTrip) resolve(t *testing.T, queryID string) {
	byQueryID := trip.m.query(t, "query by query_id", "query_id", queryID)
	lifeCheck(t, "query by query_id", byQueryID, trip.id, lifeConfirmedWant)
	lifeCheckTimeRange(t, "query by query_id", byQueryID, trip.start, trip.end)
	trip.query(t, "query after query by query_id", lifeConfirmedWant)
}

// complete is step 6: the service ended a moment ago, after it started.
func (trip *lifeTrip) complete(t *testing.T) {
	startAt, err := time.ParseInLocation("20060102150405", trip.start, chinaTime)
	if err != nil {
		t.Fatalf("start_time %q: %v", trip.start, err)
	}
	endAt := time.Now().Add(-time.Minute).Truncate(time.Second)
	if !endAt.After(startAt) {
		endAt = startAt.Add(time.Second)
	}
	// The end must not lie in the simulator's future: wait until it is past.
	time.Sleep(time.Until(endAt.Add(50 * time.Millisecond)))
	trip.end = compactTime(endAt)
	completeBody := lifeCompleteBody(trip.end)
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
	completed := trip.m.complete(t, trip.id.no, completeBody)
	lifeCheck(t, "complete", completed, trip.id, answerWant)
	lifeCheckTimeRange(t, "complete", completed, trip.start, trip.end)
	lifeCheckItems(t, "complete", completed, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount})
	q := trip.query(t, "query after complete", completedWant)
	lifeCheckTimeRange(t, "query after complete", q, trip.start, trip.end)
	lifeCheckItems(t, "query after complete", q, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount})
}

// lifeModifiedWant is the order once modify has lowered its amount.
var lifeModifiedWant = lifeWant{
	OpenID: lifeUser, State: "DOING", StateDescription: "MCH_COMPLETE", TotalAmount: lifePtr[int64](lifeModifyTotal), NeedCollection: lifePtr(true),
	Collection: &lifeCollectionWant{State: "USER_PAYING", TotalAmount: lifeModifyTotal, PayingAmount: lifeModifyTotal, PaidAmount: 0},
}

// modify is step 7: modify the amount down.
func (trip *lifeTrip) modify(t *testing.T) {
	modifyBody := lifeModifyBody()
	if got := lifeSum(modifyBody); got != lifeModifyTotal || modifyBody["total_amount"] != lifeModifyTotal {
		t.Fatalf("modify body: items sum to %d, total_amount %v, want both %d", got, modifyBody["total_amount"], lifeModifyTotal)
	}
	modified := trip.m.modify(t, trip.id.no, modifyBody)
	lifeCheck(t, "modify", modified, trip.id, lifeModifiedWant)
	lifeCheckItems(t, "modify", modified, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount, lifeCompensationAmount})
	q := trip.query(t, "query after modify", lifeModifiedWant)
	lifeCheckItems(t, "query after modify", q, []int64{sdkPaymentAmount, lifeCableAmount}, []int64{lifeFirstDiscount, lifeCompensationAmount})
}

// pay is step 8: pay (催收), answered with the order's identifiers. The deduction it asks for
// fails (see lifeStart), so the order still waits for payment.
func (trip *lifeTrip) pay(t *testing.T) {
	no := trip.id.no
	paid := trip.m.pay(t, no)
	if want := (sdkOrderRef{fixtures.DemoAppID, fixtures.DemoMchID, no, fixtures.DemoServiceID, trip.id.orderID}); paid != want {
		t.Errorf("pay: response = %+v, want %+v", paid, want)
	}
	trip.query(t, "query after pay", lifeModifiedWant)
}

// sync is step 9: the merchant was paid through its own channel.
func (trip *lifeTrip) sync(t *testing.T) {
	paidTime := compactTime(time.Now())
	syncBody := sdkSyncBody(time.Now())
	syncBody["detail"] = map[string]any{"paid_time": paidTime}
	// state_description is returned only while DOING.
	doneWant := lifeWant{
		OpenID: lifeUser, State: "DONE", TotalAmount: lifePtr[int64](lifeModifyTotal), NeedCollection: lifePtr(true),
		Collection: &lifeCollectionWant{State: "USER_PAID", TotalAmount: lifeModifyTotal, PayingAmount: 0, PaidAmount: lifeModifyTotal,
			Details: []lifeDetail{{Seq: 1, Amount: lifeModifyTotal, PaidType: "MCH", PaidTime: paidTime}}},
	}
	lifeCheck(t, "sync", trip.m.sync(t, trip.id.no, syncBody), trip.id, doneWant)
	q := trip.query(t, "query after sync", doneWant)
	lifeCheckTimeRange(t, "query after sync", q, trip.start, trip.end)
}

// checkRequestLog checks that the request log holds the lifecycle's calls, in order.
func (trip *lifeTrip) checkRequestLog(t *testing.T, queryID string) {
	no, m := trip.id.no, trip.m
	path := "/v3/payscore/serviceorder/" + url.PathEscape(no)
	byNo := m.queryTarget("out_order_no", no)
	sdkCheckRequestLog(t, trip.sim, append(m.firstLogged(), []sdkLogged{
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

// ---- the front end's part ----

// lifeCheckSignVector checks withSign against the reference's wxpayScoreUse vector.
func lifeCheckSignVector(t *testing.T) {
	t.Helper()
	got := withSign(map[string]string{
		"mch_id":    "1230000109",
		"nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2",
		"package":   "AAQTnZoAAAABAAAAAAD8m2b8VRdZ2kVdKmHNZiAAAABcwQVtru-5k9MmEOZJ_Pv_Nq7Cw56dNKKN5Ej3Knt5jTHF-NdsP_McFW-iaU3iuJ0gWlNQeG9UihoKi0k2pv1t71M6mpk15X6L1545yNpmPD5uhi3poFV8e_5EdYwi_cbc6tXYVfa0AJUO4OzHGPhMdT4ZMwmFFhD0HQi9mRHQhFRKPwFai4NkkW7vm9mv1test",
		"sign_type": "HMAC-SHA256",
		"timestamp": "1530097563",
	}, "192006250b4c09247ec02edce69f6a2d")["sign"]
	if want := "8FE703D566295EE01949962A14C0DA644E978283E16F9F7F016C8156868D53F4"; got != want {
		t.Fatalf("withSign on the reference's wxpayScoreUse vector = %s, want %s", got, want)
	}
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
