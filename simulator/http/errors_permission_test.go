package http_test

// Table tests for every rejection of the authorization mode: the permission APIs, no-confirm
// creates, direct-complete, and the user's side in the control API. Each row asserts the status,
// the code and diagnostic facts, and every answer's shape and signature (errSend, errCheckShape).

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

const permPermissions = "/v3/payscore/permissions"

// permEnv is what a row's request may build on.
type permEnv struct {
	t     *testing.T
	demo  *client.Client
	other *client.Client
}

var permSeq atomic.Int64

// code returns an authorization_code unique within the test binary.
func (e permEnv) code(tag string) string {
	return fmt.Sprintf("%s-%d", tag, permSeq.Add(1))
}

// openid returns a well-formed openid unique within the test binary.
func (e permEnv) openid() string {
	return fmt.Sprintf("oUpF8uErrorsTableUser%07d", permSeq.Add(1))
}

// ok sends a setup step and fails unless it answers 2xx.
func (e permEnv) ok(s errStep) *client.Response {
	e.t.Helper()
	resp := errSend(e.t, e.demo, s)
	if resp.Status < 200 || resp.Status > 299 {
		e.t.Fatalf("setup %s %s: status %d; body %s", s.method, s.target, resp.Status, resp.Body)
	}
	return resp
}

func (e permEnv) apply(code string) string {
	e.t.Helper()
	var out struct {
		Token string `json:"apply_permissions_token"`
	}
	if err := e.ok(errPost(permPermissions, permApplyBody(code))).Decode(&out); err != nil || out.Token == "" {
		e.t.Fatalf("setup apply %s: %v", code, err)
	}
	return out.Token
}

func (e permEnv) seed(openid, code string) {
	e.t.Helper()
	e.ok(errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": openid, "authorization_code": code,
	}))
}

func (e permEnv) terminate(code string) {
	e.t.Helper()
	e.ok(errPost(permCodeTarget(code)+"/terminate", map[string]any{"service_id": fixtures.DemoServiceID, "reason": "测试"}))
}

// openEnable opens a wxpayScoreEnable visit of a fresh pre-authorization and returns its id.
func (e permEnv) openEnable() string {
	e.t.Helper()
	var v struct {
		VisitID string `json:"visit_id"`
	}
	resp := e.ok(errPost("/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": e.apply(e.code("VISIT"))},
	}))
	if err := resp.Decode(&v); err != nil || v.VisitID == "" {
		e.t.Fatalf("setup open visit: %s", resp.Body)
	}
	return v.VisitID
}

func permApplyBody(code string) map[string]any {
	return map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID,
		"authorization_code": code, "notify_url": permNotifyURL,
	}
}

func permApplyWith(edit func(b map[string]any)) map[string]any {
	b := permApplyBody(fmt.Sprintf("APPLY-%d", permSeq.Add(1)))
	edit(b)
	return b
}

func permCodeTarget(code string) string { return permPermissions + "/authorization-code/" + code }

func permOpenIDTarget(openid string) string { return permPermissions + "/openid/" + openid }

func permTerminateBody(edit func(b map[string]any)) map[string]any {
	b := map[string]any{"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "reason": "用户要求解除"}
	if edit != nil {
		edit(b)
	}
	return b
}

func permDirectWith(e permEnv, openid string, edit func(b map[string]any)) map[string]any {
	b := permDirectBody(fmt.Sprintf("DC-%d", permSeq.Add(1)), openid)
	if edit != nil {
		edit(b)
	}
	return b
}

func permEnableOpen(extraData any) errStep {
	return errPost("/sim/v1/visits", map[string]any{"businessType": "wxpayScoreEnable", "extraData": extraData})
}

// permCase is a row: req builds the request under test, doing whatever setup it needs first.
type permCase struct {
	name   string
	req    func(e permEnv) errStep
	status int
	code   string
	facts  []errFact
}

func permStatic(s errStep) func(permEnv) errStep { return func(permEnv) errStep { return s } }

func permRun(t *testing.T, cases []permCase) {
	t.Helper()
	other, key := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	oc := sim.Client(t, errOtherMchID, errOtherSerial, key)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := permEnv{t: t, demo: demo, other: oc}
			errCheckRow(t, errSend(t, demo, tc.req(e)), tc.status, tc.code, tc.facts)
		})
	}
}

