package http_test

// Table tests for the errors of the order actions: cancel here, the others in
// errors_complete_test.go and errors_pay_test.go.

import (
	"net/http"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestErrorsOrderActions covers cancel, complete, modify, pay and sync.
func TestErrorsOrderActions(t *testing.T) {
	t.Parallel()
	other, otherKey := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	oc := sim.Client(t, errOtherMchID, errOtherSerial, otherKey)

	var cases []errCase
	cases = append(cases, errCancelCases(oc)...)
	cases = append(cases, errCompleteCases()...)
	cases = append(cases, errModifyCases()...)
	cases = append(cases, errPayCases()...)
	cases = append(cases, errSyncCases()...)
	errRunCases(t, demo, cases)
}

// errCancelCases are the rows of cancel; oc is the second merchant's client.
func errCancelCases(oc *client.Client) []errCase {
	return []errCase{
		{
			name:   "cancel reason missing",
			setup:  []errStep{errCreateOrder("C-NOREASON")},
			req:    errPost(errAction("C-NOREASON", "cancel"), errRef(nil)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "required")},
		},
		{
			name:   "cancel reason 51 characters",
			setup:  []errStep{errCreateOrder("C-LONGREASON")},
			req:    errCancelOrder("C-LONGREASON", errRepeat("退", 51)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "at most 50", "has 51")},
		},
		{
			name:   "cancel appid missing",
			setup:  []errStep{errCreateOrder("C-NOAPPID")},
			req:    errPost(errAction("C-NOAPPID", "cancel"), map[string]any{"reason": "用户取消"}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "required")},
		},
		{
			name:  "cancel with an appid bound but not the order's",
			setup: []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("C-OTHER-APPID", errOtherAppID)}},
			req: errStep{as: oc, method: http.MethodPost, target: errAction("C-OTHER-APPID", "cancel"),
				body: map[string]any{"appid": errOtherAppID2, "service_id": errOtherServiceID, "reason": "用户取消"}},
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "created with ("+errOtherAppID+")")},
		},
		{
			// The demo merchant has one appid, so "not the order's" is also "not bound"; the
			// simulator answers PARAM_ERROR here where create and query answer NO_AUTH.
			name:   "cancel with an appid not bound",
			setup:  []errStep{errCreateOrder("C-UNBOUND-APPID")},
			req:    errPost(errAction("C-UNBOUND-APPID", "cancel"), map[string]any{"appid": "wx0000000000000000", "reason": "用户取消"}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", fixtures.DemoAppID)},
		},
		{
			name:   "cancel with a service_id not the order's",
			setup:  []errStep{errCreateOrder("C-OTHER-SVC")},
			req:    errPost(errAction("C-OTHER-SVC", "cancel"), map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceIDLong, "reason": "用户取消"}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", fixtures.DemoServiceID)},
		},
		{
			// The two setup cancels with the same reason must both answer 200 (idempotent).
			name: "cancel twice with the same reason, then with another",
			setup: []errStep{
				errCreateOrder("C-TWICE"), errCancelOrder("C-TWICE", "用户取消"), errCancelOrder("C-TWICE", "用户取消"),
			},
			req:    errCancelOrder("C-TWICE", "商户取消"),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  append(errStateFacts("cancel", "REVOKED"), errMessageHas("订单已取消")),
		},
		{
			name:   "cancel unknown order",
			req:    errCancelOrder("C-UNKNOWN", "用户取消"),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "C-UNKNOWN")},
		},
		{
			name:   "cancel order of another merchant",
			setup:  []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("C-OTHER-MCH", errOtherAppID)}},
			req:    errCancelOrder("C-OTHER-MCH", "用户取消"),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "C-OTHER-MCH")},
		},
		{
			name:   "cancel with a bad out_order_no in the path",
			req:    errCancelOrder("C%20BAD", "用户取消"),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("value", "C BAD"), errDetailIs("location", "path")},
		},
		{
			name:   "cancel with an empty body",
			setup:  []errStep{errCreateOrder("C-EMPTY")},
			req:    errPost(errAction("C-EMPTY", "cancel"), ""),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体为空")},
		},
	}
}

// TestErrorsRejectCancelAfterComplete: a merchant set to follow the skills doc cannot cancel a
// completed order awaiting payment; the reference quotes production's answer as 400
// PARAM_ERROR "当前订单状态不满足撤销条件".
func TestErrorsRejectCancelAfterComplete(t *testing.T) {
	t.Parallel()
	demoMerchant, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demoMerchant.Settings.RejectCancelAfterComplete = true
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{demoMerchant}})
	demo := sim.DemoClient(t)

	cases := []errCase{
		{
			name:    "cancel a completed order awaiting payment",
			confirm: errConfirmable("RC-COMPLETED", nil),
			setup:   []errStep{errPost(errAction("RC-COMPLETED", "complete"), errCompleteBody())},
			req:     errCancelOrder("RC-COMPLETED", "用户取消"),
			status:  400,
			code:    "PARAM_ERROR",
			facts: []errFact{
				errDetailIs("state_description", "MCH_COMPLETE"),
				errDetailHas("issue", "reject_cancel_after_complete"),
				// SERVER BUG found at e19d8bd (this row failed there): the message was the
				// generic "当前订单状态不合法", and production's text (reference §2.4) was
				// only in detail.issue.
				errMessageHas("当前订单状态不满足撤销条件"),
			},
		},
		{
			// The setting concerns completed orders only: a confirmed one is still cancelled
			// (setup), and then it is REVOKED.
			name:    "a confirmed order is still cancellable",
			confirm: errConfirmable("RC-CONFIRMED", nil),
			setup:   []errStep{errCancelOrder("RC-CONFIRMED", "用户取消")},
			req:     errPost(errAction("RC-CONFIRMED", "modify"), errModifyBody()),
			status:  400,
			code:    "ORDER_CANCELED",
			facts:   []errFact{errDetailIs("state", "REVOKED")},
		},
	}
	errRunCases(t, demo, cases)
}
