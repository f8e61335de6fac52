package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// SeedReport says what seeding did.
type SeedReport struct {
	Authorizations int
	// Orders counts the orders seeded, by state; Present those already there.
	Orders                map[SeedState]int
	Present               int
	PresentAuthorizations int
	// Refunds counts the refunds of the orders seeded.
	Refunds int
}

func (r SeedReport) String() string {
	n := 0
	var parts []string
	for _, s := range SeedStates {
		if c := r.Orders[s]; c > 0 {
			n += c
			parts = append(parts, fmt.Sprintf("%d %s", c, s))
		}
	}
	out := fmt.Sprintf("%d authorizations, %d orders", r.Authorizations, n)
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	if r.Refunds > 0 {
		out += fmt.Sprintf(", %d refunds", r.Refunds)
	}
	if r.Present > 0 || r.PresentAuthorizations > 0 {
		out += fmt.Sprintf("; already present: %d authorizations, %d orders", r.PresentAuthorizations, r.Present)
	}
	return out
}

// Apply brings the simulator served by svc and refunds to the seed's world: the
// authorizations, then the orders and their refunds, each through the Service or the
// RefundService as a client would. An order whose out_order_no the merchant already has is left
// as it is, with its refunds, so seeding a file twice changes nothing.
func (s *Seed) Apply(ctx context.Context, svc *simulator.Service, refunds *simulator.RefundService) (SeedReport, error) {
	rep := SeedReport{Orders: map[SeedState]int{}}
	for _, a := range s.Authorizations {
		created, err := s.authorize(ctx, svc, a)
		if err != nil {
			return rep, s.fail(a.Pos, err)
		}
		if created {
			rep.Authorizations++
		} else {
			rep.PresentAuthorizations++
		}
	}
	for _, o := range s.Orders {
		created, err := s.order(ctx, svc, refunds, o)
		if err != nil {
			return rep, s.fail(o.Pos, fmt.Errorf("order %s (%s): %w", text(o.Create["out_order_no"]), o.State, err))
		}
		if created {
			rep.Orders[o.State]++
			rep.Refunds += len(o.Refunds)
		} else {
			rep.Present++
		}
	}
	return rep, nil
}

func (s *Seed) fail(pos Pos, err error) error {
	return &Error{Pos: pos, Msg: "seed: " + err.Error()}
}

// authorize seeds one authorization; created is false when the user has it already.
func (s *Seed) authorize(ctx context.Context, svc *simulator.Service, a *SeedAuthorization) (created bool, err error) {
	req := a.Request
	m := svc.Merchants.Merchant(a.MchID)
	if m == nil {
		return false, fmt.Errorf("merchant %s is not a merchant of this simulator: add it under merchants", a.MchID)
	}
	if req.AppID == "" {
		req.AppID = m.AppIDs[0]
	}
	if req.ServiceID == "" {
		req.ServiceID = m.ServiceIDs[0]
	}
	if req.NotifyURL == "" {
		req.NotifyURL = s.NotifyURL
	}
	if p, err := svc.Permissions.FindPermissionByOpenID(ctx, m.MchID, req.AppID, req.ServiceID, req.OpenID); err == nil &&
		p.State == simulator.AuthorizationAvailable && (req.AuthorizationCode == "" || req.AuthorizationCode == p.AuthorizationCode) {
		return false, nil
	}
	if _, err := svc.SeedPermission(ctx, a.MchID, req); err != nil {
		return false, fmt.Errorf("authorize openid %s: %w", req.OpenID, explain(err))
	}
	return true, nil
}

// explain words a simulator error with its detail's issue.
func explain(err error) error {
	var e *simulator.Error
	if errors.As(err, &e) {
		if issue, ok := e.Detail["issue"]; ok && !strings.Contains(e.Message, fmt.Sprint(issue)) {
			return fmt.Errorf("%s %s (%v)", e.Code, e.Message, issue)
		}
		return fmt.Errorf("%s %s", e.Code, e.Message)
	}
	return err
}