// TestErrorsPermissionAPIs covers every rejection of the five permission APIs.
func TestErrorsPermissionAPIs(t *testing.T) {
	t.Parallel()
	permRun(t, []permCase{
		// POST /v3/payscore/permissions
		{"apply without service_id", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { delete(b, "service_id") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "is required")}},
		{"apply without appid", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { delete(b, "appid") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "is required")}},
		{"apply without authorization_code", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { delete(b, "authorization_code") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "authorization_code"), errDetailHas("issue", "is required")}},
		{"apply with a 33-character authorization_code", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { b["authorization_code"] = errRepeat("A", 33) }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "authorization_code"), errDetailHas("issue", "at most 32")}},
		{"apply with a notify_url carrying a query", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { b["notify_url"] = permNotifyURL + "?a=1" }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "query parameters")}},
		{"apply with a relative notify_url", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { b["notify_url"] = "/notify" }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "absolute")}},
		{"apply with authorization_code not a string", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { b["authorization_code"] = 12345 }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "authorization_code"), errDetailHas("issue", "JSON string")}},
		{"apply with an unbound appid", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { b["appid"] = errOtherAppID }))),
			403, "NO_AUTH", []errFact{errMessageHas("商户暂无权限使用此服务"), errDetailIs("field", "appid"), errDetailHas("issue", "not bound")}},
		{"apply with an unbound service_id", permStatic(errPost(permPermissions, permApplyWith(func(b map[string]any) { b["service_id"] = errOtherServiceID }))),
			403, "NO_AUTH", []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "not bound")}},
		{"apply for an authorization_code a user already authorized", func(e permEnv) errStep {
			code, openid := e.code("TAKEN"), e.openid()
			e.seed(openid, code)
			return errPost(permPermissions, permApplyBody(code))
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("已被用户授权"), errDetailIs("field", "authorization_code"), errDetailHas("issue", "already authorized by user oUpF8u", "new authorization_code")}},
		{"apply for an authorization_code whose authorization ended", func(e permEnv) errStep {
			code := e.code("ENDED")
			e.seed(e.openid(), code)
			e.terminate(code)
			return errPost(permPermissions, permApplyBody(code))
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("已解除授权"), errDetailIs("authorization_state", "UNAVAILABLE"), errDetailHas("issue", "was ended", "by the merchant")}},
		{"apply again with another appid", func(e permEnv) errStep {
			code := e.code("APPID")
			resp := errSend(e.t, e.other, errPost(permPermissions, map[string]any{"service_id": errOtherServiceID, "appid": errOtherAppID, "authorization_code": code}))
			if resp.Status != http.StatusOK {
				e.t.Fatalf("setup: %d %s", resp.Status, resp.Body)
			}
			return errStep{as: e.other, method: http.MethodPost, target: permPermissions,
				body: map[string]any{"service_id": errOtherServiceID, "appid": errOtherAppID2, "authorization_code": code}}
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("不同的参数"), errDetailIs("field", "appid"), errDetailHas("issue", "pre-authorized for appid "+errOtherAppID)}},

		// GET .../authorization-code/{authorization_code}
		{"query by code without service_id", permStatic(errGet(permCodeTarget("ANY"))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "service_id"), errDetailIs("location", "query")}},
		{"query by code of an unbound service", permStatic(errGet(permCodeTarget("ANY") + "?service_id=" + errOtherServiceID)),
			403, "NO_AUTH", []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "not bound")}},
		{"query an unknown code", permStatic(errGet(permCodeTarget("NO-SUCH-CODE") + "?service_id=" + fixtures.DemoServiceID)),
			404, "ORDER_NOT_EXIST", []errFact{errMessageHas("请求操作的授权记录不存在"), errDetailIs("authorization_code", "NO-SUCH-CODE"), errDetailHas("issue", "no authorization record", "POST /v3/payscore/permissions")}},
		{"query a code under another service", func(e permEnv) errStep {
			code := e.code("SERVICE")
			e.apply(code)
			return errGet(permCodeTarget(code) + "?service_id=" + fixtures.DemoServiceIDLong)
		}, 404, "ORDER_NOT_EXIST", []errFact{errDetailHas("issue", "exists under service_id ["+fixtures.DemoServiceID+"]")}},
		{"query with a 33-character code", permStatic(errGet(permCodeTarget(errRepeat("C", 33)) + "?service_id=" + fixtures.DemoServiceID)),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "authorization_code"), errDetailIs("location", "path"), errDetailHas("issue", "at most 32")}},
		{"query another merchant's code", func(e permEnv) errStep {
			code := e.code("THEIRS")
			resp := errSend(e.t, e.other, errPost(permPermissions, map[string]any{"service_id": errOtherServiceID, "appid": errOtherAppID, "authorization_code": code}))
			if resp.Status != http.StatusOK {
				e.t.Fatalf("setup: %d %s", resp.Status, resp.Body)
			}
			return errGet(permCodeTarget(code) + "?service_id=" + fixtures.DemoServiceID)
		}, 404, "ORDER_NOT_EXIST", []errFact{errDetailHas("issue", "merchant "+fixtures.DemoMchID+" has no authorization record")}},

		// POST .../authorization-code/{authorization_code}/terminate
		{"terminate without reason", permStatic(errPost(permCodeTarget("ANY")+"/terminate", permTerminateBody(func(b map[string]any) { delete(b, "reason") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "is required")}},
		{"terminate with a 51-character reason", permStatic(errPost(permCodeTarget("ANY")+"/terminate", permTerminateBody(func(b map[string]any) { b["reason"] = errRepeat("原", 51) }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "at most 50")}},
		{"terminate without service_id", permStatic(errPost(permCodeTarget("ANY")+"/terminate", permTerminateBody(func(b map[string]any) { delete(b, "service_id") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "service_id")}},
		{"terminate under an unbound service", permStatic(errPost(permCodeTarget("ANY")+"/terminate", permTerminateBody(func(b map[string]any) { b["service_id"] = errOtherServiceID }))),
			403, "NO_AUTH", []errFact{errDetailIs("field", "service_id")}},
		{"terminate an unknown code", permStatic(errPost(permCodeTarget("NO-SUCH-CODE")+"/terminate", permTerminateBody(nil))),
			404, "ORDER_NOT_EXIST", []errFact{errMessageHas("授权记录不存在"), errDetailHas("issue", "NO-SUCH-CODE")}},
		{"terminate with an empty body", permStatic(errPost(permCodeTarget("ANY")+"/terminate", nil)),
			400, "PARAM_ERROR", []errFact{errDetailHas("issue", "JSON object body")}},

		// GET .../openid/{openid}
		{"query by openid without appid", permStatic(errGet(permOpenIDTarget("oUpF8uX") + "?service_id=" + fixtures.DemoServiceID)),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "appid"), errDetailIs("location", "query")}},
		{"query by openid with an unbound appid", permStatic(errGet(permOpenIDTarget("oUpF8uX") + "?appid=" + errOtherAppID + "&service_id=" + fixtures.DemoServiceID)),
			403, "NO_AUTH", []errFact{errDetailIs("field", "appid")}},
		{"query an openid that never authorized", permStatic(errGet(permOpenIDTarget("oUpF8uNobody") + "?appid=" + fixtures.DemoAppID + "&service_id=" + fixtures.DemoServiceID)),
			404, "ORDER_NOT_EXIST", []errFact{errMessageHas("请求操作的授权记录不存在"), errDetailHas("issue", "oUpF8uNobody never authorized", "/sim/v1/permissions/")}},
		{"query a malformed openid", permStatic(errGet(permOpenIDTarget("oUpF8u%21x") + "?appid=" + fixtures.DemoAppID + "&service_id=" + fixtures.DemoServiceID)),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "openid"), errDetailIs("location", "path"), errDetailHas("issue", "digits, letters")}},

		// POST .../openid/{openid}/terminate
		{"terminate by openid without appid", permStatic(errPost(permOpenIDTarget("oUpF8uX")+"/terminate", permTerminateBody(func(b map[string]any) { delete(b, "appid") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "is required")}},
		{"terminate by openid with an unbound appid", permStatic(errPost(permOpenIDTarget("oUpF8uX")+"/terminate", permTerminateBody(func(b map[string]any) { b["appid"] = errOtherAppID }))),
			403, "NO_AUTH", []errFact{errDetailIs("field", "appid")}},
		{"terminate an openid that never authorized", permStatic(errPost(permOpenIDTarget("oUpF8uNobody")+"/terminate", permTerminateBody(nil))),
			404, "ORDER_NOT_EXIST", []errFact{errDetailHas("issue", "oUpF8uNobody has no authorization record")}},
	})
}

