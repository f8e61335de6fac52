package simulator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// visitOps are the user's actions on a visit, each as the Service applies it.
var visitOps = map[string]func(v *simulator.Visit) error{
	"confirm":                   func(v *simulator.Visit) error { return v.Confirm("", testNow) },
	"decline":                   func(v *simulator.Visit) error { return v.Decline(func() string { return "QUERY-1" }) },
	"not_eligible":              (*simulator.Visit).NotEligible,
	"android_back":              (*simulator.Visit).AndroidBack,
	"return":                    func(v *simulator.Visit) error { return v.Return(func() string { return "QUERY-1" }) },
	"back":                      (*simulator.Visit).Back,
	"authorize":                 func(v *simulator.Visit) error { return v.Authorize(testOpenID, testNow) },
	"authorize as another user": func(v *simulator.Visit) error { return v.Authorize("oUpF8uAnotherUser0000000000", testNow) },
}

// newPermission is a pre-authorization no user has authorized yet, whose token is live at
// testNow.
func newPermission() *simulator.Permission {
	return &simulator.Permission{
		ID: "perm-1", MchID: testMchID, ServiceID: testServiceID, AppID: testAppID, AuthorizationCode: "AUTH-1",
		State: simulator.AuthorizationUnbindUser, NotifyURL: "https://merchant.example.com/notify",
		Token: "TOKEN-1", TokenExpiresAt: testNow.Add(30 * time.Minute),
		CreatedAt: testNow.Add(-30 * time.Minute), UpdatedAt: testNow.Add(-30 * time.Minute),
	}
}

// visitOf is a visit of business type bt to subject (an order or a permission, or nil for a
// visit whose subject was not loaded).
func visitOf(bt simulator.BusinessType, o *simulator.Order, p *simulator.Permission) *simulator.Visit {
	return &simulator.Visit{
		ID: "visit-1", BusinessType: bt, Form: simulator.FormExtraData, MchID: testMchID,
		CreatedAt: testNow, UpdatedAt: testNow, Order: o, Permission: p,
	}
}

// visitStates build a visit in each state the user's actions meet: per business type, before
// and after the user acted and left, and with its subject not loaded (a store's fault, which
// must be an error and never a panic).
var visitStates = map[string]func(t *testing.T) *simulator.Visit{
	"wxpayScoreUse, open": func(t *testing.T) *simulator.Visit {
		return visitOf(simulator.BusinessUse, orderIn(t, created), nil)
	},
	"wxpayScoreUse, open, order revoked meanwhile": func(t *testing.T) *simulator.Visit {
		return visitOf(simulator.BusinessUse, orderIn(t, revoked), nil)
	},
	"wxpayScoreUse, open, order not loaded": func(*testing.T) *simulator.Visit {
		return visitOf(simulator.BusinessUse, nil, nil)
	},
	"wxpayScoreUse, not eligible": func(t *testing.T) *simulator.Visit {
		v := visitOf(simulator.BusinessUse, orderIn(t, created), nil)
		v.Ineligible = true
		return v
	},
	"wxpayScoreUse, confirmed": func(t *testing.T) *simulator.Visit {
		v := visitOf(simulator.BusinessUse, orderIn(t, confirmed), nil)
		v.Confirmed = true
		return v
	},
	"wxpayScoreUse, confirmed, order not loaded": func(*testing.T) *simulator.Visit {
		v := visitOf(simulator.BusinessUse, nil, nil)
		v.Confirmed = true
		return v
	},
	"wxpayScoreUse, left": func(t *testing.T) *simulator.Visit {
		v := visitOf(simulator.BusinessUse, orderIn(t, confirmed), nil)
		v.Confirmed, v.Outcome, v.QueryID = true, simulator.ReturnWithParams, "QUERY-0"
		return v
	},
	"wxpayScoreDetail, open": func(t *testing.T) *simulator.Visit {
		return visitOf(simulator.BusinessDetail, orderIn(t, awaiting), nil)
	},
	"wxpayScoreEnable, open": func(*testing.T) *simulator.Visit {
		return visitOf(simulator.BusinessEnable, nil, newPermission())
	},
	"wxpayScoreEnable, token expired": func(*testing.T) *simulator.Visit {
		p := newPermission()
		p.TokenExpiresAt = testNow.Add(-time.Minute)
		return visitOf(simulator.BusinessEnable, nil, p)
	},
	"wxpayScoreEnable, authorized": func(*testing.T) *simulator.Visit {
		p := newPermission()
		p.State, p.OpenID, p.AuthorizedAt = simulator.AuthorizationAvailable, testOpenID, testNow
		v := visitOf(simulator.BusinessEnable, nil, p)
		v.Authorized, v.OpenID = true, testOpenID
		return v
	},
	"wxpayScoreEnable, left": func(*testing.T) *simulator.Visit {
		v := visitOf(simulator.BusinessEnable, nil, newPermission())
		v.Outcome = simulator.BackWithoutParams
		return v
	},
	"wxpayScoreEnable, permission not loaded": func(*testing.T) *simulator.Visit {
		return visitOf(simulator.BusinessEnable, nil, nil)
	},
}

