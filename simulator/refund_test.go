package simulator_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// TestRefundOutcomeTransitions: which outcome a test may give a refund in each status, and that
// each one queues its notification, with success_time only on SUCCESS.
func TestRefundOutcomeTransitions(t *testing.T) {
	now := time.Date(2026, 7, 31, 8, 55, 39, 0, time.UTC)
	for _, c := range []struct {
		from, to simulator.RefundStatus
		ok       bool
	}{
		{simulator.RefundProcessing, simulator.RefundSuccess, true},
		{simulator.RefundProcessing, simulator.RefundAbnormal, true},
		{simulator.RefundProcessing, simulator.RefundClosed, true},
		{simulator.RefundAbnormal, simulator.RefundSuccess, true},
		{simulator.RefundAbnormal, simulator.RefundClosed, true},
		{simulator.RefundAbnormal, simulator.RefundAbnormal, false},
		{simulator.RefundSuccess, simulator.RefundClosed, false},
		{simulator.RefundClosed, simulator.RefundSuccess, false},
		{simulator.RefundProcessing, simulator.RefundProcessing, false},
	} {
		r := &simulator.Refund{OutRefundNo: "RF-1", Status: c.from, Sim: simulator.RefundRecord{MchID: "1230000109", NotifyURL: "https://merchant.example.com/refund"}}
		err := r.SetOutcome(c.to, now)
		if (err == nil) != c.ok {
			t.Errorf("%s → %s: err %v, want ok %v", c.from, c.to, err, c.ok)
			continue
		}
		if !c.ok {
			if r.Status != c.from || len(r.Sim.Outbox) != 0 {
				t.Errorf("%s → %s refused but changed the refund: %+v", c.from, c.to, r)
			}
			continue
		}
		if r.Status != c.to || len(r.Sim.Outbox) != 1 || r.Sim.Outbox[0].EventType != simulator.EventType("REFUND."+string(c.to)) {
			t.Errorf("%s → %s: status %s, outbox %v", c.from, c.to, r.Status, r.Sim.Outbox)
		}
		if (r.SuccessTime != "") != (c.to == simulator.RefundSuccess) {
			t.Errorf("%s → %s: success_time %q", c.from, c.to, r.SuccessTime)
		}
	}
}

// TestRefundSettingsText: the settings read and write as a config file gives them, and refuse
// what is not one.
func TestRefundSettingsText(t *testing.T) {
	var s simulator.RefundSettings
	if err := json.Unmarshal([]byte(`{"refund_delay":"1m30s","refund_outcome":"ABNORMAL"}`), &s); err != nil {
		t.Fatal(err)
	}
	if time.Duration(s.RefundDelay) != 90*time.Second || s.RefundOutcome != "ABNORMAL" {
		t.Errorf("decoded %+v", s)
	}
	if b, err := json.Marshal(s); err != nil || string(b) != `{"refund_delay":"1m30s","refund_outcome":"ABNORMAL"}` {
		t.Errorf("encoded %s, %v", b, err)
	}
	for _, bad := range []string{`{"refund_delay":"-1s"}`, `{"refund_delay":"soon"}`, `{"refund_outcome":"PROCESSING"}`, `{"refund_outcome":"success"}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
