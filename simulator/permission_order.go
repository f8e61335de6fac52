package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// This file holds the orders of the authorization (no-confirm, 免确认) mode: an order created
// for a user who authorized the service, and direct-complete.

// startAuthorized starts an order created with need_user_confirm false for an authorized user:
// it is DOING/USER_CONFIRM at once and has no package, since no one opens a confirmation page.
// No USER_CONFIRM notification is sent; the documentation describes none for this path (the
// reference marks it inferred).
func (o *Order) startAuthorized(now time.Time) {
	o.State, o.StateDescription = StateDoing, UserConfirm
	o.Sim.Package = ""
	if o.TimeRange.StartTime == OnAccept {
		o.TimeRange.StartTime = FormatCompact(now)
	}
}

// DirectCompleteRequest is the body of POST /v3/payscore/serviceorder/direct-complete
// (创单结单合并): an order for an authorized user, created and completed in one call.
type DirectCompleteRequest struct {
	OutOrderNo          string         `json:"out_order_no"`
	AppID               string         `json:"appid"`
	ServiceID           string         `json:"service_id"`
	PostPayments        []PostPayment  `json:"post_payments,omitzero"`
	PostDiscounts       []PostDiscount `json:"post_discounts,omitzero"`
	TimeRange           *TimeRange     `json:"time_range,omitempty"`
	Location            *Location      `json:"location,omitempty"`
	ServiceIntroduction string         `json:"service_introduction"`
	Attach              *string        `json:"attach,omitempty"`
	NotifyURL           string         `json:"notify_url,omitempty"`
	OpenID              string         `json:"openid"`
	TotalAmount         *int64         `json:"total_amount,omitempty"`
	ProfitSharing       *bool          `json:"profit_sharing,omitempty"`
	GoodsTag            *string        `json:"goods_tag,omitempty"`
}

// validate applies the rules that need nothing but the request and the time: those of create
// for the order's description, those of complete for its amounts and times.
func (r *DirectCompleteRequest) validate(now time.Time) (warning string, err *Error) {
	var c check
	c.outOrderNo(r.OutOrderNo)
	c.str("appid", r.AppID, 1, 32)
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("service_introduction", r.ServiceIntroduction, 1, 20)
	c.amounts(r.PostPayments, r.PostDiscounts, r.TotalAmount)
	switch {
	case r.TimeRange == nil:
		c.fail("time_range", nil, "is required")
	case r.TimeRange.StartTime == "":
		c.fail("time_range.start_time", "", "is required: the service is over, give the time it started")
	case r.TimeRange.StartTime == OnAccept:
		c.fail("time_range.start_time", OnAccept, "must be the actual start time (yyyyMMddHHmmss or yyyyMMdd): direct-complete has no user confirmation for OnAccept to wait for")
	case r.TimeRange.EndTime == "":
		c.fail("time_range.end_time", "", "is required: the service is over, give the time it ended")
	default:
		c.timeRemarks(r.TimeRange)
		c.completeTimeRange(*r.TimeRange, now)
	}
	if r.Location != nil {
		c.optStr("location.start_location", r.Location.StartLocation, 50)
		c.optStr("location.end_location", r.Location.EndLocation, 50)
	}
	c.optStr("attach", r.Attach, 256)
	// Production lists notify_url as optional here; without one, no USER_PAID is sent.
	if r.NotifyURL != "" {
		warning = c.notifyURL("notify_url", r.NotifyURL, payScoreNotifyURLMax)
	}
	c.openID(r.OpenID)
	c.optStr("goods_tag", r.GoodsTag, 32)
	return warning, c.err
}

// DirectComplete creates an order for an authorized user and completes it at once; Pay Score
// then deducts it as the merchant's deduction mode says, like after complete. Repeating it with
// the same parameters returns the order as it is now (原参重入).
func (s *Service) DirectComplete(ctx context.Context, m *Merchant, r DirectCompleteRequest) (*Order, error) {
	now := s.Clocks.Now(m.MchID)
	warning, verr := r.validate(now)
	if verr != nil {
		return nil, verr
	}
	if err := checkBinding(m, r.AppID, r.ServiceID); err != nil {
		return nil, err
	}
	if err := s.checkAuthorized(ctx, m, r.ServiceID, r.AppID, r.OpenID); err != nil {
		return nil, err
	}
	params, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("direct-complete: encode parameters: %w", err)
	}
	// The order is built, started and completed in memory and stored once, so that it and
	// its USER_PAID notification exist together or not at all.
	o := &Order{
		AppID: r.AppID, MchID: m.MchID, OutOrderNo: r.OutOrderNo, ServiceID: r.ServiceID,
		ServiceIntroduction: r.ServiceIntroduction,
		State:               StateDoing, StateDescription: UserConfirm,
		TimeRange: *r.TimeRange, Location: r.Location, Attach: r.Attach,
		NotifyURL: r.NotifyURL, OpenID: r.OpenID,
		OrderID: newOrderID(now),
		Sim: OrderRecord{
			NeedUserConfirm: false,
			CreatedAt:       now, UpdatedAt: now,
			CreateParams: params,
		},
	}
	if warning != "" {
		o.Sim.Warnings = append(o.Sim.Warnings, warning)
	}
	complete := CompleteRequest{
		AppID: r.AppID, ServiceID: r.ServiceID,
		PostPayments: r.PostPayments, PostDiscounts: r.PostDiscounts, TotalAmount: r.TotalAmount,
		ProfitSharing: r.ProfitSharing, GoodsTag: r.GoodsTag,
	}
	o.Sim.History = []StateChange{{Time: now, To: o.stateName(), Cause: "merchant: direct-complete"}}
	if err := o.track("merchant: direct-complete", now, func() error { return o.Complete(complete, now, s.plan(o, m)) }); err != nil {
		return nil, err
	}
	return s.storeNew(ctx, o)
}
