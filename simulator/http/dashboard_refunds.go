package http

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The refunds on the dashboard's order page: each refund of the order's deductions with its
// state history and its notifications, and which logged refund requests are about the order.

// dashOrderRefunds bounds the refunds an order page shows: every refund of an order with one
// deduction, and of most with more.
const dashOrderRefunds = 200

// dashRefund is a refund as the order page shows it.
type dashRefund struct {
	OutRefundNo, RefundID, Status, TransactionID, OutTradeNo string
	Refund, Total, Channel, Account, FundsAccount            string
	Created, Success, Due, Outcome, Reason, NotifyURL        string
	JSONURL                                                  string
	Warnings                                                 []string
	History                                                  []dashHistoryRow
	Notifications                                            []dashNotificationRow
}

// dashRefunds shows the refunds, newest first, each with the notifications of ns it caused; it
// returns the notifications no refund caused, which are the order's own.
func dashRefunds(refunds []*simulator.Refund, ns []*simulator.Notification) ([]dashRefund, []*simulator.Notification) {
	byID := make(map[string]*simulator.Notification, len(ns))
	for _, n := range ns {
		byID[n.ID] = n
	}
	out := make([]dashRefund, 0, len(refunds))
	for _, r := range refunds {
		d := dashRefundOf(r)
		var caused []*simulator.Notification
		// Newest first, as the order's notifications are listed.
		for _, id := range slices.Backward(r.Sim.Notifications) {
			if n, ok := byID[id]; ok {
				caused = append(caused, n)
				delete(byID, id)
			}
		}
		d.Notifications = dashNotificationRows(caused)
		out = append(out, d)
	}
	own := slices.DeleteFunc(slices.Clone(ns), func(n *simulator.Notification) bool { return byID[n.ID] == nil })
	return out, own
}

func dashRefundOf(r *simulator.Refund) dashRefund {
	d := dashRefund{
		OutRefundNo: r.OutRefundNo, RefundID: r.RefundID, Status: string(r.Status),
		TransactionID: r.TransactionID, OutTradeNo: r.OutTradeNo,
		Refund: web.Yuan(r.Amount.Refund), Total: web.Yuan(r.Amount.Total),
		Channel: r.Channel, Account: r.UserReceivedAccount, FundsAccount: r.FundsAccount,
		Created: web.WeChatTime(r.CreateTime), Success: web.WeChatTime(r.SuccessTime),
		Reason: r.Sim.Reason, NotifyURL: r.Sim.NotifyURL, Warnings: r.Sim.Warnings,
		JSONURL: "/sim/v1/refunds/" + url.PathEscape(r.Sim.MchID) + "/" + url.PathEscape(r.OutRefundNo),
	}
	if !r.Sim.DueAt.IsZero() {
		d.Due, d.Outcome = web.Time(r.Sim.DueAt), string(r.Sim.Outcome)
	}
	for _, h := range r.Sim.History {
		d.History = append(d.History, dashHistoryRow{web.Time(h.Time), h.From, h.To, h.Cause})
	}
	return d
}

// orderNames are the names by which API requests refer to an order: its out_order_no and
// query_ids (Pay Score), and its deductions' transaction_ids and out_trade_nos and its refunds'
// out_refund_nos and refund_ids (the refund API, which never names the order).
type orderNames struct {
	OutOrderNo string
	QueryIDs   []string
	// Refund are the refund API's names of the order's transactions and refunds.
	Refund map[string]bool
}

func orderNamesOf(o *simulator.Order, refunds []*simulator.Refund) orderNames {
	names := orderNames{OutOrderNo: o.OutOrderNo, QueryIDs: o.Sim.QueryIDs, Refund: map[string]bool{}}
	for _, t := range o.Transactions() {
		names.Refund[t.TransactionID], names.Refund[t.OutTradeNo] = true, true
	}
	for _, r := range refunds {
		names.Refund[r.OutRefundNo], names.Refund[r.RefundID] = true, true
	}
	// A refund that gives the order's out_order_no as out_trade_no is refused, as production
	// refuses it; its request is about this order all the same.
	names.Refund[o.OutOrderNo] = true
	return names
}

// mentions are the strings a request about the order contains, for the request log's filter:
// each name as it is and as it is escaped in a path or a query.
func (n orderNames) mentions() []string {
	var out []string
	add := func(v string) {
		for _, m := range []string{v, url.PathEscape(v), url.QueryEscape(v)} {
			if m != "" && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	add(n.OutOrderNo)
	for _, q := range n.QueryIDs {
		add(q)
	}
	for _, name := range slices.Sorted(maps.Keys(n.Refund)) {
		add(name)
	}
	return out
}

// refundPathPrefix is the refund API's path; a refund is named after it by out_refund_no
// (query) or refund_id (apply-abnormal-refund).
const refundPathPrefix = "/v3/refund/domestic/refunds"

// refundRequestAbout reports whether a refund API request names one of the order's
// transactions or refunds: in its path, or as transaction_id, out_trade_no or out_refund_no
// in its body.
func refundRequestAbout(r *simulator.RequestRecord, names map[string]bool) bool {
	path, _, _ := strings.Cut(r.Target, "?")
	rest, ok := strings.CutPrefix(path, refundPathPrefix)
	if !ok {
		return false
	}
	if seg, found := strings.CutPrefix(rest, "/"); found {
		seg, _, _ = strings.Cut(seg, "/")
		if u, err := url.PathUnescape(seg); names[seg] || (err == nil && names[u]) {
			return true
		}
	}
	var body struct {
		TransactionID string `json:"transaction_id"`
		OutTradeNo    string `json:"out_trade_no"`
		OutRefundNo   string `json:"out_refund_no"`
	}
	if json.Unmarshal([]byte(r.RequestBody), &body) != nil {
		return false
	}
	for _, v := range []string{body.TransactionID, body.OutTradeNo, body.OutRefundNo} {
		if v != "" && names[v] {
			return true
		}
	}
	return false
}

// dashRefundsEmpty says why an order has no refunds to show.
func dashRefundsEmpty(o *simulator.Order) string {
	if len(o.Transactions()) == 0 {
		return "No refunds: the order has no deduction through Pay Score to refund (a refund names a collection.details[].transaction_id with paid_type NEWTON)."
	}
	ids := make([]string, 0, len(o.Transactions()))
	for _, t := range o.Transactions() {
		ids = append(ids, t.TransactionID)
	}
	return fmt.Sprintf("No refunds yet: POST %s with transaction_id %s.", refundPathPrefix, strings.Join(ids, " or "))
}