// visitStateOf names where the user is on the page.
func visitStateOf(v *simulator.Visit) string {
	switch {
	case v.Declined && v.QueryID != "":
		return "declined with query_id"
	case v.Outcome == simulator.ReturnWithParams && v.QueryID != "":
		return "returned with query_id"
	case v.Outcome != "":
		return string(v.Outcome)
	case v.Authorized:
		return "authorized"
	case v.Ineligible:
		return "not eligible"
	case v.Confirmed:
		return "confirmed"
	}
	return "open"
}

// subjectOf names the state of the visit's subject, and the notifications it queued.
func subjectOf(v *simulator.Visit) (string, []simulator.EventType) {
	switch {
	case v.Order != nil:
		return stateOf(v.Order), events(v.Order.Sim.Outbox)
	case v.Permission != nil:
		return string(v.Permission.State), events(v.Permission.Outbox)
	}
	return "none", nil
}

// visitTransition is one row: op on a visit in state from leaves the visit in state want and
// its subject in state subject, having queued notify; or fails with code and changes nothing.
type visitTransition struct {
	op, from      string
	want, subject string
	notify        []simulator.EventType
	code          string
}

const (
	use         = "wxpayScoreUse, open"
	useRevoked  = "wxpayScoreUse, open, order revoked meanwhile"
	useNoOrder  = "wxpayScoreUse, open, order not loaded"
	useInelig   = "wxpayScoreUse, not eligible"
	useConfirm  = "wxpayScoreUse, confirmed"
	useConfNone = "wxpayScoreUse, confirmed, order not loaded"
	useLeft     = "wxpayScoreUse, left"
	detail      = "wxpayScoreDetail, open"
	enable      = "wxpayScoreEnable, open"
	enableLate  = "wxpayScoreEnable, token expired"
	enableDone  = "wxpayScoreEnable, authorized"
	enableLeft  = "wxpayScoreEnable, left"
	enableNone  = "wxpayScoreEnable, permission not loaded"

	unbound   = string(simulator.AuthorizationUnbindUser)
	available = string(simulator.AuthorizationAvailable)
	returned  = string(simulator.ReturnWithParams)
	back      = string(simulator.BackWithoutParams)
	android   = string(simulator.AndroidBackButton)
	invalid   = simulator.CodeInvalidRequest
	// storeFault is the code of an error that is not a client's: a visit without its subject.
	storeFault = simulator.CodeSystemError
)

var userOpenService = []simulator.EventType{simulator.EventUserOpenService}