// TestErrorsPermissionOrders covers the refusals of orders without confirmation: create with
// need_user_confirm false, and direct-complete.
func TestErrorsPermissionOrders(t *testing.T) {
	t.Parallel()
	authorized := func(e permEnv) string {
		openid := e.openid()
		e.seed(openid, "")
		return openid
	}
	dc := "/v3/payscore/serviceorder/direct-complete"
	permRun(t, []permCase{
		{"create without confirmation after the authorization ended", func(e permEnv) errStep {
			openid, code := e.openid(), e.code("GONE")
			e.seed(openid, code)
			e.terminate(code)
			return errCreate(permNoConfirmBody(fmt.Sprintf("NC-%d", permSeq.Add(1)), openid))
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户未授权该服务"), errDetailIs("field", "openid"), errDetailHas("issue", "was ended at", "by the merchant")}},
		{"create without confirmation for a user of another service", func(e permEnv) errStep {
			openid := authorized(e)
			b := permNoConfirmBody(fmt.Sprintf("NC-%d", permSeq.Add(1)), openid)
			b["service_id"] = fixtures.DemoServiceIDLong
			return errCreate(b)
		}, 400, "INVALID_REQUEST", []errFact{errDetailHas("issue", "has not authorized service "+fixtures.DemoServiceIDLong, "POST /sim/v1/visits")}},

		{"direct-complete for a user who did not authorize", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uNobodyAtAll0000000000x", nil))),
			400, "INVALID_REQUEST", []errFact{errMessageHas("用户未授权该服务"), errDetailIs("field", "openid"), errDetailHas("issue", "oUpF8uNobodyAtAll0000000000x", "not authorized")}},
		{"direct-complete whose total is not the sum", func(e permEnv) errStep {
			return errPost(dc, permDirectWith(e, authorized(e), func(b map[string]any) { b["total_amount"] = 600 }))
		}, 400, "PARAM_ERROR", []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "(500)")}},
		{"direct-complete without post_payments", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { delete(b, "post_payments") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "post_payments"), errDetailHas("issue", "is required")}},
		{"direct-complete without total_amount", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { delete(b, "total_amount") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "is required")}},
		{"direct-complete without time_range", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { delete(b, "time_range") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "time_range")}},
		{"direct-complete starting OnAccept", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { errSub(b, "time_range")["start_time"] = "OnAccept" }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "no user confirmation")}},
		{"direct-complete without end_time", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { delete(errSub(b, "time_range"), "end_time") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "give the time it ended")}},
		{"direct-complete ending in the future", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) {
			errSub(b, "time_range")["end_time"] = compactTime(time.Now().Add(time.Hour))
		}))), 400, "PARAM_ERROR", []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "不能晚于")}},
		{"direct-complete ending before it started", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) {
			errSub(b, "time_range")["start_time"] = compactTime(time.Now().Add(-time.Hour))
			errSub(b, "time_range")["end_time"] = compactTime(time.Now().Add(-2 * time.Hour))
		}))), 400, "PARAM_ERROR", []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "真实结束时间小于预计开始时间")}},
		{"direct-complete without service_introduction", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { delete(b, "service_introduction") }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "service_introduction")}},
		// notify_url is optional here, but checked when given.
		{"direct-complete with a relative notify_url", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { b["notify_url"] = "/notify" }))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "absolute")}},
		{"direct-complete with two payments of one name", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) {
			p := b["post_payments"].([]map[string]any)
			b["post_payments"] = append(p, maps.Clone(p[0]))
			b["total_amount"] = 1100
		}))), 400, "PARAM_ERROR", []errFact{errDetailIs("field", "post_payments[1].name"), errDetailHas("issue", "相同订单号下不能出现相同的付费项目名称")}},
		{"direct-complete without openid", permStatic(errPost(dc, permDirectWith(permEnv{}, "", nil))),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "openid"), errDetailHas("issue", "is required")}},
		{"direct-complete with an unbound appid", permStatic(errPost(dc, permDirectWith(permEnv{}, "oUpF8uX", func(b map[string]any) { b["appid"] = errOtherAppID }))),
			403, "NO_AUTH", []errFact{errDetailIs("field", "appid")}},
		{"direct-complete repeated with other parameters", func(e permEnv) errStep {
			openid := authorized(e)
			first := permDirectWith(e, openid, nil)
			e.ok(errPost(dc, first))
			// A copy of the first body, so that only attach differs (its times would move on).
			second := maps.Clone(first)
			second["attach"] = "changed"
			return errPost(dc, second)
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("不同的参数"), errDetailIs("field", "out_order_no"), errDetailIs("differing_fields", []string{"attach"})}},
		{"direct-complete of an out_order_no a create used", func(e permEnv) errStep {
			openid := authorized(e)
			no := fmt.Sprintf("DCC-%d", permSeq.Add(1))
			e.ok(errCreateOrder(no))
			return errPost(dc, permDirectBody(no, openid))
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("不同的参数"), errDetailHas("issue", "by create or direct-complete")}},
	})
}

