package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// visitCreate creates a confirm-mode order as the demo merchant and returns its package.
func visitCreate(t *testing.T, c *client.Client, no string) string {
	t.Helper()
	return visitCreateFor(t, c, no, fixtures.DemoAppID, fixtures.DemoServiceID)
}

func visitCreateFor(t *testing.T, c *client.Client, no, appid, serviceID string) string {
	t.Helper()
	end := time.Now().In(simulator.ChinaTime).Add(3 * time.Hour).Format("20060102150405")
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no": no, "appid": appid, "service_id": serviceID,
		"service_introduction": "共享充电宝",
		"time_range":           map[string]any{"start_time": "OnAccept", "end_time": end},
		"risk_fund":            map[string]any{"name": "DEPOSIT", "amount": 9900},
		"notify_url":           "https://merchant.example.com/payscore/notify",
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("create %s: %v %s", no, err, resp.Body)
	}
	var o struct{ Package string }
	if err := resp.Decode(&o); err != nil || o.Package == "" {
		t.Fatalf("create %s: no package in %s", no, resp.Body)
	}
	return o.Package
}

// visitOpenEnable pre-authorizes authorization_code code as the demo merchant and opens its
// wxpayScoreEnable visit; it returns the visit as POST /sim/v1/visits answers.
func visitOpenEnable(t *testing.T, sim *simtest.Sim, c *client.Client, code string) map[string]any {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/permissions", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "authorization_code": code})
	var tok struct {
		Token string `json:"apply_permissions_token"`
	}
	if err != nil || resp.Decode(&tok) != nil || tok.Token == "" {
		t.Fatalf("permissions: %v %v", err, resp)
	}
	st, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": tok.Token}})
	if st != http.StatusCreated {
		t.Fatalf("open enable visit: %d %v", st, v)
	}
	return v
}

