package http_test

// Table tests for every error of create, and the valid creates next to them. Every error
// response is also checked for WeChat's shape (a JSON object with code and message,
// application/json, signed, never 500).

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestErrorsCreate covers every rejection of POST /v3/payscore/serviceorder.
func TestErrorsCreate(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	now := time.Now()

	recreate := demoOrderBody("RECREATE-1")
	recreateOther := demoOrderBody("RECREATE-1")
	recreateOther["time_range"] = recreate["time_range"] // the same times, whatever the clock says
	recreateOther["attach"] = "another attach"
	errSub(recreateOther, "risk_fund")["amount"] = 5000

	twentyOne := errRepeat("充", 21)
	cases := []errCase{
		{
			name:   "out_order_no missing",
			req:    errCreate(errCreateWith("", func(b map[string]any) { delete(b, "out_order_no") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailHas("issue", "required"), errDetailIs("location", "body")},
		},
		{
			name:   "out_order_no bad characters",
			req:    errCreate(demoOrderBody("NO.1#中")),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("value", "NO.1#中"), errDetailHas("issue", "_-|*")},
		},
		{
			name:   "out_order_no 33 characters",
			req:    errCreate(demoOrderBody(errRepeat("A", 33))),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailHas("issue", "at most 32", "has 33")},
		},
		{
			name: "service_introduction 21 Chinese characters",
			req: errCreate(errCreateWith("INTRO-21", func(b map[string]any) {
				b["service_introduction"] = twentyOne
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_introduction"), errDetailHas("issue", "at most 20", "has 21")},
		},
		{
			name:   "time_range missing",
			req:    errCreate(errCreateWith("TR-MISSING", func(b map[string]any) { delete(b, "time_range") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range"), errDetailHas("issue", "required")},
		},
		{
			name: "start_time missing",
			req: errCreate(errCreateWith("START-MISSING", func(b map[string]any) {
				delete(errSub(b, "time_range"), "start_time")
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "required")},
		},
		{
			name: "start_time not yyyyMMddHHmmss",
			req: errCreate(errCreateWith("START-FORMAT", func(b map[string]any) {
				errSub(b, "time_range")["start_time"] = "2025-01-01 10:00:00"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "yyyyMMddHHmmss", "OnAccept")},
		},
		{
			name: "start_time impossible date",
			req: errCreate(errCreateWith("START-MONTH13", func(b map[string]any) {
				errSub(b, "time_range")["start_time"] = "20251301100000"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "not a valid yyyyMMddHHmmss")},
		},
		{
			name: "end_time before start_time",
			req: errCreate(errCreateWith("END-BEFORE", func(b map[string]any) {
				tr := errSub(b, "time_range")
				tr["start_time"], tr["end_time"] = compactTime(now.Add(3*time.Hour)), compactTime(now.Add(2*time.Hour))
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "later than start_time")},
		},
		{
			name: "end_time less than a minute ahead",
			req: errCreate(errCreateWith("END-SOON", func(b map[string]any) {
				tr := errSub(b, "time_range")
				tr["start_time"], tr["end_time"] = compactTime(now.Add(-time.Hour)), compactTime(now.Add(30*time.Second))
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "more than one minute after the call")},
		},
		{
			name:   "risk_fund missing",
			req:    errCreate(errCreateWith("RF-MISSING", func(b map[string]any) { delete(b, "risk_fund") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund"), errDetailHas("issue", "required")},
		},
		{
			name: "risk_fund.name unknown",
			req: errCreate(errCreateWith("RF-NAME", func(b map[string]any) {
				errSub(b, "risk_fund")["name"] = "DEPOSlT"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund.name"), errDetailIs("value", "DEPOSlT"), errDetailHas("issue", "ESTIMATE_ORDER_COST", "DEPOSIT")},
		},
		{
			name: "risk_fund.amount 0",
			req: errCreate(errCreateWith("RF-ZERO", func(b map[string]any) {
				errSub(b, "risk_fund")["amount"] = 0
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund.amount"), errDetailHas("issue", "at least 1")},
		},
		{
			name:   "attach 257 characters",
			req:    errCreate(errCreateWith("ATTACH-257", func(b map[string]any) { b["attach"] = errRepeat("a", 257) })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "attach"), errDetailHas("issue", "at most 256", "has 257")},
		},
		{
			name:   "notify_url missing",
			req:    errCreate(errCreateWith("NOTIFY-MISSING", func(b map[string]any) { delete(b, "notify_url") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "required")},
		},
		{
			name: "notify_url with a query string",
			req: errCreate(errCreateWith("NOTIFY-QUERY", func(b map[string]any) {
				b["notify_url"] = "https://merchant.example.com/notify?order=1"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "query parameters")},
		},
		{
			name: "notify_url ftp",
			req: errCreate(errCreateWith("NOTIFY-FTP", func(b map[string]any) {
				b["notify_url"] = "ftp://merchant.example.com/notify"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "https")},
		},
		{
			name: "notify_url relative",
			req: errCreate(errCreateWith("NOTIFY-RELATIVE", func(b map[string]any) {
				b["notify_url"] = "/payscore/notify"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "absolute")},
		},
		{
			name: "post_payments 101 items",
			req: errCreate(errCreateWith("PP-101", func(b map[string]any) {
				items := make([]any, 101)
				for i := range items {
					items[i] = map[string]any{"name": fmt.Sprintf("item %d", i), "amount": 1}
				}
				b["post_payments"] = items
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments"), errDetailIs("value", 101), errDetailHas("issue", "at most 100 items")},
		},
		{
			name: "post_payments name missing",
			req: errCreate(errCreateWith("PP-NAME", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"amount": 300}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[0].name"), errDetailHas("issue", "required")},
		},
		{
			name: "post_payments with a name repeated",
			req: errCreate(errCreateWith("PP-DUP", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"name": "租借费", "amount": 300}, map[string]any{"name": "租借费", "amount": 100}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[1].name"), errDetailHas("issue", "相同订单号下不能出现相同的付费项目名称", "post_payments[0]")},
		},
		{
			name: "post_payments item with only a name",
			req: errCreate(errCreateWith("PP-NAMEONLY", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"name": "租借费"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[0].name"), errDetailHas("issue", "amount或description必须填写其一")},
		},
		{
			name: "post_discounts with a name repeated",
			req: errCreate(errCreateWith("PD-DUP", func(b map[string]any) {
				b["post_discounts"] = []any{map[string]any{"name": "满20减1元", "description": "a"}, map[string]any{"name": "满20减1元", "description": "b"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_discounts[1].name"), errDetailHas("issue", "must not repeat")},
		},
		{
			name: "post_discounts description missing",
			req: errCreate(errCreateWith("PD-DESC", func(b map[string]any) {
				b["post_discounts"] = []any{map[string]any{"name": "满20减1元"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_discounts[0].description"), errDetailHas("issue", "required")},
		},
		{
			name:   "need_user_confirm false without openid",
			req:    errCreate(errCreateWith("NOCONFIRM-NOOPENID", func(b map[string]any) { b["need_user_confirm"] = false })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "openid"), errDetailHas("issue", "need_user_confirm is false")},
		},
		{
			name: "string where a number is expected",
			req: errCreate(errCreateWith("RF-STRING", func(b map[string]any) {
				errSub(b, "risk_fund")["amount"] = "9900"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund.amount"), errDetailHas("issue", "JSON number", "JSON string")},
		},
		{
			name: "string where a boolean is expected",
			req: errCreate(errCreateWith("NUC-STRING", func(b map[string]any) {
				b["need_user_confirm"] = "false"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "need_user_confirm"), errDetailHas("issue", "JSON boolean")},
		},
		{
			name: "string where a number is expected in an array item",
			req: errCreate(errCreateWith("PP-STRING", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"name": "租借费", "amount": "300"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("field", "post_payments", "amount"), errDetailHas("issue", "JSON number")},
		},
		{
			name:   "malformed JSON",
			req:    errCreate(`{"out_order_no": "BAD-JSON", }`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体格式错误"), errDetailHas("issue", "not valid JSON", "at byte")},
		},
		{
			name:   "truncated JSON",
			req:    errCreate(`{"out_order_no": "TRUNCATED"`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("issue", "not valid JSON", "ends too early")},
		},
		{
			name:   "empty body",
			req:    errCreate(""),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体为空"), errDetailHas("issue", "JSON object")},
		},
		{
			name:   "JSON array body",
			req:    errCreate(`[{"out_order_no": "ARRAY"}]`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("issue", "must be a JSON object", "array")},
		},
		{
			name:   "two JSON values",
			req:    errCreate(`{"out_order_no": "TWO"} {}`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("issue", "more than one JSON value")},
		},
		{
			name: "wrong Content-Type",
			req: errStep{method: http.MethodPost, target: errOrders, body: demoOrderBody("CT-TEXT"),
				header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "Content-Type"), errDetailIs("location", "header"), errDetailHas("issue", "application/json")},
		},
		{
			name: "body over 1 MiB",
			req: errCreate(errCreateWith("HUGE", func(b map[string]any) {
				b["attach"] = errRepeat("x", 1<<20)
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体过大"), errDetailHas("issue", "1048576 bytes")},
		},
		{
			name:   "appid not bound",
			req:    errCreate(errCreateWith("NOAUTH-APPID", func(b map[string]any) { b["appid"] = "wx0000000000000000" })),
			status: 403,
			code:   "NO_AUTH",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "wx0000000000000000", "not bound", fixtures.DemoAppID)},
		},
		{
			name:   "service_id not bound",
			req:    errCreate(errCreateWith("NOAUTH-SERVICE", func(b map[string]any) { b["service_id"] = "500001" })),
			status: 403,
			code:   "NO_AUTH",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "500001", "not bound", fixtures.DemoServiceID)},
		},
		{
			name:   "re-create with other parameters",
			setup:  []errStep{errCreate(recreate)},
			req:    errCreate(recreateOther),
			status: 400,
			code:   "INVALID_REQUEST",
			facts:  []errFact{errMessageHas("不同的参数"), errDetailIs("field", "out_order_no"), errDetailIs("differing_fields", []string{"attach", "risk_fund"})},
		},
		{
			name: "need_user_confirm false with openid of a user who has not authorized",
			req: errCreate(errCreateWith("NOCONFIRM-OPENID", func(b map[string]any) {
				b["need_user_confirm"], b["openid"] = false, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
			})),
			status: 400,
			code:   "INVALID_REQUEST",
			facts:  []errFact{errMessageHas("用户未授权"), errDetailIs("field", "openid"), errDetailHas("issue", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "not authorized")},
		},
	}
	errRunCases(t, demo, cases)
}

// TestErrorsCreateAccepted pins the boundaries the error rows stand next to: each of these
// creates is valid.
func TestErrorsCreateAccepted(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	now := time.Now()

	items := make([]any, 100)
	for i := range items {
		items[i] = map[string]any{"name": fmt.Sprintf("item %d", i), "amount": 1}
	}
	cases := []struct {
		name string
		body map[string]any
		// header sets request headers.
		header map[string]string
	}{
		{name: "service_introduction 20 Chinese characters", body: errCreateWith("INTRO-20", func(b map[string]any) {
			b["service_introduction"] = errRepeat("充", 20)
		})},
		{name: "out_order_no 32 characters of every allowed kind", body: demoOrderBody("Az09_-|*" + errRepeat("x", 24))},
		{name: "attach 256 characters", body: errCreateWith("ATTACH-256", func(b map[string]any) { b["attach"] = errRepeat("a", 256) })},
		{name: "post_payments 100 items", body: errCreateWith("PP-100", func(b map[string]any) { b["post_payments"] = items })},
		// "商品信息" is the one name that may repeat (reference §9.1).
		{name: "post_payments 商品信息 twice", body: errCreateWith("PP-GOODS", func(b map[string]any) {
			b["post_payments"] = []any{map[string]any{"name": "商品信息", "amount": 300}, map[string]any{"name": "商品信息", "description": "充电线"}}
		})},
		{name: "start_time yyyyMMdd", body: errCreateWith("START-DAY", func(b map[string]any) {
			errSub(b, "time_range")["start_time"] = now.In(chinaTime).Format("20060102")
		})},
		{name: "start_time OnAccept without end_time", body: errCreateWith("START-ONACCEPT", func(b map[string]any) {
			errSub(b, "time_range")["start_time"] = "OnAccept"
			delete(errSub(b, "time_range"), "end_time")
		})},
		{name: "end_time two minutes ahead", body: errCreateWith("END-2MIN", func(b map[string]any) {
			tr := errSub(b, "time_range")
			tr["start_time"], tr["end_time"] = compactTime(now.Add(-time.Hour)), compactTime(now.Add(2*time.Minute))
		})},
		{name: "Content-Type with charset", body: demoOrderBody("CT-CHARSET"),
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			no := tc.body["out_order_no"].(string)
			resp := errSend(t, demo, errStep{method: http.MethodPost, target: errOrders, body: tc.body, header: tc.header})
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", resp.Status, resp.Body)
			}
			var o struct {
				OutOrderNo string `json:"out_order_no"`
				State      string `json:"state"`
			}
			if err := resp.Decode(&o); err != nil {
				t.Fatal(err)
			}
			if o.OutOrderNo != no || o.State != "CREATED" {
				t.Errorf("out_order_no %q state %q, want %q CREATED", o.OutOrderNo, o.State, no)
			}
		})
	}
}
