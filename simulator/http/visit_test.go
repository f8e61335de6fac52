package http_test

// Tests of the control API's visits (POST /sim/v1/visits and its actions) that succeed;
// visit_rejections_test.go has those refused.

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
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

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
			e := map[string]any{}
			for k, v := range signedUse(pkg, fixtures.DemoAPIv2Key) {
				e[k] = v
			}
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
				q.Set(k, v)
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