// TestErrorsPermissionControl covers the rejections of the user's side: opening
// wxpayScoreEnable, authorizing, revoking, seeding and listing.
func TestErrorsPermissionControl(t *testing.T) {
	t.Parallel()
	visitAction := func(id, action string, body any) errStep { return errPost("/sim/v1/visits/"+id+"/"+action, body) }
	permRun(t, []permCase{
		{"open wxpayScoreEnable without a token", permStatic(permEnableOpen(map[string]any{})),
			400, "PARAM_ERROR", []errFact{errDetailIs("err_code", 4185), errDetailIs("field", "apply_permissions_token"), errDetailHas("issue", "is required")}},
		{"open wxpayScoreEnable in the older signed form", permStatic(permEnableOpen(withSign(map[string]string{
			"mch_id": fixtures.DemoMchID, "service_id": fixtures.DemoServiceID, "out_request_no": "REQ-1",
			"timestamp": "1530097563", "nonce_str": "abc", "sign_type": "HMAC-SHA256",
		}, fixtures.DemoAPIv2Key))), 400, "PARAM_ERROR", []errFact{errDetailIs("err_code", 4185), errDetailHas("issue", "older signed wxpayScoreEnable form")}},
		{"open wxpayScoreEnable with a malformed token", permStatic(permEnableOpen(map[string]any{"apply_permissions_token": "a b"})),
			400, "PARAM_ERROR", []errFact{errDetailIs("err_code", 4186), errDetailIs("field", "apply_permissions_token"), errDetailHas("issue", "digits, letters")}},
		{"open wxpayScoreEnable with an unknown token", permStatic(permEnableOpen(map[string]any{"apply_permissions_token": "AAQTnZoAAAABnosuchtoken"})),
			404, "ORDER_NOT_EXIST", []errFact{errDetailIs("err_code", 4186), errDetailHas("issue", "no pre-authorization has this apply_permissions_token")}},
		{"open wxpayScoreEnable with a used token", func(e permEnv) errStep {
			code := e.code("USED")
			token := e.apply(code)
			e.seed(e.openid(), code)
			return permEnableOpen(map[string]any{"apply_permissions_token": token})
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户已授权该服务"), errDetailIs("err_code", 4186), errDetailHas("issue", "already authorized", "used once")}},
		{"open wxpayScoreEnable after the merchant terminated", func(e permEnv) errStep {
			code := e.code("TERM")
			token := e.apply(code)
			e.terminate(code)
			return permEnableOpen(map[string]any{"apply_permissions_token": token})
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("授权已解除"), errDetailIs("err_code", 4186), errDetailHas("issue", "was ended", "by the merchant")}},

		{"authorize on a confirmation visit", func(e permEnv) errStep {
			no := fmt.Sprintf("AUTHUSE-%d", permSeq.Add(1))
			var created struct {
				Package string `json:"package"`
			}
			_ = e.ok(errCreateOrder(no)).Decode(&created)
			var v struct {
				VisitID string `json:"visit_id"`
			}
			_ = e.ok(errPost("/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": created.Package}})).Decode(&v)
			return visitAction(v.VisitID, "authorize", nil)
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("当前页面无授权操作"), errDetailHas("issue", "only wxpayScoreEnable visits")}},
		{"confirm on an authorization visit", func(e permEnv) errStep { return visitAction(e.openEnable(), "confirm", nil) },
			400, "INVALID_REQUEST", []errFact{errMessageHas("当前页面无确认操作"), errDetailHas("issue", "only wxpayScoreUse")}},
		{"authorize after the back icon", func(e permEnv) errStep {
			id := e.openEnable()
			e.ok(visitAction(id, "back", nil))
			return visitAction(id, "authorize", nil)
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户已离开支付分页面"), errDetailHas("issue", "back_without_params", "authorize")}},
		{"authorize as a malformed openid", func(e permEnv) errStep {
			return visitAction(e.openEnable(), "authorize", map[string]any{"openid": "o p"})
		},
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "openid"), errDetailHas("issue", "digits, letters")}},
		{"authorize with a body that is not JSON", func(e permEnv) errStep { return visitAction(e.openEnable(), "authorize", "{") },
			400, "PARAM_ERROR", []errFact{errDetailHas("issue", "not valid JSON")}},
		{"authorize as a user already authorized under another code", func(e permEnv) errStep {
			openid, code := e.openid(), e.code("FIRST")
			e.seed(openid, code)
			return visitAction(e.openEnable(), "authorize", map[string]any{"openid": openid})
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户已开启该服务"), errDetailHas("issue", "already authorized", "terminate it first"), errDetailHas("authorization_code", "FIRST-")}},
		{"authorize again as another user", func(e permEnv) errStep {
			id := e.openEnable()
			e.ok(visitAction(id, "authorize", map[string]any{"openid": e.openid()}))
			return visitAction(id, "authorize", map[string]any{"openid": e.openid()})
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户已授权"), errDetailHas("issue", "already authorized as openid")}},
		{"authorize an unknown visit", permStatic(visitAction("no-such-visit", "authorize", nil)),
			404, "VISIT_NOT_EXIST", []errFact{errDetailIs("visit_id", "no-such-visit")}},

		{"revoke an unknown code", permStatic(errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/NO-SUCH-CODE/revoke", nil)),
			404, "ORDER_NOT_EXIST", []errFact{errDetailHas("issue", "no authorization record with authorization_code NO-SUCH-CODE")}},
		{"revoke a permission no user authorized", func(e permEnv) errStep {
			code := e.code("UNBOUND")
			e.apply(code)
			return errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/"+code+"/revoke", nil)
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户未授权该服务"), errDetailIs("authorization_state", "UNBINDUSER")}},
		{"revoke a code of two services without service_id", func(e permEnv) errStep {
			code := e.code("TWICE")
			e.apply(code)
			b := permApplyBody(code)
			b["service_id"] = fixtures.DemoServiceIDLong
			e.ok(errPost(permPermissions, b))
			return errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/"+code+"/revoke", nil)
		}, 400, "PARAM_ERROR", []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "more than one service")}},
		{"revoke for an unknown merchant", permStatic(errPost("/sim/v1/permissions/1999999999/CODE/revoke", nil)),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "mchid"), errDetailIs("location", "path")}},

		{"seed for an unknown merchant", permStatic(errPost("/sim/v1/permissions/1999999999/authorize", map[string]any{"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": "oUpF8uX"})),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "mchid")}},
		{"seed without openid", permStatic(errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID})),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "openid"), errDetailHas("issue", "is required")}},
		{"seed with an unbound appid", permStatic(errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{"service_id": fixtures.DemoServiceID, "appid": errOtherAppID, "openid": "oUpF8uX"})),
			403, "NO_AUTH", []errFact{errDetailIs("field", "appid")}},
		{"seed a user authorized under another code", func(e permEnv) errStep {
			openid := e.openid()
			e.seed(openid, e.code("ONE"))
			return errPost("/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{
				"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": openid, "authorization_code": e.code("TWO"),
			})
		}, 400, "INVALID_REQUEST", []errFact{errMessageHas("用户已开启该服务"), errDetailHas("issue", "terminate it first")}},
		{"list with an unknown state", permStatic(errGet("/sim/v1/permissions?state=OPEN")),
			400, "PARAM_ERROR", []errFact{errDetailIs("field", "state"), errDetailHas("issue", "UNBINDUSER, AVAILABLE, UNAVAILABLE")}},
	})
}

