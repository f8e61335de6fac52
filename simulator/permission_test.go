package simulator_test

import (
	"slices"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// permissionOps are the operations on a permission, each as the Service applies it.
var permissionOps = map[string]func(p *simulator.Permission) error{
	"authorize": func(p *simulator.Permission) error { return p.Authorize(testOpenID, testNow) },
	"terminate": func(p *simulator.Permission) error { return p.Terminate("用户注销", testNow) },
	"revoke":    func(p *simulator.Permission) error { return p.Revoke(testNow) },
	"reapply": func(p *simulator.Permission) error {
		return p.Reapply(testAppID, "https://merchant.example.com/notify2", "TOKEN-2", testNow)
	},
	"reapply for another appid": func(p *simulator.Permission) error {
		return p.Reapply("wx0000000000000000", p.NotifyURL, "TOKEN-2", testNow)
	},
}

// permissionStates build a permission in each state, through its own transitions.
var permissionStates = map[string]func(p *simulator.Permission) error{
	unbound:   func(*simulator.Permission) error { return nil },
	available: func(p *simulator.Permission) error { return p.Authorize(testOpenID, testNow) },
	string(simulator.AuthorizationUnavailable): func(p *simulator.Permission) error {
		if err := p.Authorize(testOpenID, testNow); err != nil {
			return err
		}
		return p.Terminate("商户解约", testNow)
	},
}

const unavailable = string(simulator.AuthorizationUnavailable)

var userCloseService = []simulator.EventType{simulator.EventUserCloseService}

// permissionTransitions is every operation in every state: the state afterwards and the
// notifications queued, or the error code and an unchanged permission.
var permissionTransitions = []struct {
	op, from string
	want     string
	notify   []simulator.EventType
	code     string
}{
	{op: "authorize", from: unbound, want: available, notify: userOpenService},
	{op: "authorize", from: available, code: invalid},
	{op: "authorize", from: unavailable, code: invalid},

	{op: "terminate", from: unbound, want: unavailable}, // no user to tell
	{op: "terminate", from: available, want: unavailable, notify: userCloseService},
	{op: "terminate", from: unavailable, want: unavailable}, // a retried terminate

	{op: "revoke", from: unbound, code: invalid},
	{op: "revoke", from: available, want: unavailable, notify: userCloseService},
	{op: "revoke", from: unavailable, code: invalid},

	{op: "reapply", from: unbound, want: unbound}, // a fresh token
	{op: "reapply", from: available, code: invalid},
	{op: "reapply", from: unavailable, code: invalid},

	{op: "reapply for another appid", from: unbound, code: invalid},
	{op: "reapply for another appid", from: available, code: invalid},
	{op: "reapply for another appid", from: unavailable, code: invalid},
}

func TestPermissionTransitions(t *testing.T) {
	for _, tr := range permissionTransitions {
		t.Run(tr.op+" from "+tr.from, func(t *testing.T) {
			p := newPermission()
			if err := permissionStates[tr.from](p); err != nil {
				t.Fatalf("reach %s: %v", tr.from, err)
			}
			p.Outbox = nil
			before := jsonOf(t, p)
			err := permissionOps[tr.op](p)
			if got := codeOf(err); got != tr.code {
				t.Fatalf("%s from %s: error %v, want code %q", tr.op, tr.from, err, tr.code)
			}
			if err != nil {
				if after := jsonOf(t, p); after != before || len(p.Outbox) > 0 {
					t.Errorf("a refused %s changed the permission:\nbefore %s\nafter  %s", tr.op, before, after)
				}
				return
			}
			if got := string(p.State); got != tr.want {
				t.Errorf("%s from %s: permission is %s, want %s", tr.op, tr.from, got, tr.want)
			}
			if got := events(p.Outbox); !slices.Equal(got, tr.notify) {
				t.Errorf("%s from %s queued %v, want %v", tr.op, tr.from, got, tr.notify)
			}
		})
	}
}

func TestPermissionTransitionsCoverEveryCase(t *testing.T) {
	var pairs [][2]string
	for _, tr := range permissionTransitions {
		pairs = append(pairs, [2]string{tr.op, tr.from})
	}
	checkCovers(t, pairs, permissionOps, permissionStates)
}
