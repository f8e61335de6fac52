package simulator_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
)

// demoRegistration is the demo merchant's ids and published test certificate under mchid.
func demoRegistration(mchid string) simulator.MerchantRegistration {
	return simulator.MerchantRegistration{
		MchID: mchid, AppIDs: []string{fixtures.DemoAppID}, ServiceIDs: []string{fixtures.DemoServiceID},
		APIv3Key:     fixtures.DemoAPIv3Key,
		Certificates: []simulator.MerchantKey{{Certificate: string(fixtures.DemoMerchantCertPEM)}},
	}
}

// TestLoadMerchants: stored registrations join the merchants at start-up, except one the demo
// merchant hides and one that no longer passes the checks, which are named, not fatal.
func TestLoadMerchants(t *testing.T) {
	svc, db, demo := newTestService(t)
	ctx := t.Context()
	broken := demoRegistration("9000000009")
	broken.APIv3Key = "short"
	for _, r := range []simulator.MerchantRegistration{demoRegistration("9000000001"), demoRegistration(demo.MchID), broken} {
		if _, _, err := db.CreateMerchant(ctx, &r, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	skipped, err := svc.LoadMerchants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || !strings.HasPrefix(skipped[0], demo.MchID+": hidden") || !strings.Contains(skipped[1], "api_v3_key") {
		t.Errorf("skipped = %q; want the demo merchant's mchid hidden and the short key named", skipped)
	}
	if m := svc.Merchants.Merchant("9000000001"); m == nil || m.Registration == nil || m.Keys[fixtures.DemoMerchantSerial] == nil {
		t.Errorf("the stored merchant after loading: %+v", m)
	}
	if svc.Merchants.Merchant(demo.MchID).Registration != nil || svc.Merchants.Merchant("9000000009") != nil {
		t.Error("a hidden or broken registration replaced or added a merchant")
	}
}

// TestRegisterMerchantIsIdempotent: the same registration twice is one merchant, created once;
// other fields for its mchid are refused, naming them.
func TestRegisterMerchantIsIdempotent(t *testing.T) {
	svc, _, _ := newTestService(t)
	ctx := t.Context()
	r := demoRegistration("9000000001")
	first, created, err := svc.RegisterMerchant(ctx, r)
	if err != nil || !created {
		t.Fatalf("first: %v, %v", created, err)
	}
	again, created, err := svc.RegisterMerchant(ctx, r)
	if err != nil || created || again != first {
		t.Errorf("again: %p %v %v; want the same merchant, not created", again, created, err)
	}
	other := r
	other.ServiceIDs = []string{"500001"}
	_, _, err = svc.RegisterMerchant(ctx, other)
	var e *simulator.Error
	if codeOf(err) != simulator.CodeMerchantExists || !errors.As(err, &e) || !strings.Contains(strings.Join(e.Detail["differing_fields"].([]string), ","), "service_ids") {
		t.Errorf("other fields: %v; want MERCHANT_EXISTS naming service_ids", err)
	}
}