// visitPost posts a JSON body (or nothing) to the control API and decodes the answer.
func visitPost(t *testing.T, sim *simtest.Sim, path string, body any) (int, map[string]any) {
	t.Helper()
	var payload string
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		payload = string(b)
	}
	resp, err := http.Post(sim.URL+path, "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: %d, body not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// signedUse is the older signed wxpayScoreUse extraData, signed as the reference's algorithm
// says: HMAC-SHA256 over the sorted fields with the APIv2 key, upper-case hex.
func signedUse(pkg, key string) map[string]any {
	p := map[string]string{
		"mch_id": fixtures.DemoMchID, "package": pkg, "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"nonce_str": wxcrypto.NewNonce(), "sign_type": "HMAC-SHA256",
	}
	return withSign(p, key)
}

func withSign(p map[string]string, key string) map[string]any {
	delete(p, "sign")
	sign, err := wxcrypto.SignV2(p, key, wxcrypto.SignTypeHMACSHA256)
	if err != nil {
		panic(err)
	}
	out := map[string]any{"sign": sign}
	for k, v := range p {
		out[k] = v
	}
	return out
}

func signedDetail(no, serviceID string) map[string]any {
	return withSign(map[string]string{
		"mch_id": fixtures.DemoMchID, "service_id": serviceID, "out_order_no": no,
		"timestamp": strconv.FormatInt(time.Now().Unix(), 10), "nonce_str": wxcrypto.NewNonce(), "sign_type": "HMAC-SHA256",
	}, fixtures.DemoAPIv2Key)
}

// TestVisitOutcomes: for each of the three ways out of the Pay Score page, the merchant
// creates the order and queries it afterwards with a real SDK (gopay, then wechatpay-go), and
// the visit is opened with extraData the test signed itself by the reference's algorithm.
func TestVisitOutcomes(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	gp, wx := sim.GoPay(t), sim.WechatPayGo(t)
	ctx := context.Background()
	end := time.Now().In(simulator.ChinaTime).Add(3 * time.Hour).Format("20060102150405")
	body := func(no string) map[string]any {
		return map[string]any{
			"out_order_no": no, "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
			"service_introduction": "共享充电宝", "need_user_confirm": true,
			"time_range": map[string]any{"start_time": "OnAccept", "end_time": end},
			"risk_fund":  map[string]any{"name": "DEPOSIT", "amount": 9900},
			"notify_url": "https://merchant.example.com/payscore/notify",
		}
	}
	// Each SDK creates and queries; the order's state is what the merchant sees.
	sdks := []struct {
		name   string
		create func(t *testing.T, no string) (pkg string)
		query  func(t *testing.T, key, value string) (state string)
	}{
		{"gopay", func(t *testing.T, no string) string {
			rsp, err := gp.V3ScoreOrderCreate(ctx, body(no))
			if err != nil || rsp.Code != 0 {
				t.Fatalf("gopay create: %v %+v", err, rsp)
			}
			return rsp.Response.Package
		}, func(t *testing.T, key, value string) string {
			noType := wechat.OutTradeNo
			if key == "query_id" {
				noType = wechat.QueryId
			}
			rsp, err := gp.V3ScoreOrderQuery(ctx, noType, fixtures.DemoAppID, value, fixtures.DemoServiceID)
			if err != nil || rsp.Code != 0 {
				t.Fatalf("gopay query %s=%s: %v %+v", key, value, err, rsp)
			}
			return rsp.Response.State
		}},
		{"wechatpay-go", func(t *testing.T, no string) string {
			result, err := wx.Post(ctx, "https://api.mch.weixin.qq.com/v3/payscore/serviceorder", body(no))
			var o struct{ Package string }
			if err != nil || core.UnMarshalResponse(result.Response, &o) != nil {
				t.Fatalf("wechatpay-go create: %v", err)
			}
			return o.Package
		}, func(t *testing.T, key, value string) string {
			result, err := wx.Get(ctx, "https://api.mch.weixin.qq.com/v3/payscore/serviceorder?"+key+"="+value+
				"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID)
			var o struct{ State string }
			if err != nil || core.UnMarshalResponse(result.Response, &o) != nil {
				t.Fatalf("wechatpay-go query %s=%s: %v", key, value, err)
			}
			return o.State
		}},
	}
	outcomes := []struct {
		name      string
		actions   []string
		wantQuery bool
		wantState string
	}{
		{"confirm then return with params", []string{"confirm", "return"}, true, "DOING"},
		{"confirm then back icon", []string{"confirm", "back"}, false, "DOING"},
		{"back icon without confirming", []string{"back"}, false, "CREATED"},
	}
	for _, sdk := range sdks {
		for i, tt := range outcomes {
			t.Run(sdk.name+"/"+tt.name, func(t *testing.T) {
				no := fmt.Sprintf("visit-outcome-%s-%d", strings.ReplaceAll(sdk.name, "-", ""), i)
				pkg := sdk.create(t, no)
				status, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{
					"businessType": "wxpayScoreUse", "extraData": signedUse(pkg, fixtures.DemoAPIv2Key)})
				if status != http.StatusCreated {
					t.Fatalf("open visit: %d %v", status, v)
				}
				id := v["visit_id"].(string)
				if !strings.HasSuffix(v["page_url"].(string), "/sim/visits/"+id) || v["signed"] != true {
					t.Fatalf("visit = %v", v)
				}
				var last map[string]any
				for _, a := range tt.actions {
					var st int
					st, last = visitPost(t, sim, "/sim/v1/visits/"+id+"/"+a, nil)
					if st != http.StatusOK {
						t.Fatalf("%s: %d %v", a, st, last)
					}
				}
				// The answer to leaving is what App.onShow receives.
				if last["scene"] != float64(1038) {
					t.Fatalf("scene = %v", last["scene"])
				}
				ref := last["referrerInfo"].(map[string]any)
				if ref["appId"] != simulator.PayScoreAppID {
					t.Fatalf("referrerInfo = %v", ref)
				}
				extra, hasExtra := ref["extraData"].(map[string]any)
				if hasExtra != tt.wantQuery {
					t.Fatalf("extraData = %v, want present %v", ref["extraData"], tt.wantQuery)
				}
				var state string
				if tt.wantQuery {
					state = sdk.query(t, "query_id", extra["query_id"].(string))
				} else {
					state = sdk.query(t, "out_order_no", no)
				}
				if state != tt.wantState {
					t.Fatalf("the merchant's query says %s, want %s", state, tt.wantState)
				}
			})
		}
	}
}

// TestVisitTestVectors passes the reference's published front-end sign vectors through the
// visit endpoint: the same inputs must be accepted, so our verification computes their sign.
func TestVisitTestVectors(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	const vectorPackage = "AAQTnZoAAAABAAAAAAD8m2b8VRdZ2kVdKmHNZiAAAABcwQVtru-5k9MmEOZJ_Pv_Nq7Cw56dNKKN5Ej3Knt5jTHF-NdsP_McFW-iaU3iuJ0gWlNQeG9UihoKi0k2pv1t71M6mpk15X6L1545yNpmPD5uhi3poFV8e_5EdYwi_cbc6tXYVfa0AJUO4OzHGPhMdT4ZMwmFFhD0HQi9mRHQhFRKPwFai4NkkW7vm9mv1test"
	// The vector's package must belong to an order; plant one with it.
	visitCreate(t, sim.DemoClient(t), "vector-use")
	if _, err := sim.DB.UpdateOrder(ctx, fixtures.DemoMchID, "vector-use", func(o *simulator.Order) error {
		o.Sim.Package = vectorPackage
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	visitCreate(t, sim.DemoClient(t), "1234323JKHDFE1243252")

	tests := []struct {
		name  string
		body  map[string]any
		valid bool
	}{
		{"wxpayScoreUse", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]string{
			"mch_id": "1230000109", "package": vectorPackage, "timestamp": "1530097563",
			"nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2", "sign_type": "HMAC-SHA256",
			"sign": "8FE703D566295EE01949962A14C0DA644E978283E16F9F7F016C8156868D53F4"}}, true},
		{"wxpayScoreDetail", map[string]any{"businessType": "wxpayScoreDetail", "extraData": map[string]string{
			"mch_id": "1230000109", "service_id": "88888888000011", "out_order_no": "1234323JKHDFE1243252",
			"timestamp": "1530097563", "nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2", "sign_type": "HMAC-SHA256",
			"sign": "5EA003DF79A5F4B5450A0276ADEE4E54E866DF5A43FFE8E5A53E66B307F2C901"}}, true},
		{"wxpayScoreDetail H5", map[string]any{"businessType": "wxpayScoreDetail", "queryString": "mch_id=1230000109&service_id=88888888000011&out_order_no=1234323JKHDFE1243252&timestamp=1530097563&nonce_str=zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2&sign_type=HMAC-SHA256&sign=5EA003DF79A5F4B5450A0276ADEE4E54E866DF5A43FFE8E5A53E66B307F2C901"}, true},
		{"wxpayScoreUse with one digit changed", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]string{
			"mch_id": "1230000109", "package": vectorPackage, "timestamp": "1530097564",
			"nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2", "sign_type": "HMAC-SHA256",
			"sign": "8FE703D566295EE01949962A14C0DA644E978283E16F9F7F016C8156868D53F4"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, v := visitPost(t, sim, "/sim/v1/visits", tt.body)
			if tt.valid && status != http.StatusCreated {
				t.Fatalf("vector rejected: %d %v", status, v)
			}
			if !tt.valid && (status != http.StatusUnauthorized || v["code"] != "SIGN_ERROR") {
				t.Fatalf("altered vector: %d %v, want 401 SIGN_ERROR", status, v)
			}
		})
	}
}

