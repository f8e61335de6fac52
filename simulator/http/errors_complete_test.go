package http_test

// The rows of TestErrorsOrderActions for complete and modify.

import (
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
)

// errCompleteCases are the rows of complete.
func errCompleteCases() []errCase {
	return []errCase{
		{
			name:   "complete on CREATED",
			setup:  []errStep{errCreateOrder("CO-CREATED")},
			req:    errPost(errAction("CO-CREATED", "complete"), errCompleteBody()),
			status: 400,
			code:   "INVALID_REQUEST",
			facts:  append(errStateFacts("complete", "CREATED"), errDetailHas("issue", "DOING/USER_CONFIRM")),
		},
		{
			name:   "complete on REVOKED",
			setup:  errRevoked("CO-REVOKED"),
			req:    errPost(errAction("CO-REVOKED", "complete"), errCompleteBody()),
			status: 400,
			// As production logs show it, not the table's ORDER_CANCELED.
			code:  "INVALID_REQUEST",
			facts: append(errStateFacts("complete", "REVOKED"), errMessageHas("当前订单状态不合法")),
		},
		{
			name:   "complete service_id missing",
			setup:  []errStep{errCreateOrder("CO-NOSVC")},
			req:    errPost(errAction("CO-NOSVC", "complete"), map[string]any{"appid": fixtures.DemoAppID, "total_amount": 0}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "required")},
		},
		{
			name:   "complete unknown order",
			req:    errPost(errAction("CO-UNKNOWN", "complete"), errCompleteBody()),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "CO-UNKNOWN")},
		},
		{
			name:    "complete with total_amount not the sum",
			confirm: errConfirmable("CO-TOTAL", nil),
			req:     errPost(errAction("CO-TOTAL", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "post_discounts": []any{map[string]any{"name": "优惠", "description": "减1元", "amount": 100}}, "total_amount": 300, "time_range": map[string]any{"end_time": compactTime(time.Now())}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailIs("value", 300), errDetailHas("issue", "(200)")},
		},
		{
			name:    "complete with a payment name repeated",
			confirm: errConfirmable("CO-DUP", nil),
			req: errPost(errAction("CO-DUP", "complete"), errRef(map[string]any{
				"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}, map[string]any{"name": "租借费", "amount": 100}},
				"total_amount":  400, "time_range": map[string]any{"end_time": compactTime(time.Now())},
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[1].name"), errDetailHas("issue", "相同订单号下不能出现相同的付费项目名称")},
		},
		{
			name:    "complete post_payments missing",
			confirm: errConfirmable("CO-NOPP", nil),
			req:     errPost(errAction("CO-NOPP", "complete"), errRef(map[string]any{"total_amount": 0})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "post_payments"), errDetailHas("issue", "required")},
		},
		{
			name:    "complete total_amount missing",
			confirm: errConfirmable("CO-NOTOTAL", nil),
			req:     errPost(errAction("CO-NOTOTAL", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "required")},
		},
		{
			name:    "complete post_discounts amount missing",
			confirm: errConfirmable("CO-PDAMOUNT", nil),
			req:     errPost(errAction("CO-PDAMOUNT", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "post_discounts": []any{map[string]any{"name": "优惠", "description": "减1元"}}, "total_amount": 300})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "post_discounts[0].amount"), errDetailHas("issue", "required")},
		},
		{
			name:    "complete end_time in the future",
			confirm: errConfirmable("CO-FUTURE", nil),
			req:     errPost(errAction("CO-FUTURE", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "total_amount": 300, "time_range": map[string]any{"end_time": compactTime(time.Now().Add(time.Hour))}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "实际结束时间不能晚于使用完结接口的时间")},
		},
		{
			name:    "complete end_time before start_time",
			confirm: errConfirmable("CO-BEFORE", nil),
			req:     errPost(errAction("CO-BEFORE", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "total_amount": 300, "time_range": map[string]any{"end_time": compactTime(time.Now().Add(-2 * time.Hour))}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "真实结束时间小于预计开始时间")},
		},
		{
			name: "complete without end_time when create had none",
			confirm: errConfirmable("CO-NOEND", func(b map[string]any) {
				delete(errSub(b, "time_range"), "end_time")
			}),
			req:    errPost(errAction("CO-NOEND", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "total_amount": 300})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "创建订单未填写服务结束时间")},
		},
		{
			name:    "complete a deposit order above its risk_fund",
			confirm: errConfirmable("CO-DEPOSIT", errDeposit),
			req:     errPost(errAction("CO-DEPOSIT", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 10000}}, "total_amount": 10000, "time_range": map[string]any{"end_time": compactTime(time.Now())}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "risk_fund.amount (9900)", "DEPOSIT")},
		},
		{
			name:    "complete again with other parameters",
			confirm: errConfirmable("CO-TWICE", nil),
			setup:   []errStep{errPost(errAction("CO-TWICE", "complete"), errCompleteBody())},
			req:     errPost(errAction("CO-TWICE", "complete"), errCompleteBodyOf(250)),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errMessageHas("订单重入参数校验失败"), errDetailHas("issue", "completed before with other parameters")},
		},
		{
			name:    "complete after sync, with other parameters",
			confirm: errConfirmable("CO-DONE", nil),
			setup:   []errStep{errPost(errAction("CO-DONE", "complete"), errCompleteBody()), errPost(errAction("CO-DONE", "sync"), errSyncBody())},
			req:     errPost(errAction("CO-DONE", "complete"), errCompleteBodyOf(250)),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errMessageHas("订单重入参数校验失败")},
		},
	}
}

