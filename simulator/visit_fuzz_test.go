package simulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Placeholders a fuzz input may hold, replaced before the call so that inputs can reach past
// the lookups and the signature check: the package of a live order, the apply_permissions_token
// of a live pre-authorization, and (as the whole value of sign) the correct front-end sign over
// the input's own fields.
const (
	fuzzPackage = "PKG"
	fuzzToken   = "TOKEN"
	fuzzSign    = "SIGN"
	// fuzzOrder is the out_order_no of the live order.
	fuzzOrder = "FUZZ-VISIT-1"
)

// fuzzVisitService is a Service on an in-memory database holding one order awaiting the user's
// confirmation and one pre-authorization awaiting the user's authorization.
func fuzzVisitService(f *testing.F) (svc *simulator.Service, pkg, token string) {
	ctx := context.Background()
	svc, _, demo := newTestService(f)
	now := time.Now().In(simulator.ChinaTime)
	amount, fund := int64(300), simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 9900}
	o, err := svc.CreateOrder(ctx, demo, simulator.CreateOrderRequest{
		OutOrderNo: fuzzOrder, AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID,
		ServiceIntroduction: "共享充电宝",
		PostPayments:        []simulator.PostPayment{{Name: "租借费", Amount: &amount}},
		TimeRange:           &simulator.TimeRange{StartTime: now.Format("20060102150405"), EndTime: now.Add(2 * time.Hour).Format("20060102150405")},
		RiskFund:            &fund, NotifyURL: "https://merchant.example.com/notify",
	})
	if err != nil {
		f.Fatal(err)
	}
	p, err := svc.ApplyPermission(ctx, demo, simulator.ApplyPermissionRequest{
		ServiceID: fixtures.DemoServiceID, AppID: fixtures.DemoAppID,
		AuthorizationCode: "FUZZ-AUTH-1", NotifyURL: "https://merchant.example.com/notify",
	})
	if err != nil {
		f.Fatal(err)
	}
	return svc, o.Sim.Package, p.Token
}

// fuzzSignedFields are the fields the front-end sign covers, by business type.
var fuzzSignedFields = map[simulator.BusinessType][]string{
	simulator.BusinessUse:    {"mch_id", "package", "timestamp", "nonce_str", "sign_type"},
	simulator.BusinessDetail: {"mch_id", "service_id", "out_order_no", "timestamp", "nonce_str", "sign_type"},
}

// fuzzFrontendSign is the correct sign of params for business type bt with the demo APIv2 key.
func fuzzFrontendSign(bt simulator.BusinessType, params map[string]string) string {
	fields, ok := fuzzSignedFields[bt]
	if !ok {
		fields = fuzzSignedFields[simulator.BusinessUse]
	}
	signed := map[string]string{}
	for _, k := range fields {
		signed[k] = params[k]
	}
	sig, _ := wxcrypto.SignV2(signed, fixtures.DemoAPIv2Key, wxcrypto.SignTypeHMACSHA256)
	return sig
}

