package simulator

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Faults holds the fault rules in force, in memory. A rule lives for the next few requests of
// a test that is running now; a simulator restarted in between has dropped those requests'
// connections anyway, so nothing is gained by keeping rules on disk, and memory lets the
// request path ask "any rule at all?" with one atomic load. The zero value holds no rules and
// is safe for concurrent use.
type Faults struct {
	// count is len(rules), read without the lock by Take, so that requests pay nothing while
	// no rule exists.
	count atomic.Int64
	mu    sync.Mutex
	rules []*FaultRule // oldest first: the first rule set is the first to fire
}

// Any reports whether any rule is in force, at the cost of one atomic load.
func (f *Faults) Any() bool { return f.count.Load() > 0 }

// Add puts r in force.
func (f *Faults) Add(r *FaultRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, r)
	f.count.Store(int64(len(f.rules)))
}

// List returns copies of the rules in force, of merchant mchid or all when it is "", oldest
// first.
func (f *Faults) List(mchid string) []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	var list []FaultRule
	for _, r := range f.rules {
		if mchid == "" || r.MchID == mchid {
			list = append(list, *r)
		}
	}
	return list
}

// Delete removes the rule with id and returns it; ok is false when no such rule is in force.
func (f *Faults) Delete(id string) (r FaultRule, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.rules, func(r *FaultRule) bool { return r.ID == id })
	if i < 0 {
		return FaultRule{}, false
	}
	r = *f.rules[i]
	f.remove(i)
	return r, true
}

// Reset removes merchant mchid's rules, or every rule when mchid is "", and says how many.
func (f *Faults) Reset(mchid string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	before := len(f.rules)
	f.rules = slices.DeleteFunc(f.rules, func(r *FaultRule) bool { return mchid == "" || r.MchID == mchid })
	f.count.Store(int64(len(f.rules)))
	return int64(before - len(f.rules))
}

// Take fires the oldest rule that fails the answer to a request of merchant mchid for op
// naming outOrderNo (empty when the request names none), and returns a copy of it with
// Remaining counting this firing; a rule that has fired Times times is removed. It returns nil
// when no rule matches, at the cost of one atomic load while no rule exists. Rules that
// decide a refund's outcome are left to TakeRefundOutcome.
func (f *Faults) Take(mchid string, op FaultOperation, outOrderNo string) *FaultRule {
	return f.take(func(r *FaultRule) bool {
		return r.Fault.RefundOutcome() == "" && r.matches(mchid, op, outOrderNo)
	})
}

// TakeRefundOutcome fires, as Take does, the oldest rule that decides the outcome of a refund
// merchant mchid is making of a deduction of Pay Score order outOrderNo ("" when the
// transaction is none's).
func (f *Faults) TakeRefundOutcome(mchid, outOrderNo string) *FaultRule {
	return f.take(func(r *FaultRule) bool {
		return r.Fault.RefundOutcome() != "" && r.matches(mchid, FaultRefund, outOrderNo)
	})
}

// take fires the oldest rule for which match is true.
func (f *Faults) take(match func(*FaultRule) bool) *FaultRule {
	if !f.Any() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.rules, match)
	if i < 0 {
		return nil
	}
	r := f.rules[i]
	r.Remaining--
	fired := *r
	if r.Remaining == 0 {
		f.remove(i)
	}
	return &fired
}

// remove deletes rules[i]; the caller holds mu.
func (f *Faults) remove(i int) {
	f.rules = slices.Delete(f.rules, i, i+1)
	f.count.Store(int64(len(f.rules)))
}

func (r *FaultRule) matches(mchid string, op FaultOperation, outOrderNo string) bool {
	return r.MchID == mchid &&
		(r.Operation == FaultAny || r.Operation == op) &&
		(r.OutOrderNo == "" || r.OutOrderNo == outOrderNo)
}
