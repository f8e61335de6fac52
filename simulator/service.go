package simulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Service is Pay Score as the merchant's back end sees it. It holds the rules; the store only
// keeps what the rules decide. Build one with NewService; its exported fields are there for
// adapters to read (the stores' lists, the clock) and are not changed afterwards.
type Service struct {
	Orders        OrderStore
	Visits        VisitStore
	Notifications NotificationStore
	Permissions   PermissionStore
	ClockStore    ClockStore
	MerchantStore MerchantStore
	Merchants     *Merchants
	Clocks        *Clocks
	// Faults are the fault rules in force (see FaultRule): the adapters ask them about every
	// API request.
	Faults *Faults

	// Capabilities the wiring gives (see the Options); nil when it gave none.
	notifier Notifier
	resetter Resetter
	// deducter is woken after changes that leave a deduction pending.
	deducter Waker
	// refunds settles the refund outcomes that advancing the clock makes due.
	refunds *RefundService
	// deductionDelay is how long after complete or /pay Pay Score deducts, for merchants
	// without a delay of their own.
	deductionDelay time.Duration

	clockMu    sync.Mutex
	registerMu sync.Mutex // orders registrations: one mchid is checked and stored at a time
}

// Stores are where a Service keeps its records. Every one is required; a sqlite.DB is all of
// them.
type Stores struct {
	Orders        OrderStore
	Visits        VisitStore
	Permissions   PermissionStore
	Notifications NotificationStore
	ClockStore    ClockStore
	MerchantStore MerchantStore
}

// Option sets an optional dependency of a Service built by NewService.
type Option func(*Service)

// WithClocks makes the Service tell the merchants' time by c; without it the Service has clocks
// of its own, at the real time.
func WithClocks(c *Clocks) Option { return func(s *Service) { s.Clocks = c } }

// WithNotifier gives the Service the notifier that delivers what it queues: it is woken after
// every change that may have queued a notification, and it resends and runs the lab. Without one
// notifications wait in the store, and the lab is refused.
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notifier = n } }

// WithDeducter gives the Service what runs pending deductions when they come due (a DueRunner
// running RunDueDeductions); it is woken after every change that leaves one pending. Without
// one, pending deductions run only when the clock is advanced (or DeductNow is called).
func WithDeducter(w Waker) Option { return func(s *Service) { s.deducter = w } }

// WithRefunds has AdvanceClock settle the refund outcomes that came due before it returns, as it
// runs the deductions that came due; without it, only the refunds' own DueRunner settles them,
// up to a second later.
func WithRefunds(r *RefundService) Option { return func(s *Service) { s.refunds = r } }

// WithDeductionDelay sets how long after complete or /pay Pay Score deducts, for merchants
// without a deduction_delay of their own; without it, DefaultDeductionDelay.
func WithDeductionDelay(d time.Duration) Option { return func(s *Service) { s.deductionDelay = d } }

// WithResetter lets the Service reset (Service.Reset); without one a reset is refused.
func WithResetter(r Resetter) Option { return func(s *Service) { s.resetter = r } }

