package simulator

import (
	"context"
	"fmt"
)

// ResetCounts says how many records a reset deleted. Visits count both kinds (an order's and a
// wxpayScoreEnable visit's); query_ids and delivery attempts go with their order and
// notification and are not counted.
type ResetCounts struct {
	Orders        int64 `json:"orders"`
	Visits        int64 `json:"visits"`
	Notifications int64 `json:"notifications"`
	Permissions   int64 `json:"permissions"`
	Requests      int64 `json:"requests"`
	Refunds       int64 `json:"refunds"`
	// Faults counts the fault rules removed; they live in memory, beside the store.
	Faults int64 `json:"faults"`
}

// Resetter forgets what a store keeps: one merchant's records and clock, or everything when
// mchid is "".
// It deletes in one transaction, so a reset happens wholly or not at all.
type Resetter interface {
	Reset(ctx context.Context, mchid string) (ResetCounts, error)
}

// Reset forgets one merchant's orders, refunds, visits, notifications, permissions, requests and
// fault rules and puts its clock back on the real time, or, when mchid is "", every merchant's:
// the simulator is then as a fresh one, except that merchants (configuration, not records)
// stay. It is for a long-lived simulator shared by many tests; tests of different merchants
// need no reset to stay apart.
//
// The Resetter the wiring gave (WithResetter) does the deleting; without one a reset is
// refused.
func (s *Service) Reset(ctx context.Context, mchid string) (ResetCounts, error) {
	if mchid != "" && s.Merchants.Merchant(mchid) == nil {
		return ResetCounts{}, ParamError("mchid", mchid,
			fmt.Sprintf("is not a merchant of this simulator (merchants: %v); nothing was reset", s.Merchants.IDs())).With("location", "query")
	}
	r := s.resetter
	if r == nil {
		return ResetCounts{}, Errorf(CodeInvalidRequest, "重置不可用").
			With("issue", "this simulator was built without a resetter, so it cannot reset; nothing was reset")
	}
	// The clock lock keeps an advance from saving its offset between the store's reset and
	// the clock's.
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	counts, err := r.Reset(ctx, mchid)
	if err != nil {
		if mchid != "" {
			return ResetCounts{}, fmt.Errorf("reset merchant %s: %w", mchid, err)
		}
		return ResetCounts{}, fmt.Errorf("reset: %w", err)
	}
	if mchid != "" {
		s.Clocks.SetOffset(mchid, 0)
	} else {
		s.Clocks.clear()
	}
	counts.Faults = s.Faults.Reset(mchid)
	return counts, nil
}