// step wraps the error of one step of bringing an order to its state.
func step(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, explain(err))
	}
	return nil
}

// order seeds one order; created is false when it was there already.
func (s *Seed) order(ctx context.Context, svc *simulator.Service, refunds *simulator.RefundService, o *SeedOrder) (created bool, err error) {
	m := svc.Merchants.Merchant(o.MchID)
	if m == nil {
		return false, fmt.Errorf("merchant %s is not a merchant of this simulator: add it under merchants", o.MchID)
	}
	no := text(o.Create["out_order_no"])
	if _, err := svc.Orders.FindOrder(ctx, m.MchID, simulator.OrderKey{OutOrderNo: no}); err == nil {
		return false, nil
	} else if simulator.ErrorCode(err) != simulator.CodeOrderNotExist {
		return false, err
	}
	req, err := s.createRequest(m, o)
	if err != nil {
		return false, err
	}
	if o.State == SeedExpired {
		return true, expired(ctx, svc, m, req)
	}
	if len(o.Refunds) > 0 {
		return true, s.refunded(ctx, svc, refunds, m, req, o)
	}
	return true, s.reach(ctx, svc, m, req, o)
}

// reach creates the order and brings it to its state.
func (s *Seed) reach(ctx context.Context, svc *simulator.Service, m *simulator.Merchant, req simulator.CreateOrderRequest, o *SeedOrder) error {
	ord, err := svc.CreateOrder(ctx, m, req)
	if err != nil {
		return fmt.Errorf("create: %w", explain(err))
	}
	switch o.State {
	case SeedCreated:
		return nil
	case SeedRevoked:
		return cancel(ctx, svc, m, ord, o.CancelReason)
	}
	if err := confirm(ctx, svc, ord); err != nil {
		return err
	}
	if o.State == SeedConfirmed {
		return nil
	}
	return s.complete(ctx, svc, m, ord, o)
}

// refunded brings a DONE order with refunds to its state in the past, then makes its refunds a
// minute apart up to now.
func (s *Seed) refunded(ctx context.Context, svc *simulator.Service, refunds *simulator.RefundService, m *simulator.Merchant, req simulator.CreateOrderRequest, o *SeedOrder) error {
	at, clocks, err := pastService(svc, m.MchID, refundsAgo(len(o.Refunds)))
	if err != nil {
		return err
	}
	if err := s.reach(ctx, at, m, req, o); err != nil {
		return err
	}
	return s.refund(ctx, refunds, m, o, clocks)
}

// createRequest is the create call for a seeded order: the file's fields over the scenario
// create's defaults.
func (s *Seed) createRequest(m *simulator.Merchant, o *SeedOrder) (simulator.CreateOrderRequest, error) {
	var req simulator.CreateOrderRequest
	err := remarshal(prune(overlay(createDefaults(m.AppIDs[0], m.ServiceIDs[0], s.NotifyURL), o.Create)), &req)
	return req, err
}

func cancel(ctx context.Context, svc *simulator.Service, m *simulator.Merchant, ord *simulator.Order, reason string) error {
	if reason == "" {
		reason = "用户取消了服务"
	}
	_, err := svc.CancelOrder(ctx, m, ord.OutOrderNo, simulator.CancelRequest{AppID: ord.AppID, ServiceID: ord.ServiceID, Reason: reason})
	return step("cancel", err)
}

// confirm is the user opening the order's package, confirming, and coming back with the
// in-page button. An order made without confirmation (need_user_confirm: false) is DOING
// already.
func confirm(ctx context.Context, svc *simulator.Service, ord *simulator.Order) error {
	if ord.State != simulator.StateCreated {
		return nil
	}
	pkg, _ := json.Marshal(ord.Sim.Package)
	v, err := svc.OpenVisit(ctx, simulator.OpenVisitRequest{
		BusinessType: simulator.BusinessUse, ExtraData: map[string]json.RawMessage{"package": pkg},
	})
	if err != nil {
		return step("open the confirmation page", err)
	}
	if _, err := svc.ConfirmVisit(ctx, v.ID, ""); err != nil {
		return step("confirm", err)
	}
	_, err = svc.ReturnVisit(ctx, v.ID)
	return step("return", err)
}

