package simulator_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// visitActions is what the page offers in each of visitStates (visit_test.go). A subject that
// would refuse the action (an order revoked meanwhile, an expired token, a store that did not
// load it) does not take the button away: WeChat's page shows it and reports the failure.
var visitActions = map[string][]simulator.VisitActionName{
	"wxpayScoreUse, open":                          useOpenActions,
	"wxpayScoreUse, open, order revoked meanwhile": useOpenActions,
	"wxpayScoreUse, open, order not loaded":        useOpenActions,
	"wxpayScoreUse, not eligible":                  leaveActions,
	"wxpayScoreUse, confirmed":                     leaveActions,
	"wxpayScoreUse, confirmed, order not loaded":   leaveActions,
	"wxpayScoreUse, left":                          {},
	"wxpayScoreDetail, open":                       leaveActions,
	"wxpayScoreEnable, open":                       enableActions,
	"wxpayScoreEnable, token expired":              enableActions,
	"wxpayScoreEnable, authorized":                 leaveActions,
	"wxpayScoreEnable, left":                       {},
	"wxpayScoreEnable, permission not loaded":      enableActions,
}

var (
	// useOpenActions are the confirmation page's: confirm, decline (the in-page return without
	// confirming), not eligible (Pay Score refusing the user), and WeChat's two ways back.
	useOpenActions = []simulator.VisitActionName{simulator.ActionConfirm, simulator.ActionDecline, simulator.ActionNotEligible,
		simulator.ActionBack, simulator.ActionAndroidBack}
	leaveActions  = []simulator.VisitActionName{simulator.ActionReturn, simulator.ActionBack, simulator.ActionAndroidBack}
	enableActions = append([]simulator.VisitActionName{simulator.ActionAuthorize}, leaveActions...)
	// leaving are the actions that end a visit.
	leaving = []simulator.VisitActionName{simulator.ActionDecline, simulator.ActionReturn, simulator.ActionBack, simulator.ActionAndroidBack}
)

// TestVisitActions lists what a visit offers in each state, with a label and an effect for
// each, and an empty list (never nil, so that JSON shows []) once the user has left.
func TestVisitActions(t *testing.T) {
	for state, build := range visitStates {
		want, ok := visitActions[state]
		if !ok {
			t.Errorf("visit state %q has no row in visitActions", state)
			continue
		}
		actions := build(t).Actions()
		if actions == nil {
			t.Errorf("%s: Actions() is nil, want an empty list", state)
		}
		var got []simulator.VisitActionName
		for _, a := range actions {
			got = append(got, a.Name)
			if a.Label == "" || a.Effect == "" || a.LabelZH() == "" || a.LabelEN() == "" {
				t.Errorf("%s: %s has label %q, effect %q; want both, the label in Chinese and English", state, a.Name, a.Label, a.Effect)
			}
			if a.Leaves != a.Name.Leaves() || a.Leaves != slices.Contains(leaving, a.Name) {
				t.Errorf("%s: %s leaves %v", state, a.Name, a.Leaves)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Actions() = %v, want %v", state, got, want)
		}
	}
}

// TestVisitActionsAreTheRule checks every row of visitTransitions (visit_test.go) against what
// the visit offers: an action the visit does not offer is refused with INVALID_REQUEST, or is a
// harmless repeat (confirming a confirmed visit, authorizing again as the same user) that changes
// nothing; an offered action fails only when its subject refuses it.
func TestVisitActionsAreTheRule(t *testing.T) {
	subjectRefuses := []string{
		"wxpayScoreUse, open, order revoked meanwhile", "wxpayScoreUse, open, order not loaded",
		"wxpayScoreUse, confirmed, order not loaded", "wxpayScoreEnable, token expired",
		"wxpayScoreEnable, permission not loaded",
	}
	repeats := map[[2]string]bool{
		{"confirm", "wxpayScoreUse, confirmed"}:                   true,
		{"confirm", "wxpayScoreUse, confirmed, order not loaded"}: true,
		{"authorize", "wxpayScoreEnable, authorized"}:             true,
	}
	for _, tr := range visitTransitions {
		name, _, _ := strings.Cut(tr.op, " as ")
		offered := slices.Contains(visitActions[tr.from], simulator.VisitActionName(name))
		switch {
		case repeats[[2]string{tr.op, tr.from}]:
			if tr.code != "" || tr.want != visitStateOf(visitStates[tr.from](t)) {
				t.Errorf("%s from %s: a repeat must succeed and change nothing (row: %+v)", tr.op, tr.from, tr)
			}
		case !offered && tr.code != simulator.CodeInvalidRequest:
			t.Errorf("%s from %s is not offered, but the row says code %q", tr.op, tr.from, tr.code)
		case offered && tr.code != "" && !slices.Contains(subjectRefuses, tr.from):
			t.Errorf("%s from %s is offered, but refused with %q", tr.op, tr.from, tr.code)
		}
	}
}

// TestVisitActionEffects checks that the return button's effect names what the merchant gets
// back, which differs by business type.
func TestVisitActionEffects(t *testing.T) {
	for state, want := range map[string]string{
		"wxpayScoreUse, confirmed": "query_id",
		"wxpayScoreDetail, open":   "no query_id",
		"wxpayScoreEnable, open":   "USER_OPEN_SERVICE",
	} {
		actions := visitStates[state](t).Actions()
		i := slices.IndexFunc(actions, func(a simulator.VisitAction) bool { return a.Name == simulator.ActionReturn })
		if i < 0 {
			t.Fatalf("%s: no return action", state)
		}
		if !strings.Contains(actions[i].Effect, want) {
			t.Errorf("%s: return's effect %q does not mention %q", state, actions[i].Effect, want)
		}
	}
}

func TestParseVisitActionName(t *testing.T) {
	for _, s := range []string{"confirm", "authorize", "decline", "not_eligible", "return", "back", "android_back"} {
		if n, err := simulator.ParseVisitActionName(s); err != nil || string(n) != s {
			t.Errorf("ParseVisitActionName(%q) = %q, %v", s, n, err)
		}
	}
	for _, s := range []string{"", "Confirm", "cancel", "return ", "androidBack", "not-eligible"} {
		if _, err := simulator.ParseVisitActionName(s); simulator.ErrorCode(err) != simulator.CodeParamError {
			t.Errorf("ParseVisitActionName(%q): %v, want PARAM_ERROR", s, err)
		}
	}
}