// visitTransitions is every action in every state.
var visitTransitions = []visitTransition{
	{op: "confirm", from: use, want: "confirmed", subject: confirmed, notify: userConfirm},
	{op: "confirm", from: useRevoked, code: simulator.CodeOrderCanceled},
	{op: "confirm", from: useNoOrder, code: storeFault},
	{op: "confirm", from: useConfirm, want: "confirmed", subject: confirmed}, // a double tap
	{op: "confirm", from: useConfNone, want: "confirmed", subject: "none"},
	{op: "confirm", from: useLeft, code: invalid},
	{op: "confirm", from: useInelig, code: invalid}, // the 暂不满足 page has no confirm
	{op: "confirm", from: detail, code: invalid},
	{op: "confirm", from: enable, code: invalid},
	{op: "confirm", from: enableLate, code: invalid},
	{op: "confirm", from: enableDone, code: invalid},
	{op: "confirm", from: enableLeft, code: invalid},
	{op: "confirm", from: enableNone, code: invalid},

	{op: "return", from: use, code: invalid}, // only the back icon before confirming
	{op: "return", from: useRevoked, code: invalid},
	{op: "return", from: useNoOrder, code: invalid},
	{op: "return", from: useConfirm, want: "returned with query_id", subject: confirmed},
	{op: "return", from: useConfNone, code: storeFault},
	{op: "return", from: useLeft, code: invalid},
	{op: "return", from: useInelig, want: "returned with query_id", subject: created},
	{op: "return", from: detail, want: returned, subject: awaiting},
	{op: "return", from: enable, want: returned, subject: unbound}, // nothing comes back
	{op: "return", from: enableLate, want: returned, subject: unbound},
	{op: "return", from: enableDone, want: returned, subject: available},
	{op: "return", from: enableLeft, code: invalid},
	{op: "return", from: enableNone, want: returned, subject: "none"},

	{op: "back", from: use, want: back, subject: created},
	{op: "back", from: useRevoked, want: back, subject: revoked},
	{op: "back", from: useNoOrder, want: back, subject: "none"},
	{op: "back", from: useConfirm, want: back, subject: confirmed},
	{op: "back", from: useConfNone, want: back, subject: "none"},
	{op: "back", from: useLeft, code: invalid},
	{op: "back", from: useInelig, want: back, subject: created},
	{op: "back", from: detail, want: back, subject: awaiting},
	{op: "back", from: enable, want: back, subject: unbound},
	{op: "back", from: enableLate, want: back, subject: unbound},
	{op: "back", from: enableDone, want: back, subject: available},
	{op: "back", from: enableLeft, code: invalid},
	{op: "back", from: enableNone, want: back, subject: "none"},

	{op: "authorize", from: use, code: invalid},
	{op: "authorize", from: useRevoked, code: invalid},
	{op: "authorize", from: useNoOrder, code: invalid},
	{op: "authorize", from: useConfirm, code: invalid},
	{op: "authorize", from: useConfNone, code: invalid},
	{op: "authorize", from: useLeft, code: invalid},
	{op: "authorize", from: useInelig, code: invalid},
	{op: "authorize", from: detail, code: invalid},
	{op: "authorize", from: enable, want: "authorized", subject: available, notify: userOpenService},
	{op: "authorize", from: enableLate, code: invalid},
	{op: "authorize", from: enableDone, want: "authorized", subject: available}, // a double tap
	{op: "authorize", from: enableLeft, code: invalid},
	{op: "authorize", from: enableNone, code: storeFault},

	{op: "authorize as another user", from: use, code: invalid},
	{op: "authorize as another user", from: useRevoked, code: invalid},
	{op: "authorize as another user", from: useNoOrder, code: invalid},
	{op: "authorize as another user", from: useConfirm, code: invalid},
	{op: "authorize as another user", from: useConfNone, code: invalid},
	{op: "authorize as another user", from: useLeft, code: invalid},
	{op: "authorize as another user", from: useInelig, code: invalid},
	{op: "authorize as another user", from: detail, code: invalid},
	{op: "authorize as another user", from: enable, want: "authorized", subject: available, notify: userOpenService},
	{op: "authorize as another user", from: enableLate, code: invalid},
	{op: "authorize as another user", from: enableDone, code: invalid},
	{op: "authorize as another user", from: enableLeft, code: invalid},
	{op: "authorize as another user", from: enableNone, code: storeFault},

	// Declining is the in-page return without confirming: a query_id for an unconfirmed order.
	{op: "decline", from: use, want: "declined with query_id", subject: created},
	{op: "decline", from: useRevoked, want: "declined with query_id", subject: revoked},
	{op: "decline", from: useNoOrder, code: storeFault},
	{op: "decline", from: useInelig, code: invalid},
	{op: "decline", from: useConfirm, code: invalid},
	{op: "decline", from: useConfNone, code: invalid},
	{op: "decline", from: useLeft, code: invalid},
	{op: "decline", from: detail, code: invalid},
	{op: "decline", from: enable, code: invalid},
	{op: "decline", from: enableLate, code: invalid},
	{op: "decline", from: enableDone, code: invalid},
	{op: "decline", from: enableLeft, code: invalid},
	{op: "decline", from: enableNone, code: invalid},

	{op: "not_eligible", from: use, want: "not eligible", subject: created},
	{op: "not_eligible", from: useRevoked, want: "not eligible", subject: revoked},
	{op: "not_eligible", from: useNoOrder, want: "not eligible", subject: "none"},
	{op: "not_eligible", from: useInelig, code: invalid},
	{op: "not_eligible", from: useConfirm, code: invalid},
	{op: "not_eligible", from: useConfNone, code: invalid},
	{op: "not_eligible", from: useLeft, code: invalid},
	{op: "not_eligible", from: detail, code: invalid},
	{op: "not_eligible", from: enable, code: invalid},
	{op: "not_eligible", from: enableLate, code: invalid},
	{op: "not_eligible", from: enableDone, code: invalid},
	{op: "not_eligible", from: enableLeft, code: invalid},
	{op: "not_eligible", from: enableNone, code: invalid},

	{op: "android_back", from: use, want: android, subject: created},
	{op: "android_back", from: useRevoked, want: android, subject: revoked},
	{op: "android_back", from: useNoOrder, want: android, subject: "none"},
	{op: "android_back", from: useInelig, want: android, subject: created},
	{op: "android_back", from: useConfirm, want: android, subject: confirmed},
	{op: "android_back", from: useConfNone, want: android, subject: "none"},
	{op: "android_back", from: useLeft, code: invalid},
	{op: "android_back", from: detail, want: android, subject: awaiting},
	{op: "android_back", from: enable, want: android, subject: unbound},
	{op: "android_back", from: enableLate, want: android, subject: unbound},
	{op: "android_back", from: enableDone, want: android, subject: available},
	{op: "android_back", from: enableLeft, code: invalid},
	{op: "android_back", from: enableNone, want: android, subject: "none"},
}

