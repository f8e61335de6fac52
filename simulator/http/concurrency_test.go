package http_test

// Concurrency: many clients at once on one visit, one out_order_no or one order must leave the
// simulator exactly as if the calls had come one after another, and no call may fail with a
// server error (SQLITE_BUSY, "database is locked"). Each test runs on the in-memory database
// the tests use and on a file database, as the binary uses by default; run them with -race.
//
// Package-level names in this file start with conc.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// concStores runs test once on an in-memory simulator and once on a file database.
func concStores(t *testing.T, test func(t *testing.T, sim *simtest.Sim, c *client.Client)) {
	for _, store := range []string{"memory", "file"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			var opts app.Options
			if store == "file" {
				opts.DB = filepath.Join(t.TempDir(), "concurrency.db")
			}
			sim := simtest.Start(t, opts)
			c := sim.DemoClient(t)
			tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256}
			t.Cleanup(tr.CloseIdleConnections)
			c.HTTP = &http.Client{Transport: tr, Timeout: time.Minute}
			test(t, sim, c)
		})
	}
}

// concParallel runs n calls of fn at once: all goroutines start together.
func concParallel(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// concCauses counts the order's history entries by cause, and checks that the history is a
// chain: every change starts where the one before it ended.
func concCauses(t testing.TB, o *simulator.Order) map[string]int {
	t.Helper()
	n := map[string]int{}
	for i, h := range o.Sim.History {
		n[h.Cause]++
		if i > 0 && h.From != o.Sim.History[i-1].To {
			t.Errorf("order %s: history entry %d starts at %q, but the one before ended at %q: %+v", o.OutOrderNo, i, h.From, o.Sim.History[i-1].To, o.Sim.History)
		}
	}
	return n
}

func concNotifications(t testing.TB, sim *simtest.Sim, no string, event simulator.EventType) int {
	t.Helper()
	ns, err := sim.DB.ListNotifications(context.Background(), simulator.NotificationFilter{MchID: fixtures.DemoMchID, OutOrderNo: no, EventType: event, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(ns)
}

func concFind(t testing.TB, sim *simtest.Sim, no string) *simulator.Order {
	t.Helper()
	o, err := sim.DB.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: no})
	if err != nil {
		t.Fatalf("find order %s: %v", no, err)
	}
	return o
}

// TestConcurrentConfirmsOfOneVisit: 100 confirms of one visit at once all succeed (confirming is
// idempotent), and the order changes once and owes one USER_CONFIRM notification.
func TestConcurrentConfirmsOfOneVisit(t *testing.T) {
	t.Parallel()
	concStores(t, func(t *testing.T, sim *simtest.Sim, c *client.Client) {
		const n = 100
		no := "CONC-CONFIRM"
		id := concOpenVisit(t, c, no)
		states := make([]string, n)
		concParallel(n, func(i int) {
			resp := concDo(t, c, http.MethodPost, "/sim/v1/visits/"+id+"/confirm", nil)
			if resp == nil {
				return
			}
			if resp.Status != http.StatusOK {
				t.Errorf("confirm %d: status %d, want 200 (confirm is idempotent): %s", i, resp.Status, resp.Body)
				return
			}
			var v struct {
				Confirmed bool `json:"confirmed"`
				Order     struct {
					State            string `json:"state"`
					StateDescription string `json:"state_description"`
				} `json:"order"`
			}
			if err := resp.Decode(&v); err != nil {
				t.Error(err)
				return
			}
			if !v.Confirmed {
				t.Errorf("confirm %d answered a visit that is not confirmed: %s", i, resp.Body)
			}
			states[i] = v.Order.State + "/" + v.Order.StateDescription
		})
		for i, s := range states {
			if s != "DOING/USER_CONFIRM" {
				t.Errorf("confirm %d answered order state %q, want DOING/USER_CONFIRM", i, s)
			}
		}
		o := concFind(t, sim, no)
		if got := concCauses(t, o)["user: confirm"]; got != 1 {
			t.Errorf("the order's history has %d \"user: confirm\" changes, want exactly 1: %+v", got, o.Sim.History)
		}
		if len(o.Sim.History) != 2 {
			t.Errorf("history has %d entries, want create and one confirm: %+v", len(o.Sim.History), o.Sim.History)
		}
		if got := concNotifications(t, sim, no, simulator.EventUserConfirm); got != 1 {
			t.Errorf("%d PAYSCORE.USER_CONFIRM notifications, want exactly 1", got)
		}
	})
}

// concCreateResult is one create's outcome.
type concCreateResult struct {
	no, attach string
	status     int
	code       string
	orderID    string
}

// TestConcurrentCreatesWithRepeats: 1000 creates, 32 at a time, of which 10% repeat an
// out_order_no: half with identical parameters (re-entry: 200 and the same order_id), half with
// other ones (400 INVALID_REQUEST). Every out_order_no is stored exactly once, as the variant
// that got the 200s, and the answers agree with what was stored.
func TestConcurrentCreatesWithRepeats(t *testing.T) {
	t.Parallel()
	concStores(t, func(t *testing.T, sim *simtest.Sim, c *client.Client) {
		const (
			distinct = 900
			same     = 50 // repeats with identical parameters
			other    = 50 // repeats with other parameters
			workers  = 32
		)
		seed := rand.Uint64()
		t.Logf("shuffle seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, seed))
		type job struct{ no, attach string }
		var groups [][]job
		for i := range distinct {
			no := fmt.Sprintf("CONC-CREATE-%04d", i)
			g := []job{{no, "A"}}
			switch {
			case i < same:
				g = append(g, job{no, "A"})
			case i < same+other:
				g = append(g, job{no, "B"})
			}
			// A repeat goes right beside its original, so that two workers race on it.
			rng.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
			groups = append(groups, g)
		}
		rng.Shuffle(len(groups), func(a, b int) { groups[a], groups[b] = groups[b], groups[a] })
		jobs := make(chan job)
		go func() {
			defer close(jobs)
			for _, g := range groups {
				for _, j := range g {
					jobs <- j
				}
			}
		}()
		var (
			mu      sync.Mutex
			results []concCreateResult
		)
		concParallel(workers, func(int) {
			for j := range jobs {
				resp := concDo(t, c, http.MethodPost, "/v3/payscore/serviceorder", concCreateBody(j.no, j.attach))
				if resp == nil {
					continue
				}
				r := concCreateResult{no: j.no, attach: j.attach, status: resp.Status, code: resp.Err().Code}
				if resp.Status == http.StatusOK {
					var o struct {
						OrderID string `json:"order_id"`
					}
					if err := resp.Decode(&o); err != nil || o.OrderID == "" {
						t.Errorf("create %s: 200 without an order_id: %s", j.no, resp.Body)
					}
					r.orderID = o.OrderID
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
		if len(results) != distinct+same+other {
			t.Fatalf("%d creates answered, want %d", len(results), distinct+same+other)
		}

		// Per out_order_no: one variant won, and every answer agrees with it.
		type outcome struct {
			winner   string // the attach of the variant that got 200s
			orderID  string
			ok, fail int
		}
		byNo := map[string]*outcome{}
		oks := 0
		for _, r := range results {
			o := byNo[r.no]
			if o == nil {
				o = &outcome{}
				byNo[r.no] = o
			}
			switch {
			case r.status == http.StatusOK:
				oks++
				o.ok++
				if o.winner != "" && o.winner != r.attach {
					t.Errorf("%s: both variants %s and %s got 200", r.no, o.winner, r.attach)
				}
				if o.orderID != "" && o.orderID != r.orderID {
					t.Errorf("%s: repeated create answered order_id %s, the first %s: a re-entry must return the same order", r.no, r.orderID, o.orderID)
				}
				o.winner, o.orderID = r.attach, r.orderID
			case r.status == http.StatusBadRequest && r.code == simulator.CodeInvalidRequest:
				o.fail++
			default:
				t.Errorf("%s (%s): status %d %s, want 200 or 400 INVALID_REQUEST", r.no, r.attach, r.status, r.code)
			}
		}
		if oks != distinct+same {
			t.Errorf("%d creates got 200, want %d (every out_order_no once, and its identical repeats)", oks, distinct+same)
		}
		for no, o := range byNo {
			if o.ok == 0 {
				t.Errorf("%s: no create got 200", no)
			}
		}
		// The losing variants are exactly the repeats with other parameters.
		for _, r := range results {
			if r.status == http.StatusBadRequest && byNo[r.no].winner == r.attach {
				t.Errorf("%s: variant %s got both 200 and 400", r.no, r.attach)
			}
		}

		orders, err := sim.DB.ListOrders(context.Background(), simulator.OrderFilter{MchID: fixtures.DemoMchID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != len(byNo) {
			t.Errorf("%d orders stored, want %d: the distinct out_order_nos that got a 200", len(orders), len(byNo))
		}
		seen := map[string]bool{}
		for _, o := range orders {
			if seen[o.OutOrderNo] {
				t.Errorf("order %s is stored twice", o.OutOrderNo)
			}
			seen[o.OutOrderNo] = true
			want := byNo[o.OutOrderNo]
			switch {
			case want == nil:
				t.Errorf("order %s is stored, but no create of it got a 200", o.OutOrderNo)
			case o.OrderID != want.orderID:
				t.Errorf("order %s is stored with order_id %s, but its creates were answered %s", o.OutOrderNo, o.OrderID, want.orderID)
			case o.Attach == nil || *o.Attach != want.winner:
				t.Errorf("order %s is stored with attach %v, but variant %s got the 200s", o.OutOrderNo, o.Attach, want.winner)
			}
		}
		// Re-entry still holds once the dust has settled.
		for i, attach := range []string{"A", "B"} {
			no := fmt.Sprintf("CONC-CREATE-%04d", same+other+i)
			resp := concDo(t, c, http.MethodPost, "/v3/payscore/serviceorder", concCreateBody(no, attach))
			if resp == nil {
				continue
			}
			if want := map[string]int{"A": 200, "B": 400}[attach]; resp.Status != want {
				t.Errorf("repeat of %s with attach %s afterwards: %d, want %d: %s", no, attach, resp.Status, want, resp.Body)
			}
		}
	})
}

// concRaceResult is one complete or cancel of a race.
type concRaceResult struct {
	op     string // complete or cancel
	status int
	code   string
	state  string // the order's state in a 200 complete's answer
}

// TestConcurrentCompleteCancelRaces: on each of several confirmed orders, many completes and
// cancels at once end in one state the state machine allows, and the answers agree with it:
// an operation answered 200 is in the order's history (identical repeats of complete and of
// cancel answer 200 too, being re-entrant), one answered 4xx is not.
//
// With immediate deduction the first complete starts a deduction, which cancel must wait for
// ("单据正在扣款中") and which then settles the order (DONE), so cancel can no longer apply;
// with failing deduction a completed order awaits payment, which cancel may still revoke.
func TestConcurrentCompleteCancelRaces(t *testing.T) {
	t.Parallel()
	concStores(t, func(t *testing.T, sim *simtest.Sim, c *client.Client) {
		const (
			orders = 8
			each   = 8 // completes and as many cancels per order
		)
		mode := func(i int) string { return []string{"immediate", "fail"}[i%2] }
		nos := make([]string, orders)
		for i := range nos {
			nos[i] = fmt.Sprintf("CONC-RACE-%d", i)
			id := concOpenVisit(t, c, nos[i])
			concMust(t, c, http.MethodPost, "/sim/v1/visits/"+id+"/confirm", nil, http.StatusOK, nil)
			concMust(t, c, http.MethodPost, "/sim/v1/orders/"+fixtures.DemoMchID+"/"+nos[i]+"/deduction", map[string]any{"mode": mode(i)}, http.StatusOK, nil)
		}
		complete := map[string]any{
			"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
			"post_payments": []any{map[string]any{"name": "租借费", "amount": 300, "count": 1}},
			"total_amount":  300,
			"time_range":    map[string]any{"end_time": compactTime(time.Now().Add(-time.Second))},
		}
		cancel := map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "用户取消"}

		results := make([][]concRaceResult, orders)
		var mu sync.Mutex
		concParallel(orders*2*each, func(k int) {
			i, op := k%orders, []string{"complete", "cancel"}[(k/orders)%2]
			body := map[string]map[string]any{"complete": complete, "cancel": cancel}[op]
			resp := concDo(t, c, http.MethodPost, "/v3/payscore/serviceorder/"+nos[i]+"/"+op, body)
			if resp == nil {
				return
			}
			r := concRaceResult{op: op, status: resp.Status, code: resp.Err().Code}
			if op == "complete" && resp.Status == http.StatusOK {
				var o struct {
					State            string `json:"state"`
					StateDescription string `json:"state_description"`
				}
				_ = json.Unmarshal(resp.Body, &o)
				r.state = o.State + "/" + o.StateDescription
			}
			mu.Lock()
			results[i] = append(results[i], r)
			mu.Unlock()
		})

		outcomes := map[string]int{}
		for i, no := range nos {
			sim.WaitDeducted(t, fixtures.DemoMchID, no)
			o := concFind(t, sim, no)
			causes := concCauses(t, o)
			done := map[string]int{"complete": causes["merchant: complete"], "cancel": causes["merchant: cancel"]}
			ok := map[string]int{}
			for _, r := range results[i] {
				if r.status == http.StatusOK {
					ok[r.op]++
					continue
				}
				if r.status < 400 || r.status >= 500 {
					t.Errorf("%s %s: status %d %s, want 200 or a 4xx", no, r.op, r.status, r.code)
				}
			}
			final := string(o.State) + "/" + string(o.StateDescription)
			outcomes[mode(i)+" → "+final]++
			t.Logf("%s (deduction %s): %s; 200s: %d complete, %d cancel; history %v", no, mode(i), final, ok["complete"], ok["cancel"], causes)

			// Each operation changed the order at most once, and was answered 200 exactly when
			// it did (or repeated it).
			if done["complete"] > 1 || done["cancel"] > 1 {
				t.Errorf("%s: history %v: an operation applied twice", no, o.Sim.History)
			}
			if (ok["complete"] > 0) != (done["complete"] == 1) {
				t.Errorf("%s: %d completes answered 200, but the history holds %d", no, ok["complete"], done["complete"])
			}
			if (ok["cancel"] > 0) != (done["cancel"] == 1) {
				t.Errorf("%s: %d cancels answered 200, but the history holds %d cancels", no, ok["cancel"], done["cancel"])
			}
			if (o.State == simulator.StateRevoked) != (done["cancel"] == 1) {
				t.Errorf("%s: final state %s, history %+v", no, final, o.Sim.History)
			}
			for _, r := range results[i] {
				if r.op == "complete" && r.status == http.StatusOK && r.state != "DOING/MCH_COMPLETE" {
					t.Errorf("%s: a complete answered 200 with state %s", no, r.state)
				}
			}
			paid := concNotifications(t, sim, no, simulator.EventUserPaid)
			switch mode(i) {
			case "immediate":
				// One operation wins, and the other cannot follow it.
				switch {
				case done["complete"]+done["cancel"] != 1:
					t.Errorf("%s: immediate deduction, yet history %+v", no, o.Sim.History)
				case done["complete"] == 1 && (o.State != simulator.StateDone || o.Collection == nil || o.Collection.State != simulator.UserPaid || paid != 1):
					t.Errorf("%s: completed with immediate deduction, but %s (collection %+v) with %d USER_PAID notifications", no, final, o.Collection, paid)
				case done["cancel"] == 1 && paid != 0:
					t.Errorf("%s: revoked, yet %d USER_PAID notifications", no, paid)
				}
				// Whatever lost is refused for the state the winner left: a cancel after the
				// complete meets the deduction in flight or the DONE order; a complete after the
				// cancel meets a REVOKED order (production: INVALID_REQUEST).
				for _, r := range results[i] {
					want := []string{simulator.CodeInvalidRequest}
					if o.State == simulator.StateDone {
						want = append(want, simulator.CodeOrderDone)
					}
					if r.status != http.StatusOK && !slices.Contains(want, r.code) {
						t.Errorf("%s: a %s that lost the race to a %s order answered %s, want one of %v", no, r.op, o.State, r.code, want)
					}
				}
			case "fail":
				// Cancel applies to a completed order awaiting payment, so every cancel succeeds.
				if done["cancel"] != 1 || ok["cancel"] != each || o.State != simulator.StateRevoked || paid != 0 {
					t.Errorf("%s: failing deduction: %s, %d of %d cancels answered 200, %d USER_PAID; history %+v", no, final, ok["cancel"], each, paid, o.Sim.History)
				}
				if h := o.Sim.History; done["complete"] == 1 && h[len(h)-1].Cause != "merchant: cancel" {
					t.Errorf("%s: the cancel must follow the complete: %+v", no, h)
				}
				for _, r := range results[i] {
					if r.op == "complete" && r.status != http.StatusOK && r.code != simulator.CodeInvalidRequest {
						t.Errorf("%s: a complete that lost answered %s, want INVALID_REQUEST", no, r.code)
					}
				}
			}
			if got := concNotifications(t, sim, no, simulator.EventUserConfirm); got != 1 {
				t.Errorf("%s: %d USER_CONFIRM notifications, want 1", no, got)
			}
		}
		var summary []string
		for k, n := range outcomes {
			summary = append(summary, fmt.Sprintf("%s ×%d", k, n))
		}
		t.Logf("outcomes: %s", strings.Join(summary, ", "))
	})
}
