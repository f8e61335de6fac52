package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Tests of the visits (POST /sim/v1/visits and its actions) that the simulator refuses, each
// with the WeChat-shaped error that says why.

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
	tampered["extraData"].(map[string]string)["nonce_str"] = "changedAfterSigning"
	md5 := signedWith(unchanged, fixtures.DemoAPIv2Key)
	md5Extra := md5["extraData"].(map[string]string)
	md5Extra["sign"], _ = wxcrypto.SignV2(map[string]string{"mch_id": md5Extra["mch_id"], "package": fresh,
		"timestamp": md5Extra["timestamp"], "nonce_str": md5Extra["nonce_str"], "sign_type": "HMAC-SHA256"},
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
