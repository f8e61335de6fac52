package simulator

import (
	"encoding/json"
	"time"
)

// OrderState is a service order's state (state).
type OrderState string

const (
	StateCreated OrderState = "CREATED"
	StateDoing   OrderState = "DOING"
	StateDone    OrderState = "DONE"
	StateRevoked OrderState = "REVOKED"
	StateExpired OrderState = "EXPIRED"
)

// StateDescription refines DOING (state_description).
type StateDescription string

const (
	UserConfirm StateDescription = "USER_CONFIRM"
	MchComplete StateDescription = "MCH_COMPLETE"
)

// CollectionState is the payment state of a completed order (collection.state).
type CollectionState string

const (
	UserPaying CollectionState = "USER_PAYING"
	UserPaid   CollectionState = "USER_PAID"
)

// Paid types of a collection detail.
const (
	PaidTypeNewton = "NEWTON" // deducted through Pay Score
	PaidTypeMch    = "MCH"    // collected by the merchant and reported through sync
)

// Order is a Pay Score service order. Its JSON form is the wire form of the query API.
//
// Optional members are pointers or use omitzero so that what a client sent comes back as it was
// sent: production echoes an empty array, object or string ([], {}, "") rather than dropping it,
// and omits what was never given.
type Order struct {
	AppID               string           `json:"appid"`
	MchID               string           `json:"mchid"`
	OutOrderNo          string           `json:"out_order_no"`
	ServiceID           string           `json:"service_id"`
	ServiceIntroduction string           `json:"service_introduction"`
	State               OrderState       `json:"state"`
	StateDescription    StateDescription `json:"state_description,omitempty"`
	PostPayments        []PostPayment    `json:"post_payments,omitzero"`
	PostDiscounts       []PostDiscount   `json:"post_discounts,omitzero"`
	RiskFund            RiskFund         `json:"risk_fund,omitzero"` // direct-complete orders have none
	TotalAmount         int64            `json:"total_amount"`
	NeedCollection      bool             `json:"need_collection"`
	Collection          *Collection      `json:"collection,omitempty"`
	TimeRange           TimeRange        `json:"time_range"`
	Location            *Location        `json:"location,omitempty"`
	Attach              *string          `json:"attach,omitempty"`
	NotifyURL           string           `json:"notify_url,omitempty"`
	OpenID              string           `json:"openid,omitempty"`
	OrderID             string           `json:"order_id"`
	Device              *Device          `json:"device,omitempty"`

	// Sim is what the simulator keeps beside the wire form.
	Sim OrderRecord `json:"-"`
}

// OrderRecord is the simulator's own record of an order, kept beside its wire form.
type OrderRecord struct {
	NeedUserConfirm bool      `json:"need_user_confirm"`
	Package         string    `json:"package,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	// CreateParams are the create request's parameters, so that a repeated create can be told
	// apart from a create that reuses out_order_no with other parameters.
	CreateParams json.RawMessage `json:"create_params"`
	CancelReason string          `json:"cancel_reason,omitempty"`
	// QueryIDs are the query_ids issued for the order, each resolvable by the query API.
	QueryIDs []string `json:"query_ids,omitempty"`
	// Deduction overrides the merchant's deduction mode for this order.
	Deduction DeductionMode `json:"deduction,omitempty"`
	// DeductionDelay overrides the merchant's deduction_delay for this order: a test keeps a
	// deduction in flight with it (SetDeductionDelay).
	DeductionDelay *Delay `json:"deduction_delay,omitempty"`
	// CompleteParams are the first complete's parameters, so that a repeated complete can be
	// told apart from one with other parameters.
	CompleteParams json.RawMessage `json:"complete_params,omitempty"`
	// DeductAt is when Pay Score's pending deduction runs; zero when none is in flight.
	DeductAt time.Time `json:"deduct_at,omitzero"`
	// DeductRequested marks a pending deduction the merchant asked for with /pay.
	DeductRequested bool `json:"deduct_requested,omitempty"`
	// Deductions are the order's successful deductions through Pay Score.
	Deductions []Deduction `json:"deductions,omitempty"`
	// History is the order's state changes, oldest first, each with what caused it.
	History []StateChange `json:"history,omitempty"`
	// Outbox holds the notifications a change caused, for the store to save with the order.
	Outbox []*Notification `json:"-"`
	// Warnings are what production would refuse and the simulator lets through on purpose,
	// such as an http notify_url.
	Warnings []string `json:"warnings,omitempty"`
}

// StateChange is a step of an order's history: from one state to another, and why.
type StateChange struct {
	Time  time.Time `json:"time"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to"`
	Cause string    `json:"cause"`
}

// track runs step, a change of o, and records in o's history the state change it made, if
// any; it also marks o updated.
func (o *Order) track(cause string, now time.Time, step func() error) error {
	before := o.stateName()
	if err := step(); err != nil {
		return err
	}
	o.Sim.UpdatedAt = now
	if after := o.stateName(); after != before {
		o.Sim.History = append(o.Sim.History, StateChange{Time: now, From: before, To: after, Cause: cause})
	}
	return nil
}

// PostPayment is a post_payments item: what the user pays for.
type PostPayment struct {
	Name        string  `json:"name"`
	Amount      *int64  `json:"amount,omitempty"`
	Description *string `json:"description,omitempty"`
	Count       *int64  `json:"count,omitempty"`
}

// PostDiscount is a post_discounts item.
type PostDiscount struct {
	Name        string  `json:"name"`
	Description *string `json:"description,omitempty"`
	Amount      *int64  `json:"amount,omitempty"`
	Count       *int64  `json:"count,omitempty"`
}

// RiskFund is the order's risk fund (risk_fund).
type RiskFund struct {
	Name        string  `json:"name"`
	Amount      int64   `json:"amount"`
	Description *string `json:"description,omitempty"`
}

// TimeRange is the service's time range; times are yyyyMMddHHmmss or yyyyMMdd in China
// Standard Time, and start_time may be the literal OnAccept.
type TimeRange struct {
	StartTime       string  `json:"start_time"`
	EndTime         string  `json:"end_time,omitempty"`
	StartTimeRemark *string `json:"start_time_remark,omitempty"`
	EndTimeRemark   *string `json:"end_time_remark,omitempty"`
}

// Location is where the service starts and ends.
type Location struct {
	StartLocation *string `json:"start_location,omitempty"`
	EndLocation   *string `json:"end_location,omitempty"`
}

// Device identifies the merchant's devices.
type Device struct {
	StartDeviceID *string `json:"start_device_id,omitempty"`
	EndDeviceID   *string `json:"end_device_id,omitempty"`
	MaterielNo    *string `json:"materiel_no,omitempty"`
}

// Collection is the payment record of a completed order.
type Collection struct {
	State        CollectionState    `json:"state"`
	TotalAmount  int64              `json:"total_amount"`
	PayingAmount int64              `json:"paying_amount"`
	PaidAmount   int64              `json:"paid_amount"`
	Details      []CollectionDetail `json:"details,omitzero"`
}

// CollectionDetail is one payment towards a collection.
type CollectionDetail struct {
	Seq           int64  `json:"seq"`
	Amount        int64  `json:"amount"`
	PaidType      string `json:"paid_type"`
	PaidTime      string `json:"paid_time"`
	TransactionID string `json:"transaction_id,omitempty"`
}

// OrderKey names an order within a merchant: by out_order_no or by query_id, never both.
type OrderKey struct {
	OutOrderNo string
	QueryID    string
}