func TestVisitRejections(t *testing.T) {
	t.Parallel()
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	ctx := context.Background()
	demo := sim.DemoClient(t)
	fresh := visitCreate(t, demo, "reject-fresh")
	used := visitCreate(t, demo, "reject-used")
	revoked := visitCreate(t, demo, "reject-revoked")
	expired := visitCreate(t, demo, "reject-expired")
	otherPkg := visitCreateFor(t, sim.Client(t, other.MchID, other.KeySerials()[0], otherKey), "reject-other", other.AppIDs[0], other.ServiceIDs[0])

	// A used package: its order was confirmed through an earlier visit.
	_, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": used}})
	if st, body := visitPost(t, sim, "/sim/v1/visits/"+v["visit_id"].(string)+"/confirm", nil); st != http.StatusOK {
		t.Fatalf("confirm: %d %v", st, body)
	}
	if resp, err := demo.Do(ctx, http.MethodPost, "/v3/payscore/serviceorder/reject-revoked/cancel",
		map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "test"}); err != nil || resp.Status != 200 {
		t.Fatalf("cancel: %v", err)
	}
	if _, err := sim.DB.UpdateOrder(ctx, fixtures.DemoMchID, "reject-expired", func(o *simulator.Order) error {
		o.Sim.CreatedAt = o.Sim.CreatedAt.Add(-61 * time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	use := func(extra any) map[string]any {
		return map[string]any{"businessType": "wxpayScoreUse", "extraData": extra}
	}
	signedWith := func(edit func(map[string]string), key string) map[string]any {
		p := map[string]string{"mch_id": fixtures.DemoMchID, "package": fresh, "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
			"nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2", "sign_type": "HMAC-SHA256"}
		edit(p)
		return use(withSign(p, key))
	}
	unchanged := func(map[string]string) {}
	tampered := signedWith(unchanged, fixtures.DemoAPIv2Key)
	tampered["extraData"].(map[string]any)["nonce_str"] = "changedAfterSigning"
	md5 := signedWith(unchanged, fixtures.DemoAPIv2Key)
	md5Extra := md5["extraData"].(map[string]any)
	md5Extra["sign"], _ = wxcrypto.SignV2(map[string]string{"mch_id": md5Extra["mch_id"].(string), "package": fresh,
		"timestamp": md5Extra["timestamp"].(string), "nonce_str": md5Extra["nonce_str"].(string), "sign_type": "HMAC-SHA256"},
		fixtures.DemoAPIv2Key, wxcrypto.SignTypeMD5)

	tests := []struct {
		name    string
		body    any
		status  int
		code    string
		errCode float64 // 0: no err_code expected
		detail  string  // a substring of the detail, as JSON
	}{
		{"no businessType", map[string]any{"extraData": map[string]any{"package": fresh}}, 400, "PARAM_ERROR", 4185, "businessType is required"},
		{"unknown businessType", map[string]any{"businessType": "wxpayScore", "extraData": map[string]any{"package": fresh}}, 400, "PARAM_ERROR", 4185, "is not one of"},
		{"no extraData", map[string]any{"businessType": "wxpayScoreUse"}, 400, "PARAM_ERROR", 4185, "extraData (or, for H5, queryString) is required"},
		{"extraData and queryString", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{}, "queryString": "package=x"}, 400, "PARAM_ERROR", 0, "must not both be given"},
		{"extraData value is an object", use(map[string]any{"package": map[string]any{}}), 400, "PARAM_ERROR", 0, "extraData.package"},
		{"empty package", use(map[string]any{"package": ""}), 400, "PARAM_ERROR", 4185, "extraData.package is required"},
		{"over-long package", use(map[string]any{"package": strings.Repeat("A", 301)}), 400, "PARAM_ERROR", 4186, "at most 300"},
		{"package with bad characters", use(map[string]any{"package": "abc+def"}), 400, "PARAM_ERROR", 4186, "digits, letters, _ and -"},
		{"unknown package", use(map[string]any{"package": "AAQTnZoAAAABnope"}), 404, "ORDER_NOT_EXIST", 4186, "no order has this package"},
		{"reused package", use(map[string]any{"package": used}), 400, "INVALID_REQUEST", 4186, "single-use"},
		{"cancelled order's package", use(map[string]any{"package": revoked}), 400, "INVALID_REQUEST", 271314190, "REVOKED"},
		{"expired package", use(map[string]any{"package": expired}), 400, "INVALID_REQUEST", 4186, "valid for one hour"},
		{"signed form missing nonce_str", signedWith(func(p map[string]string) { delete(p, "nonce_str") }, fixtures.DemoAPIv2Key), 400, "PARAM_ERROR", 0, "nonce_str"},
		{"sign_type MD5", signedWith(func(p map[string]string) { p["sign_type"] = "MD5" }, fixtures.DemoAPIv2Key), 400, "PARAM_ERROR", 0, "only HMAC-SHA256"},
		{"timestamp not digits", signedWith(func(p map[string]string) { p["timestamp"] = "2018-06-27" }, fixtures.DemoAPIv2Key), 400, "PARAM_ERROR", 0, "seconds (10 digits) or milliseconds (13 digits)"},
		{"timestamp of 12 digits", signedWith(func(p map[string]string) { p["timestamp"] = "153009756300" }, fixtures.DemoAPIv2Key), 400, "PARAM_ERROR", 0, "milliseconds"},
		{"over-long mch_id", signedWith(func(p map[string]string) { p["mch_id"] = strings.Repeat("1", 33) }, fixtures.DemoAPIv2Key), 400, "PARAM_ERROR", 0, "at most 32"},
		{"unknown mch_id", signedWith(func(p map[string]string) { p["mch_id"] = "1999999999" }, fixtures.DemoAPIv2Key), 400, "INVALID_REQUEST", 4188, "not a merchant of this simulator"},
		{"field changed after signing", tampered, 401, "SIGN_ERROR", 0, "sign_string"},
		{"signed with the APIv3 key", signedWith(unchanged, fixtures.DemoAPIv3Key), 401, "SIGN_ERROR", 0, "made with the APIv3 key"},
		{"MD5 sign", md5, 401, "SIGN_ERROR", 0, "MD5"},
		{"other merchant's package", use(withSign(map[string]string{"mch_id": fixtures.DemoMchID, "package": otherPkg,
			"timestamp": "1530097563", "nonce_str": "abc", "sign_type": "HMAC-SHA256"}, fixtures.DemoAPIv2Key)), 400, "INVALID_REQUEST", 4188, "belongs to an order of merchant 1900000001"},
		{"navigate to another mini-program", map[string]any{"appId": "wx0000000000000000", "path": "pages/use/use", "extraData": map[string]any{"package": fresh}}, 400, "PARAM_ERROR", 4185, "wxd8f3793ea3b935b8"},
		{"navigate to an unknown page", map[string]any{"appId": simulator.PayScoreAppID, "path": "pages/index/index", "extraData": map[string]any{"package": fresh}}, 400, "PARAM_ERROR", 4185, "pages/use/use"},
		{"navigate path disagrees with businessType", map[string]any{"businessType": "wxpayScoreDetail", "appId": simulator.PayScoreAppID, "path": "pages/use/use", "extraData": map[string]any{"package": fresh}}, 400, "PARAM_ERROR", 4185, "businessType says wxpayScoreDetail"},
		{"malformed queryString", map[string]any{"businessType": "wxpayScoreUse", "queryString": "package=%zz"}, 400, "PARAM_ERROR", 0, "not a valid query string"},
		{"over-long queryString", map[string]any{"businessType": "wxpayScoreUse", "queryString": "package=" + strings.Repeat("A", 2048)}, 400, "PARAM_ERROR", 0, "at most 2048"},
		{"repeated queryString key", map[string]any{"businessType": "wxpayScoreUse", "queryString": "package=a&package=b"}, 400, "PARAM_ERROR", 0, "must be given once"},
		{"detail of an unbound service", map[string]any{"businessType": "wxpayScoreDetail", "extraData": signedDetail("reject-fresh", "500001")}, 403, "NO_AUTH", 4189, "not bound"},
		{"detail of an unknown order", map[string]any{"businessType": "wxpayScoreDetail", "extraData": signedDetail("no-such-order", fixtures.DemoServiceID)}, 404, "ORDER_NOT_EXIST", 3961, "no order with this out_order_no"},
		{"detail under the wrong service", map[string]any{"businessType": "wxpayScoreDetail", "extraData": signedDetail("reject-fresh", fixtures.DemoServiceIDLong)}, 404, "ORDER_NOT_EXIST", 3961, "belongs to service"},
		{"authorization mode, unknown token", map[string]any{"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": "x"}}, 404, "ORDER_NOT_EXIST", 4186, "no pre-authorization has this apply_permissions_token"},
		{"body not JSON", "{", 400, "PARAM_ERROR", 0, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			var got map[string]any
			if s, ok := tt.body.(string); ok {
				resp, err := http.Post(sim.URL+"/sim/v1/visits", "application/json", strings.NewReader(s))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				status = resp.StatusCode
				_ = json.NewDecoder(resp.Body).Decode(&got)
			} else {
				status, got = visitPost(t, sim, "/sim/v1/visits", tt.body)
			}
			detail, _ := json.Marshal(got["detail"])
			if status != tt.status || got["code"] != tt.code || got["message"] == "" {
				t.Fatalf("got %d %v, want %d %s", status, got, tt.status, tt.code)
			}
			if !strings.Contains(string(detail), tt.detail) {
				t.Errorf("detail %s does not mention %q", detail, tt.detail)
			}
			d, _ := got["detail"].(map[string]any)
			if tt.errCode != 0 && d["err_code"] != tt.errCode {
				t.Errorf("err_code = %v, want %v", d["err_code"], tt.errCode)
			}
		})
	}
}

