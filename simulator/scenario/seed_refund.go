package scenario

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// Refunds of seeded orders: a DONE order paid by Pay Score's deduction may list refunds of its
// deduction, each made through the refund API's rules and ended in its status.

// SeedRefund is a refund of a seeded order's deduction.
type SeedRefund struct {
	Amount int64
	// Status is how the refund ended: SUCCESS (the default), ABNORMAL or CLOSED.
	Status simulator.RefundStatus
	// OutRefundNo defaults to the order's out_order_no and the refund's place: ...-R1, -R2.
	OutRefundNo string
	Reason      string
	// NotifyURL is where the refund's notification goes; by default the merchant's
	// refund_notify_url, or else the seed's notify_url.
	NotifyURL string
}

var seedRefundFields = []string{"amount", "status", "out_refund_no", "reason", "notify_url"}

// seedRefunds reads an order's refunds.
func (p *parser) seedRefunds(n *yaml.Node) []*SeedRefund {
	if !p.want(n, yaml.SequenceNode, "refunds") {
		return nil
	}
	var out []*SeedRefund
	for _, item := range resolve(n).Content {
		if r := p.seedRefund(item); r != nil {
			out = append(out, r)
		}
	}
	return out
}

func (p *parser) seedRefund(n *yaml.Node) *SeedRefund {
	if !p.want(n, yaml.MappingNode, "a refund") {
		return nil
	}
	r := &SeedRefund{Status: simulator.RefundSuccess}
	for _, pr := range p.pairs(n) {
		switch pr.key.Value {
		case "amount":
			v, err := strconv.ParseInt(p.str(pr.val, "amount"), 10, 64)
			if err != nil || v < 1 {
				p.add(pr.val, "a refund's amount is a whole number of fen, at least 1")
			}
			r.Amount = v
		case "status":
			st, err := simulator.ParseRefundOutcome(p.str(pr.val, "status"))
			if err != nil {
				p.add(pr.val, "a seeded refund's status must be SUCCESS, ABNORMAL or CLOSED (a PROCESSING one would settle a moment later)")
			}
			r.Status = st
		case "out_refund_no":
			r.OutRefundNo = p.str(pr.val, "out_refund_no")
		case "reason":
			r.Reason = p.str(pr.val, "reason")
		case "notify_url":
			r.NotifyURL = p.str(pr.val, "notify_url")
		default:
			p.unknownKey(pr.key, "a refund", seedRefundFields)
		}
	}
	if r.Amount == 0 {
		p.add(n, "a seeded refund needs its amount, in fen")
		return nil
	}
	return r
}

// checkRefunds: only an order Pay Score deducted has a transaction to refund.
func (p *parser) checkRefunds(n *yaml.Node, o *SeedOrder) {
	if len(o.Refunds) > 0 && (o.State != SeedDone || o.PaidBy != PaidByDeduction) {
		p.add(n, "refunds apply to orders seeded as %s and paid by %s (a payment the merchant synced went through no WeChat transaction)", SeedDone, PaidByDeduction)
	}
}

// refundsAgo is how far before now an order with n refunds is seeded: its refunds follow its
// payment a minute apart, as the refund API requires, the last one a minute ago.
func refundsAgo(n int) time.Duration {
	return time.Duration(n) * (simulator.RefundInterval + time.Second)
}

// pastService is svc telling time d earlier, for an order whose refunds follow its payment a
// minute apart and end by now. It wakes no runner, and its deductions fall due an hour after
// now, so that the seed's DeductNow deducts the order at the past time rather than the
// simulator's runner at the present one (unless the merchant has a deduction_delay of its own).
// Its notifications wait until the seed's refunds wake the notifier.
func pastService(svc *simulator.Service, mchid string, d time.Duration) (*simulator.Service, *simulator.Clocks, error) {
	past := &simulator.Clocks{}
	past.SetOffset(mchid, svc.Clocks.Offset(mchid)-d)
	at, err := simulator.NewService(simulator.Stores{
		Orders: svc.Orders, Visits: svc.Visits, Permissions: svc.Permissions,
		Notifications: svc.Notifications, ClockStore: svc.ClockStore, MerchantStore: svc.MerchantStore,
	}, svc.Merchants, simulator.WithClocks(past), simulator.WithDeductionDelay(d+time.Hour))
	return at, past, err
}

// refund makes the order's refunds of its deduction, starting at the merchant's time on clocks,
// a minute (and a second) apart.
func (s *Seed) refund(ctx context.Context, refunds *simulator.RefundService, m *simulator.Merchant, o *SeedOrder, clocks *simulator.Clocks) error {
	if len(o.Refunds) == 0 {
		return nil
	}
	ord, err := refunds.Orders.FindOrder(ctx, m.MchID, simulator.OrderKey{OutOrderNo: text(o.Create["out_order_no"])})
	if err != nil {
		return err
	}
	ts := ord.Transactions()
	if len(ts) == 0 {
		return fmt.Errorf("refund: the order was not deducted through Pay Score, so it has no transaction to refund")
	}
	t := ts[len(ts)-1]
	// A copy telling the seed's time: the service's own clocks are the simulator's.
	at := *refunds
	at.Clocks = clocks
	for i, r := range o.Refunds {
		req := s.refundRequest(m, ord.OutOrderNo, t, i, r)
		if _, err := at.SeedRefund(ctx, m, req, r.Status); err != nil {
			return fmt.Errorf("refund %s: %w", req.OutRefundNo, explain(err))
		}
		clocks.SetOffset(m.MchID, clocks.Offset(m.MchID)+simulator.RefundInterval+time.Second)
	}
	return nil
}

// refundRequest is the refund API request for the order's i-th refund r of transaction t.
func (s *Seed) refundRequest(m *simulator.Merchant, outOrderNo string, t simulator.Transaction, i int, r *SeedRefund) simulator.CreateRefundRequest {
	no := r.OutRefundNo
	if no == "" {
		no = fmt.Sprintf("%s-R%d", outOrderNo, i+1)
	}
	notifyURL := r.NotifyURL
	if notifyURL == "" && m.Settings.RefundNotifyURL == "" {
		notifyURL = s.NotifyURL
	}
	amount, total := r.Amount, t.Amount
	return simulator.CreateRefundRequest{
		TransactionID: t.TransactionID, OutRefundNo: no, Reason: r.Reason, NotifyURL: notifyURL,
		Amount: &simulator.RefundAmountReq{Refund: &amount, Total: &total, Currency: "CNY"},
	}
}