// NewService returns a Service keeping its records in stores, for merchants.
func NewService(stores Stores, merchants *Merchants, opts ...Option) (*Service, error) {
	var missing []string
	for name, set := range map[string]bool{
		"Orders": stores.Orders != nil, "Visits": stores.Visits != nil, "Permissions": stores.Permissions != nil,
		"Notifications": stores.Notifications != nil, "ClockStore": stores.ClockStore != nil, "MerchantStore": stores.MerchantStore != nil,
		"merchants": merchants != nil,
	} {
		if !set {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("new service: %v missing", missing)
	}
	s := &Service{
		Orders: stores.Orders, Visits: stores.Visits, Permissions: stores.Permissions,
		Notifications: stores.Notifications, ClockStore: stores.ClockStore, MerchantStore: stores.MerchantStore,
		Merchants: merchants, Clocks: &Clocks{}, Faults: &Faults{}, deductionDelay: DefaultDeductionDelay,
	}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// UsingClocks returns a Service sharing s's stores, merchants and capabilities but telling time
// by c: a seed creates an order in the past through one whose clock is behind. The two do not
// share the lock that orders clock advances, so advance clocks through s only.
func (s *Service) UsingClocks(c *Clocks) *Service {
	return &Service{
		Orders: s.Orders, Visits: s.Visits, Permissions: s.Permissions,
		Notifications: s.Notifications, ClockStore: s.ClockStore, MerchantStore: s.MerchantStore,
		Merchants: s.Merchants, Clocks: c, Faults: s.Faults, notifier: s.notifier, resetter: s.resetter,
		deducter: s.deducter, deductionDelay: s.deductionDelay, refunds: s.refunds,
	}
}

// NoAuth is production's answer when a merchant uses an appid or service_id it is not bound to.
func NoAuth(field, value string, bound []string) *Error {
	return Errorf(CodeNoAuth, "商户暂无权限使用此服务").
		With("field", field).With("value", value).
		With("issue", fmt.Sprintf("%s %q is not bound to this merchant; bound: %v", field, value, bound))
}

// checkBinding rejects an appid or service_id the merchant is not bound to.
func checkBinding(m *Merchant, appid, serviceID string) *Error {
	if !m.HasAppID(appid) {
		return NoAuth("appid", appid, m.AppIDs)
	}
	if !m.HasService(serviceID) {
		return NoAuth("service_id", serviceID, m.ServiceIDs)
	}
	return nil
}

// CreateOrder creates a service order, or returns the existing one when the same create is
// repeated with the same parameters (原参重入).
func (s *Service) CreateOrder(ctx context.Context, m *Merchant, r CreateOrderRequest) (*Order, error) {
	now := s.Clocks.Now(m.MchID)
	warning, verr := r.validate(now)
	if verr != nil {
		return nil, verr
	}
	if err := checkBinding(m, r.AppID, r.ServiceID); err != nil {
		return nil, err
	}
	confirm := r.NeedUserConfirm == nil || *r.NeedUserConfirm
	if !confirm {
		if err := s.checkAuthorized(ctx, m, r.ServiceID, r.AppID, r.OpenID); err != nil {
			return nil, err
		}
	}
	params, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("create order: encode parameters: %w", err)
	}
	o := &Order{
		AppID: r.AppID, MchID: m.MchID, OutOrderNo: r.OutOrderNo, ServiceID: r.ServiceID,
		ServiceIntroduction: r.ServiceIntroduction,
		State:               StateCreated,
		PostPayments:        r.PostPayments, PostDiscounts: r.PostDiscounts,
		RiskFund:  *r.RiskFund,
		TimeRange: *r.TimeRange, Location: r.Location, Attach: r.Attach,
		NotifyURL: r.NotifyURL, OpenID: r.OpenID, Device: r.Device,
		OrderID: newOrderID(now),
		Sim: OrderRecord{
			NeedUserConfirm: confirm,
			Package:         newPackage(),
			CreatedAt:       now, UpdatedAt: now,
			CreateParams: params,
		},
	}
	o.TotalAmount = sumAmounts(o.PostPayments, o.PostDiscounts)
	if !confirm {
		o.startAuthorized(now)
	}
	o.Sim.History = []StateChange{{Time: now, To: o.stateName(), Cause: "merchant: create"}}
	if warning != "" {
		o.Sim.Warnings = append(o.Sim.Warnings, warning)
	}
	return s.storeNew(ctx, o)
}

// storeNew stores a new order, or returns the stored one when the call that made it is
// repeated with identical parameters; the same out_order_no with other parameters is refused.
func (s *Service) storeNew(ctx context.Context, o *Order) (*Order, error) {
	// The store empties the outbox as it saves it. Most new orders queue no notification, and
	// waking the notifier for nothing costs two queries on the database's one connection.
	notifies := len(o.Sim.Outbox) > 0
	stored, created, err := s.Orders.CreateOrder(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("create order %s: %w", o.OutOrderNo, err)
	}
	if !created && !bytes.Equal(stored.Sim.CreateParams, o.Sim.CreateParams) {
		return nil, Errorf(CodeInvalidRequest, "请确认相同单号是否使用了不同的参数").
			With("field", "out_order_no").With("value", o.OutOrderNo).
			With("issue", "this out_order_no was used before (by create or direct-complete) with other parameters; repeat a call only with identical parameters").
			With("differing_fields", differingFields(stored.Sim.CreateParams, o.Sim.CreateParams))
	}
	if created && notifies {
		s.wake()
	}
	if created {
		s.wakeDeducter(stored)
	}
	return stored, nil
}

// differingFields names the top-level request fields whose values differ between two creates.
func differingFields(a, b json.RawMessage) []string {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return nil
	}
	var diff []string
	for k, v := range ma {
		if !bytes.Equal(v, mb[k]) {
			diff = append(diff, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			diff = append(diff, k)
		}
	}
	sort.Strings(diff)
	return diff
}

// QueryOrder finds an order by out_order_no or query_id. An order of another service or appid
// does not exist for the caller.
func (s *Service) QueryOrder(ctx context.Context, m *Merchant, r QueryRequest) (*Order, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	if err := checkBinding(m, r.AppID, r.ServiceID); err != nil {
		return nil, err
	}
	o, err := s.Orders.FindOrder(ctx, m.MchID, OrderKey{OutOrderNo: r.OutOrderNo, QueryID: r.QueryID})
	if err != nil {
		if r.QueryID != "" {
			return nil, explainNotExist(err, fmt.Sprintf("merchant %s has no order with query_id %s (a query_id is issued when the user returns with params, and only its merchant can use it)", m.MchID, r.QueryID))
		}
		return nil, explainNotExist(err, fmt.Sprintf("merchant %s has no order with out_order_no %s", m.MchID, r.OutOrderNo))
	}
	if o.AppID != r.AppID || o.ServiceID != r.ServiceID {
		return nil, Errorf(CodeOrderNotExist, "订单不存在").
			With("issue", fmt.Sprintf("the order exists under appid %s and service_id %s, not the ones queried", o.AppID, o.ServiceID))
	}
	return o, nil
}

// update applies one state-machine step, named cause in the order's history, to the merchant's
// order outOrderNo.
func (s *Service) update(ctx context.Context, m *Merchant, outOrderNo, cause string, step func(*Order) error) (*Order, error) {
	var c check
	c.outOrderNo(outOrderNo)
	if c.err != nil {
		c.err.Detail["location"] = "path"
		return nil, c.err
	}
	// The store empties the outbox as it saves it; wake the notifier only when the step
	// queued a notification (see storeNew).
	notifies := false
	o, err := s.Orders.UpdateOrder(ctx, m.MchID, outOrderNo, func(o *Order) error {
		err := o.track(cause, s.Clocks.Now(m.MchID), func() error { return step(o) })
		notifies = len(o.Sim.Outbox) > 0
		return err
	})
	if err != nil {
		return nil, explainNotExist(err, fmt.Sprintf("merchant %s has no order with out_order_no %s", m.MchID, outOrderNo))
	}
	if notifies {
		s.wake()
	}
	s.wakeDeducter(o)
	return o, nil
}

// control applies a step the control API takes for the user or the test, to an order named by
// its merchant's mchid.
func (s *Service) control(ctx context.Context, mchid, outOrderNo, cause string, step func(*Order) error) (*Order, error) {
	m := s.Merchants.Merchant(mchid)
	if m == nil {
		return nil, ParamError("mchid", mchid, "is not a merchant of this simulator").With("location", "path")
	}
	return s.update(ctx, m, outOrderNo, cause, step)
}

// explainNotExist adds issue to a store's ORDER_NOT_EXIST; other errors pass unchanged.
func explainNotExist(err error, issue string) error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeOrderNotExist && e.Detail["issue"] == nil {
		return e.With("issue", issue)
	}
	return err
}