func TestVisitAccepts(t *testing.T) {
	t.Parallel()
	lenient := fixtures.DemoCredentials()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	ms := strconv.FormatInt(time.Now().UnixMilli(), 10)

	tests := []struct {
		name        string
		body        func(pkg string) map[string]any
		wantForm    string
		wantWarning string
	}{
		{"unsigned package", func(pkg string) map[string]any {
			return map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg}}
		}, simulator.FormExtraData, ""},
		{"timestamp in milliseconds, as WxJava sends it", func(pkg string) map[string]any {
			return map[string]any{"businessType": "wxpayScoreUse", "extraData": withSign(map[string]string{
				"mch_id": lenient.MchID, "package": pkg, "timestamp": ms, "nonce_str": ms, "sign_type": "HMAC-SHA256"}, lenient.APIv2Key)}
		}, simulator.FormExtraData, "milliseconds"},
		{"timestamp as a JSON number", func(pkg string) map[string]any {
			e := signedUse(pkg, fixtures.DemoAPIv2Key)
			e["timestamp"] = json.Number(e["timestamp"].(string))
			return map[string]any{"businessType": "wxpayScoreUse", "extraData": e}
		}, simulator.FormExtraData, ""},
		{"navigateToMiniProgram", func(pkg string) map[string]any {
			return map[string]any{"appId": simulator.PayScoreAppID, "path": "pages/use/use", "extraData": signedUse(pkg, fixtures.DemoAPIv2Key)}
		}, simulator.FormNavigate, ""},
		{"H5 queryString", func(pkg string) map[string]any {
			e := signedUse(pkg, fixtures.DemoAPIv2Key)
			q := url.Values{}
			for k, v := range e {
				q.Set(k, v.(string))
			}
			return map[string]any{"businessType": "wxpayScoreUse", "queryString": q.Encode()}
		}, simulator.FormQueryString, ""},
		{"extra field beside the signed ones", func(pkg string) map[string]any {
			e := signedUse(pkg, fixtures.DemoAPIv2Key)
			e["envVersion"] = "release"
			return map[string]any{"businessType": "wxpayScoreUse", "extraData": e}
		}, simulator.FormExtraData, "envVersion"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkg := visitCreate(t, demo, fmt.Sprintf("accept-%d", i))
			status, v := visitPost(t, sim, "/sim/v1/visits", tt.body(pkg))
			if status != http.StatusCreated || v["form"] != tt.wantForm {
				t.Fatalf("got %d %v, want 201 form %s", status, v, tt.wantForm)
			}
			warnings, _ := json.Marshal(v["warnings"])
			if tt.wantWarning != "" && !strings.Contains(string(warnings), tt.wantWarning) {
				t.Errorf("warnings %s do not mention %q", warnings, tt.wantWarning)
			}
		})
	}
}