// FuzzOpenVisit opens visits with arbitrary businessType, extraData, queryString and navigate
// target: the extraData and queryString parsers, the form checks and the front-end signature
// check. OpenVisit must return a visit or a WeChat error (*simulator.Error, never a system
// error, which would be a 500), and never panic.
func FuzzOpenVisit(f *testing.F) {
	svc, pkg, token := fuzzVisitService(f)
	ts := "1700000000"
	use := `{"mch_id":"1230000109","package":"PKG","timestamp":"` + ts + `","nonce_str":"abc123","sign_type":"HMAC-SHA256","sign":"SIGN"}`
	detail := `{"mch_id":"1230000109","service_id":"88888888000011","out_order_no":"` + fuzzOrder + `","timestamp":"` + ts + `","nonce_str":"abc123","sign_type":"HMAC-SHA256","sign":"SIGN"}`
	for _, seed := range []struct {
		bt, extraData, qs string
		useQS             bool
		appID, path       string
	}{
		{"wxpayScoreUse", `{"package":"PKG"}`, "", false, "", ""},
		{"wxpayScoreUse", use, "", false, "", ""},
		{"wxpayScoreUse", `{"mch_id":"1230000109","package":"PKG","timestamp":1700000000123,"nonce_str":"abc123","sign_type":"HMAC-SHA256","sign":"SIGN"}`, "", false, "", ""},
		{"wxpayScoreUse", `{"mch_id":"1230000109","package":"PKG","timestamp":"` + ts + `","nonce_str":"abc123","sign_type":"HMAC-SHA256","sign":"0000"}`, "", false, "", ""},
		{"wxpayScoreDetail", detail, "", false, "", ""},
		{"wxpayScoreDetail", "", "mch_id=1230000109&service_id=88888888000011&out_order_no=" + fuzzOrder + "&timestamp=" + ts + "&nonce_str=abc123&sign_type=HMAC-SHA256&sign=SIGN", true, "", ""},
		{"wxpayScoreUse", "", "package=PKG", true, "", ""},
		{"wxpayScoreUse", "", "package=PKG&package=PKG", true, "", ""},
		{"wxpayScoreUse", "", "package=%zz", true, "", ""},
		{"wxpayScoreEnable", `{"apply_permissions_token":"TOKEN"}`, "", false, "", ""},
		{"", `{"package":"PKG"}`, "", false, simulator.PayScoreAppID, "pages/use/use"},
		{"wxpayScoreDetail", detail, "", false, simulator.PayScoreAppID, "pages/record/detail?x=1"},
		{"wxpayScoreUse", `{"package":["PKG"]}`, "", false, "", ""},
		{"wxpayScoreUse", `{"package":null,"":{}}`, "", false, "", ""},
		{"wxpayScoreUse", `{"package":"PKG"}`, "package=PKG", true, "", ""},
		{"wxpayScoreCancel", `{}`, "", false, "", ""},
		{"", "", "", false, "wx0000", "pages/use/use"},
	} {
		f.Add(seed.bt, []byte(seed.extraData), seed.qs, seed.useQS, seed.appID, seed.path)
	}
	f.Fuzz(func(t *testing.T, businessType string, extraData []byte, queryString string, useQueryString bool, appID, path string) {
		bt := simulator.BusinessType(businessType)
		r := simulator.OpenVisitRequest{BusinessType: bt, AppID: appID, Path: path}
		live := strings.NewReplacer(fuzzPackage, pkg, fuzzToken, token)
		if len(extraData) > 0 {
			// What the HTTP layer would have refused to decode never reaches OpenVisit.
			if json.Unmarshal([]byte(live.Replace(string(extraData))), &r.ExtraData) != nil {
				return
			}
			if sign, ok := r.ExtraData["sign"]; ok && string(sign) == `"`+fuzzSign+`"` {
				params := map[string]string{}
				for k, raw := range r.ExtraData {
					var s string
					if json.Unmarshal(raw, &s) != nil {
						s = string(raw)
					}
					params[k] = s
				}
				r.ExtraData["sign"], _ = json.Marshal(fuzzFrontendSign(bt, params))
			}
		}
		if useQueryString {
			qs := live.Replace(queryString)
			if values, err := url.ParseQuery(qs); err == nil && values.Get("sign") == fuzzSign {
				params := map[string]string{}
				for k := range values {
					params[k] = values.Get(k)
				}
				qs = strings.Replace(qs, "sign="+fuzzSign, "sign="+fuzzFrontendSign(bt, params), 1)
			}
			r.QueryString = &qs
		}

		v, err := svc.OpenVisit(context.Background(), r)
		if err != nil {
			var e *simulator.Error
			if !errors.As(err, &e) {
				t.Fatalf("OpenVisit(%+v) failed with %v, which is not a WeChat error: the client would get a 500", r, err)
			}
			if e.Code == "" || e.Code == simulator.CodeSystemError || e.Message == "" {
				t.Fatalf("OpenVisit(%+v) = %s %q: a rejection of the client's input must name its code and message", r, e.Code, e.Message)
			}
			if v != nil {
				t.Fatalf("OpenVisit returned both a visit and %v", err)
			}
			return
		}
		if v == nil || v.ID == "" {
			t.Fatalf("OpenVisit(%+v) returned no visit and no error", r)
		}
		if _, err := svc.FindVisit(context.Background(), v.ID); err != nil {
			t.Fatalf("the visit OpenVisit returned cannot be found: %v", err)
		}
	})
}