// errModifyCases are the rows of modify.
func errModifyCases() []errCase {
	return []errCase{
		{
			name:    "modify on DOING/USER_CONFIRM",
			confirm: errConfirmable("M-CONFIRMED", nil),
			req:     errPost(errAction("M-CONFIRMED", "modify"), errModifyBody()),
			status:  400,
			code:    "INVALID_ORDER_STATE",
			facts:   []errFact{errDetailIs("state_description", "USER_CONFIRM"), errDetailHas("issue", "modify needs")},
		},
		{
			name:    "modify with a discount name repeated",
			confirm: errConfirmable("M-DUP", nil),
			setup:   []errStep{errPost(errAction("M-DUP", "complete"), errCompleteBody())},
			req: errPost(errAction("M-DUP", "modify"), errRef(map[string]any{
				"post_payments":  []any{map[string]any{"name": "租借费", "amount": 300}},
				"post_discounts": []any{map[string]any{"name": "补偿", "description": "a", "amount": 10}, map[string]any{"name": "补偿", "description": "b", "amount": 10}},
				"total_amount":   280, "reason": "用户投诉",
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_discounts[1].name"), errDetailHas("issue", "must not repeat")},
		},
		{
			name:    "modify raising the amount",
			confirm: errConfirmable("M-RAISE", nil),
			setup:   []errStep{errPost(errAction("M-RAISE", "complete"), errCompleteBody())},
			req:     errPost(errAction("M-RAISE", "modify"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 400}}, "total_amount": 400, "reason": "加收"})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "修改后的金额必须小于原金额", "current amount, 300")},
		},
		{
			name:    "modify reason missing",
			confirm: errConfirmable("M-NOREASON", nil),
			setup:   []errStep{errPost(errAction("M-NOREASON", "complete"), errCompleteBody())},
			req:     errPost(errAction("M-NOREASON", "modify"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 200}}, "total_amount": 200})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "required")},
		},
		{
			name:    "modify a deposit order",
			confirm: errConfirmable("M-DEPOSIT", errDeposit),
			setup:   []errStep{errPost(errAction("M-DEPOSIT", "complete"), errCompleteBody())},
			req:     errPost(errAction("M-DEPOSIT", "modify"), errModifyBody()),
			status:  400,
			code:    "INVALID_REQUEST",
			facts:   []errFact{errMessageHas("先免模式订单不支持修改金额"), errDetailHas("issue", "DEPOSIT")},
		},
		{
			name:    "modify after sync",
			confirm: errConfirmable("M-DONE", nil),
			setup:   []errStep{errPost(errAction("M-DONE", "complete"), errCompleteBody()), errPost(errAction("M-DONE", "sync"), errSyncBody())},
			req:     errPost(errAction("M-DONE", "modify"), errModifyBody()),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "modify"), errDetailIs("state", "DONE")},
		},
		{
			name:   "modify on CREATED",
			setup:  []errStep{errCreateOrder("M-CREATED")},
			req:    errPost(errAction("M-CREATED", "modify"), errModifyBody()),
			status: 400,
			code:   "INVALID_ORDER_STATE",
			facts:  append(errStateFacts("modify", "CREATED"), errDetailHas("issue", "USER_PAYING")),
		},
		{
			name:   "modify on REVOKED",
			setup:  errRevoked("M-REVOKED"),
			req:    errPost(errAction("M-REVOKED", "modify"), errModifyBody()),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  errStateFacts("modify", "REVOKED"),
		},
		{
			name:   "modify unknown order",
			req:    errPost(errAction("M-UNKNOWN", "modify"), errModifyBody()),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "M-UNKNOWN")},
		},
	}
}