func TestVisitAPIv3KeySignAcceptedBySetting(t *testing.T) {
	t.Parallel()
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demo.Settings.AcceptAPIv3KeySign = true
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{demo}})
	pkg := visitCreate(t, sim.DemoClient(t), "v3-sign")
	status, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": signedUse(pkg, fixtures.DemoAPIv3Key)})
	warnings, _ := json.Marshal(v["warnings"])
	if status != http.StatusCreated || !strings.Contains(string(warnings), "accept_apiv3_key_sign") {
		t.Fatalf("got %d %v", status, v)
	}
}

func TestVisitActionRejections(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	open := func(t *testing.T, body map[string]any) string {
		t.Helper()
		status, v := visitPost(t, sim, "/sim/v1/visits", body)
		if status != http.StatusCreated {
			t.Fatalf("open: %d %v", status, v)
		}
		return v["visit_id"].(string)
	}
	useVisit := func(t *testing.T, no string) string {
		return open(t, map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": visitCreate(t, demo, no)}})
	}
	expect := func(t *testing.T, path string, status int, code, detail string) {
		t.Helper()
		st, got := visitPost(t, sim, path, nil)
		d, _ := json.Marshal(got["detail"])
		if st != status || got["code"] != code || !strings.Contains(string(d), detail) {
			t.Fatalf("POST %s = %d %v, want %d %s mentioning %q", path, st, got, status, code, detail)
		}
	}

	t.Run("unknown visit", func(t *testing.T) {
		expect(t, "/sim/v1/visits/nope/confirm", 404, "VISIT_NOT_EXIST", "nope")
	})
	t.Run("return before confirming", func(t *testing.T) {
		expect(t, "/sim/v1/visits/"+useVisit(t, "act-early")+"/return", 400, "INVALID_REQUEST", "after the user confirms")
	})
	t.Run("action after leaving", func(t *testing.T) {
		id := useVisit(t, "act-left")
		visitPost(t, sim, "/sim/v1/visits/"+id+"/back", nil)
		expect(t, "/sim/v1/visits/"+id+"/confirm", 400, "INVALID_REQUEST", "already ended with back_without_params")
		expect(t, "/sim/v1/visits/"+id+"/return", 400, "INVALID_REQUEST", "already ended")
	})
	t.Run("confirm on a detail visit", func(t *testing.T) {
		visitCreate(t, demo, "act-detail")
		id := open(t, map[string]any{"businessType": "wxpayScoreDetail", "extraData": signedDetail("act-detail", fixtures.DemoServiceID)})
		expect(t, "/sim/v1/visits/"+id+"/confirm", 400, "INVALID_REQUEST", "nothing to confirm")
	})
	t.Run("confirm after the merchant cancelled", func(t *testing.T) {
		id := useVisit(t, "act-cancelled")
		resp, err := demo.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/act-cancelled/cancel",
			map[string]any{"appid": fixtures.DemoAppID, "reason": "售罄"})
		if err != nil || resp.Status != 200 {
			t.Fatalf("cancel: %v %v", err, resp)
		}
		expect(t, "/sim/v1/visits/"+id+"/confirm", 400, "ORDER_CANCELED", "confirm needs an order in CREATED")
	})
	t.Run("confirm twice changes the order once", func(t *testing.T) {
		id := useVisit(t, "act-twice")
		for range 2 {
			if st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/confirm", nil); st != 200 || v["confirmed"] != true {
				t.Fatalf("confirm: %d %v", st, v)
			}
		}
		resp, err := http.Get(sim.URL + "/sim/v1/visits/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Order simulator.Order }
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Order.State != simulator.StateDoing {
			t.Fatalf("order after two confirms: %v %+v", err, v.Order)
		}
	})
}