// CancelOrder revokes an order.
func (s *Service) CancelOrder(ctx context.Context, m *Merchant, outOrderNo string, r CancelRequest) (*Order, error) {
	return s.update(ctx, m, outOrderNo, "merchant: cancel", func(o *Order) error {
		return o.Cancel(r, m.Settings.RejectCancelAfterComplete)
	})
}

// CompleteOrder ends the service and fixes the amount.
func (s *Service) CompleteOrder(ctx context.Context, m *Merchant, outOrderNo string, r CompleteRequest) (*Order, error) {
	return s.update(ctx, m, outOrderNo, "merchant: complete", func(o *Order) error { return o.Complete(r, s.Clocks.Now(m.MchID), s.plan(o, m)) })
}

// ModifyOrder lowers a completed order's amount.
func (s *Service) ModifyOrder(ctx context.Context, m *Merchant, outOrderNo string, r ModifyRequest) (*Order, error) {
	return s.update(ctx, m, outOrderNo, "merchant: modify", func(o *Order) error { return o.Modify(r) })
}

// RequestPayment asks for the deduction to be tried again.
func (s *Service) RequestPayment(ctx context.Context, m *Merchant, outOrderNo string, r PayRequest) (*Order, error) {
	return s.update(ctx, m, outOrderNo, "merchant: pay", func(o *Order) error { return o.RequestPayment(r, s.Clocks.Now(m.MchID), s.plan(o, m)) })
}

// SyncOrder settles an order the merchant was paid for through its own channel.
func (s *Service) SyncOrder(ctx context.Context, m *Merchant, outOrderNo string, r SyncRequest) (*Order, error) {
	return s.update(ctx, m, outOrderNo, "merchant: sync", func(o *Order) error { return o.Sync(r) })
}

// newOrderID makes an order_id shaped like production's: 31 digits, "1000000000", the creation
// time, and seven digits. The seven digits count from a random start: seven random digits
// repeat within a second once creates come at a few hundred a second (the birthday bound of
// 10^7), and the store refuses a repeated order_id, while the counter cannot repeat within a
// process.
func newOrderID(now time.Time) string {
	return "1000000000" + FormatCompact(now) + fmt.Sprintf("%07d", orderSeq.Add(1)%10_000_000)
}

var orderSeq = func() *atomic.Uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error.
	var seq atomic.Uint64
	seq.Store(binary.LittleEndian.Uint64(b[:]))
	return &seq
}()

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// newPackage makes an opaque package shaped like production's: the same prefix and alphabet
// (letters, digits, _ and -), about the same length.
func newPackage() string {
	b := make([]byte, 168)
	_, _ = rand.Read(b)
	return "AAQTnZoAAAAB" + base64.RawURLEncoding.EncodeToString(b)
}
