package simulator_test

import (
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
)

func TestOrderDeduction(t *testing.T) {
	failing := &simulator.Merchant{MchID: "1900000001"}
	failing.Settings.Deduction = simulator.DeductFail
	tests := []struct {
		name  string
		order simulator.DeductionMode
		m     *simulator.Merchant
		want  simulator.DeductionInForce
	}{
		{"the order's own mode wins", simulator.DeductOnPay, failing, simulator.DeductionInForce{Mode: simulator.DeductOnPay, From: simulator.DeductionFromOrder}},
		{"else the merchant's setting", "", failing, simulator.DeductionInForce{Mode: simulator.DeductFail, From: simulator.DeductionFromMerchant}},
		{"else the default", "", &simulator.Merchant{}, simulator.DeductionInForce{Mode: simulator.DeductImmediately, From: simulator.DeductionFromDefault}},
		{"no merchant: the default", "", nil, simulator.DeductionInForce{Mode: simulator.DeductImmediately, From: simulator.DeductionFromDefault}},
	}
	for _, tt := range tests {
		o := &simulator.Order{}
		o.Sim.Deduction = tt.order
		if got := o.DeductionInForce(tt.m); got != tt.want {
			t.Errorf("%s: DeductionInForce() = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestOrderAwaitingPayment(t *testing.T) {
	paying := &simulator.Collection{State: simulator.UserPaying}
	paid := &simulator.Collection{State: simulator.UserPaid}
	tests := []struct {
		state simulator.OrderState
		desc  simulator.StateDescription
		col   *simulator.Collection
		want  bool
	}{
		{simulator.StateDoing, simulator.MchComplete, paying, true},
		{simulator.StateDoing, simulator.MchComplete, paid, false},
		{simulator.StateDoing, simulator.MchComplete, nil, false},
		{simulator.StateDoing, simulator.UserConfirm, paying, false},
		{simulator.StateDone, simulator.MchComplete, paying, false},
		{simulator.StateCreated, "", nil, false},
	}
	for _, tt := range tests {
		o := &simulator.Order{State: tt.state, StateDescription: tt.desc, Collection: tt.col}
		if got := o.AwaitingPayment(); got != tt.want {
			t.Errorf("%s/%s collection %v: AwaitingPayment() = %v, want %v", tt.state, tt.desc, tt.col, got, tt.want)
		}
	}
}