// TestEmptyListsAreArrays: a list endpoint with nothing to list answers [] (a client iterating
// over data must not meet null).
func TestEmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	for _, path := range []string{"/sim/v1/visits", "/sim/v1/orders", "/sim/v1/requests", "/sim/v1/notifications", "/sim/v1/permissions"} {
		resp, err := http.Get(sim.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Data json.RawMessage }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || string(body.Data) != "[]" {
			t.Errorf("GET %s: data = %s (%v), want []", path, body.Data, err)
		}
	}
}

// TestVisitListIncludesAuthorizations: GET /sim/v1/visits lists the visits of orders and of
// authorizations (wxpayScoreEnable) together, newest first.
func TestVisitListIncludesAuthorizations(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	_, use := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": visitCreate(t, c, "list-use")}})
	enable := visitOpenEnable(t, sim, c, "LIST-AUTH")
	list := func(query string) []string {
		r, err := http.Get(sim.URL + "/sim/v1/visits?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var body struct {
			Data []struct {
				ID string `json:"visit_id"`
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range body.Data {
			ids = append(ids, v.ID)
		}
		return ids
	}
	if got, want := list("mchid="+fixtures.DemoMchID), []string{enable["visit_id"].(string), use["visit_id"].(string)}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("visits of the merchant = %v, want %v (newest first)", got, want)
	}
	if got := list("out_order_no=list-use"); len(got) != 1 || got[0] != use["visit_id"] {
		t.Errorf("visits of order list-use = %v", got)
	}
}
