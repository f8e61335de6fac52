package http_test

// The rows of TestErrorsOrderActions for pay and sync.

import (
	"time"
)

// errPayCases are the rows of pay.
func errPayCases() []errCase {
	return []errCase{
		{
			name:   "pay on CREATED",
			setup:  []errStep{errCreateOrder("P-CREATED")},
			req:    errPost(errAction("P-CREATED", "pay"), errRef(nil)),
			status: 400,
			code:   "INVALID_ORDER_STATE",
			facts:  errStateFacts("pay", "CREATED"),
		},
		{
			name:   "pay on REVOKED",
			setup:  errRevoked("P-REVOKED"),
			req:    errPost(errAction("P-REVOKED", "pay"), errRef(nil)),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  errStateFacts("pay", "REVOKED"),
		},
		{
			name:   "pay unknown order",
			req:    errPost(errAction("P-UNKNOWN", "pay"), errRef(nil)),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "P-UNKNOWN")},
		},
		{
			name:    "pay on DOING/USER_CONFIRM",
			confirm: errConfirmable("P-CONFIRMED", nil),
			req:     errPost(errAction("P-CONFIRMED", "pay"), errRef(nil)),
			status:  400,
			code:    "INVALID_ORDER_STATE",
			facts:   []errFact{errDetailIs("operation", "pay"), errDetailIs("state_description", "USER_CONFIRM")},
		},
		{
			name:    "pay after sync",
			confirm: errConfirmable("P-DONE", nil),
			setup:   []errStep{errPost(errAction("P-DONE", "complete"), errCompleteBody()), errPost(errAction("P-DONE", "sync"), errSyncBody())},
			req:     errPost(errAction("P-DONE", "pay"), errRef(nil)),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "pay"), errDetailIs("state", "DONE")},
		},
		{
			name:    "pay after cancelling a completed order",
			confirm: errConfirmable("P-CANCELED", nil),
			setup:   []errStep{errPost(errAction("P-CANCELED", "complete"), errCompleteBody()), errCancelOrder("P-CANCELED", "用户取消")},
			req:     errPost(errAction("P-CANCELED", "pay"), errRef(nil)),
			status:  400,
			code:    "ORDER_CANCELED",
			facts:   []errFact{errDetailIs("operation", "pay"), errDetailIs("state", "REVOKED")},
		},
	}
}

// errSyncCases are the rows of sync (and of cancel after sync).
func errSyncCases() []errCase {
	return []errCase{
		{
			name:    "sync twice",
			confirm: errConfirmable("S-TWICE", nil),
			setup:   []errStep{errPost(errAction("S-TWICE", "complete"), errCompleteBody()), errPost(errAction("S-TWICE", "sync"), errSyncBody())},
			req:     errPost(errAction("S-TWICE", "sync"), errSyncBody()),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "sync"), errDetailIs("state", "DONE")},
		},
		{
			name:    "cancel after sync",
			confirm: errConfirmable("C-DONE", nil),
			setup:   []errStep{errPost(errAction("C-DONE", "complete"), errCompleteBody()), errPost(errAction("C-DONE", "sync"), errSyncBody())},
			req:     errCancelOrder("C-DONE", "用户取消"),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "cancel"), errDetailIs("state", "DONE")},
		},
		{
			name:    "cancel after a complete with nothing to collect",
			confirm: errConfirmable("C-ZERO", nil),
			setup:   []errStep{errPost(errAction("C-ZERO", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "免费", "amount": 0}}, "total_amount": 0, "time_range": map[string]any{"end_time": compactTime(time.Now())}}))},
			req:     errCancelOrder("C-ZERO", "用户取消"),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("state", "DONE")},
		},
		{
			name:   "sync on CREATED",
			setup:  []errStep{errCreateOrder("S-CREATED")},
			req:    errPost(errAction("S-CREATED", "sync"), errSyncBody()),
			status: 400,
			code:   "INVALID_ORDER_STATE",
			facts:  errStateFacts("sync", "CREATED"),
		},
		{
			name:   "sync on REVOKED",
			setup:  errRevoked("S-REVOKED"),
			req:    errPost(errAction("S-REVOKED", "sync"), errSyncBody()),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  errStateFacts("sync", "REVOKED"),
		},
		{
			name:   "sync type not Order_Paid",
			setup:  []errStep{errCreateOrder("S-TYPE")},
			req:    errPost(errAction("S-TYPE", "sync"), errRef(map[string]any{"type": "Order_Refund", "detail": map[string]any{"paid_time": "20250101"}})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "type"), errDetailHas("issue", "Order_Paid")},
		},
		{
			name:   "sync paid_time missing",
			setup:  []errStep{errCreateOrder("S-NOTIME")},
			req:    errPost(errAction("S-NOTIME", "sync"), errRef(map[string]any{"type": "Order_Paid"})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "detail.paid_time"), errDetailHas("issue", "required")},
		},
		{
			name:   "sync paid_time bad format",
			setup:  []errStep{errCreateOrder("S-BADTIME")},
			req:    errPost(errAction("S-BADTIME", "sync"), errRef(map[string]any{"type": "Order_Paid", "detail": map[string]any{"paid_time": "2025-01-01"}})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "detail.paid_time"), errDetailHas("issue", "yyyyMMdd")},
		},
		{
			name:   "sync unknown order",
			req:    errPost(errAction("S-UNKNOWN", "sync"), errSyncBody()),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "S-UNKNOWN")},
		},
	}
}