// TestPermissionStoreRefusesSecondAuthorization: two visits of one user race to authorize; the
// store's constraint, not only the service's check, keeps one authorization per user.
func TestPermissionStoreRefusesSecondAuthorization(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	now := time.Now()
	mk := func(id, code string) *simulator.Permission {
		return &simulator.Permission{
			ID: id, MchID: fixtures.DemoMchID, ServiceID: fixtures.DemoServiceID, AppID: fixtures.DemoAppID,
			AuthorizationCode: code, OpenID: "oUpF8uRace", State: simulator.AuthorizationAvailable, CreatedAt: now, UpdatedAt: now,
		}
	}
	if _, created, err := sim.DB.CreatePermission(ctx, mk("race-1", "RACE-1")); err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	_, _, err := sim.DB.CreatePermission(ctx, mk("race-2", "RACE-2"))
	if simulator.ErrorCode(err) != simulator.CodeInvalidRequest || !strings.Contains(err.Error(), "用户已开启该服务") {
		t.Fatalf("second AVAILABLE permission of one user: %v, want INVALID_REQUEST 用户已开启该服务", err)
	}
	// Once the first ends, the user may authorize again.
	if _, err := sim.DB.UpdatePermission(ctx, "race-1", func(p *simulator.Permission) error { return p.Terminate("x", now) }); err != nil {
		t.Fatal(err)
	}
	if _, created, err := sim.DB.CreatePermission(ctx, mk("race-2", "RACE-2")); err != nil || !created {
		t.Fatalf("after terminate: created=%v err=%v", created, err)
	}
}