// TestVisitTransitions applies every user action to a visit in every state.
func TestVisitTransitions(t *testing.T) {
	for _, tr := range visitTransitions {
		t.Run(tr.op+" from "+tr.from, func(t *testing.T) {
			op, ok := visitOps[tr.op]
			if !ok {
				t.Fatalf("no action %q", tr.op)
			}
			build, ok := visitStates[tr.from]
			if !ok {
				t.Fatalf("no visit state %q", tr.from)
			}
			v := build(t)
			before := jsonOf(t, []any{v, v.Order, v.Permission})
			err := op(v)
			if got := codeOf(err); got != tr.code {
				t.Fatalf("%s from %s: error %v, want code %q", tr.op, tr.from, err, tr.code)
			}
			if err != nil {
				if after := jsonOf(t, []any{v, v.Order, v.Permission}); after != before {
					t.Errorf("a refused %s changed the visit or its subject:\nbefore %s\nafter  %s", tr.op, before, after)
				}
				return
			}
			if got := visitStateOf(v); got != tr.want {
				t.Errorf("%s from %s: visit is %s, want %s", tr.op, tr.from, got, tr.want)
			}
			subject, queued := subjectOf(v)
			if subject != tr.subject || !slices.Equal(queued, tr.notify) {
				t.Errorf("%s from %s: subject is %s and queued %v, want %s and %v", tr.op, tr.from, subject, queued, tr.subject, tr.notify)
			}
			if v.QueryID != "" && v.Order != nil && !slices.Contains(v.Order.Sim.QueryIDs, v.QueryID) {
				t.Errorf("query_id %s is not a name of the order (%v)", v.QueryID, v.Order.Sim.QueryIDs)
			}
		})
	}
}

// TestVisitTransitionsCoverEveryCase fails when an action or a state has no row for some
// pairing.
func TestVisitTransitionsCoverEveryCase(t *testing.T) {
	var pairs [][2]string
	for _, tr := range visitTransitions {
		pairs = append(pairs, [2]string{tr.op, tr.from})
	}
	checkCovers(t, pairs, visitOps, visitStates)
}
