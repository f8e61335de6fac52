package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// Against a simulator with a control token, the merchant sends the one it is given
// (--control-token, EXAMPLE_MERCHANT_CONTROL_TOKEN) on its control API calls and works; without
// it, or with another, it stops at once with the 403 and the simulator's reason, instead of
// retrying a refusal that asking again cannot change.
func TestExampleMerchantControlToken(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{ControlToken: "s3cret"})

	o, err := parseOptions(nil, func(k string) string {
		return map[string]string{"EXAMPLE_MERCHANT_CONTROL_TOKEN": "s3cret"}[k]
	})
	if err != nil || o.ControlToken != "s3cret" {
		t.Fatalf("EXAMPLE_MERCHANT_CONTROL_TOKEN: options %+v, %v", o, err)
	}
	if o, err := parseOptions([]string{"--control-token", "flag"}, func(string) string { return "" }); err != nil || o.ControlToken != "flag" {
		t.Fatalf("--control-token: options %+v, %v", o, err)
	}

	m, err := New(t.Context(), Config{SimulatorURL: sim.URL, PublicURL: "http://127.0.0.1:9", ControlToken: "s3cret", Logger: quiet})
	if err != nil {
		t.Fatalf("with the simulator's token: %v", err)
	}
	if m.creds.MchID != sim.Creds.MchID {
		t.Errorf("credentials of %q, want the demo merchant %q", m.creds.MchID, sim.Creds.MchID)
	}

	for _, tc := range []struct{ token, reason string }{
		{"", "requires its control token"},
		{"wrong", "not this simulator's"},
	} {
		// The context ends a retry loop, if there is one; the refusal must end it first.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		_, err := New(ctx, Config{SimulatorURL: sim.URL, PublicURL: "http://127.0.0.1:9", ControlToken: tc.token, RetryEvery: 10 * time.Millisecond, Logger: quiet})
		cancel()
		if err == nil {
			t.Fatalf("token %q: New succeeded", tc.token)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("token %q: New retried the refusal until its context ended: %v", tc.token, err)
		}
		msg := err.Error()
		for _, want := range []string{http.StatusText(http.StatusForbidden), tc.reason, "EXAMPLE_MERCHANT_CONTROL_TOKEN"} {
			if !strings.Contains(msg, want) {
				t.Errorf("token %q: error %q does not say %q", tc.token, msg, want)
			}
		}
	}
}