// complete completes a confirmed order: left awaiting payment, or paid by Pay Score's
// deduction or by the merchant (sync).
func (s *Seed) complete(ctx context.Context, svc *simulator.Service, m *simulator.Merchant, ord *simulator.Order, o *SeedOrder) error {
	mode := simulator.DeductImmediately
	switch {
	case o.State == SeedAwaitingPay:
		mode = simulator.DeductOnPay // the deduction fails until the merchant asks with /pay
	case o.PaidBy == PaidBySync:
		mode = simulator.DeductFail // the merchant collects it itself
	}
	if m.Settings.Deduction != mode && !(mode == simulator.DeductImmediately && m.Settings.Deduction == "") {
		if _, err := svc.SetDeduction(ctx, m.MchID, ord.OutOrderNo, mode); err != nil {
			return step("set the deduction mode", err)
		}
	}
	cr, err := completeRequest(svc, ord, o.Complete)
	if err != nil {
		return err
	}
	if _, err := svc.CompleteOrder(ctx, m, ord.OutOrderNo, cr); err != nil {
		return step("complete", err)
	}
	// Pay Score deducts after complete; a seeded order is settled before the seed ends.
	if ord, err = svc.DeductNow(ctx, m.MchID, ord.OutOrderNo); err != nil {
		return step("deduct", err)
	}
	if o.State != SeedDone || ord.State == simulator.StateDone {
		return nil
	}
	_, err = svc.SyncOrder(ctx, m, ord.OutOrderNo, simulator.SyncRequest{
		AppID: ord.AppID, ServiceID: ord.ServiceID, Type: simulator.SyncTypeOrderPaid,
		Detail: &struct {
			PaidTime string `json:"paid_time"`
		}{PaidTime: simulator.FormatCompact(svc.Clocks.Now(m.MchID))},
	})
	return step("sync", err)
}

// completeRequest is the complete call for a seeded order: the file's fields over the order's own
// items, ending now.
func completeRequest(svc *simulator.Service, ord *simulator.Order, fields map[string]any) (simulator.CompleteRequest, error) {
	var items []any
	for _, p := range ord.PostPayments {
		if p.Amount == nil {
			items = nil
			break
		}
		items = append(items, map[string]any{"name": p.Name, "amount": *p.Amount})
	}
	if _, total := fields["total_amount"]; len(items) == 0 || total {
		items = defaultItems(fields)
	}
	d := map[string]any{
		"appid": ord.AppID, "service_id": ord.ServiceID,
		"post_payments": items,
		"time_range":    map[string]any{"end_time": simulator.FormatCompact(svc.Clocks.Now(ord.MchID))},
	}
	b := prune(overlay(d, fields))
	withTotal(b, fields)
	var cr simulator.CompleteRequest
	if err := remarshal(b, &cr); err != nil {
		return cr, fmt.Errorf("complete: %w", err)
	}
	return cr, nil
}

// expired creates the order as if thirty days and an hour ago, through the Service under a clock
// that far behind, then lets the simulator's clock expire it, as it expires every order the user
// never confirmed.
func expired(ctx context.Context, svc *simulator.Service, m *simulator.Merchant, req simulator.CreateOrderRequest) error {
	past := &simulator.Clocks{}
	past.SetOffset(m.MchID, svc.Clocks.Offset(m.MchID)-simulator.OrderLifetime-time.Hour)
	if _, err := svc.UsingClocks(past).CreateOrder(ctx, m, req); err != nil {
		return fmt.Errorf("create (thirty days ago): %w", explain(err))
	}
	if err := svc.ExpireOrders(ctx, m.MchID); err != nil {
		return fmt.Errorf("expire: %w", err)
	}
	return nil
}
