package simulator

import (
	"context"
	"time"
)

// OrderStore persists service orders. The rules live in Service; a store only keeps what it is
// given, atomically.
type OrderStore interface {
	// CreateOrder stores o unless the merchant already has an order numbered o.OutOrderNo, in
	// which case it stores nothing and returns that order with created false.
	CreateOrder(ctx context.Context, o *Order) (stored *Order, created bool, err error)
	// FindOrder returns the merchant's order named by key, or an ORDER_NOT_EXIST *Error.
	FindOrder(ctx context.Context, mchid string, key OrderKey) (*Order, error)
	// UpdateOrder loads the merchant's order, lets fn change it and saves it, in one
	// transaction. If fn returns an error nothing is saved and that error is returned.
	// Query IDs that fn adds to o.Sim.QueryIDs become names of the order.
	UpdateOrder(ctx context.Context, mchid, outOrderNo string, fn func(*Order) error) (*Order, error)
	// FindOrderByPackage returns the order whose package is pkg, of any merchant: the
	// unsigned front-end form names no merchant.
	FindOrderByPackage(ctx context.Context, pkg string) (*Order, error)
	// ListOrders returns orders newest first.
	ListOrders(ctx context.Context, f OrderFilter) ([]*Order, error)
	// NextDeductionDue returns the real time at which the earliest pending deduction of any
	// order comes due by its merchant's clock.
	NextDeductionDue(ctx context.Context) (t time.Time, ok bool, err error)
}

// OrderFilter narrows ListOrders. Zero fields match everything; Limit 0 means 100.
type OrderFilter struct {
	MchID string
	State OrderState
	// CreatedBefore keeps orders created before it.
	CreatedBefore time.Time
	// DeductionDueBy keeps orders whose pending deduction is due by their merchant's clock at
	// this real time (see NotificationStore.DueNotifications).
	DeductionDueBy time.Time
	// Before keeps the orders listed after the one of this ID (its order_id): the next page of a
	// listing whose previous page ended there.
	Before string
	Limit  int
}

// RequestRecord is one API request as the simulator received and answered it, kept so that a
// developer can see why a request was refused.
type RequestRecord struct {
	ID           int64          `json:"id"`
	Time         time.Time      `json:"time"`
	MchID        string         `json:"mchid,omitempty"`
	Method       string         `json:"method"`
	Target       string         `json:"target"`
	RequestBody  string         `json:"request_body,omitempty"`
	Status       int            `json:"status"`
	Code         string         `json:"code,omitempty"`
	Message      string         `json:"message,omitempty"`
	ResponseBody string         `json:"response_body,omitempty"`
	Diagnostic   map[string]any `json:"diagnostic,omitempty"`
	Warnings     []string       `json:"warnings,omitempty"`
	Duration     time.Duration  `json:"duration_ns"`
	// Fault marks an answer that a fault rule made (or a connection it dropped, with Status
	// 0), so that nobody takes it for a bug.
	Fault *InjectedFault `json:"fault,omitempty"`
}

// RequestLog keeps RequestRecords.
type RequestLog interface {
	LogRequest(ctx context.Context, r *RequestRecord) error
	// ListRequests returns records newest first.
	ListRequests(ctx context.Context, f RequestFilter) ([]*RequestRecord, error)
}

// RequestRetention bounds the request log: once it holds more than Rows records or Bytes bytes
// of text, the oldest records go. Zero fields mean the defaults.
type RequestRetention struct {
	Rows  int
	Bytes int64
}

// The request log's default bounds: at a few KiB a request, ten thousand requests are hours
// of a developer's work and days of a test suite's.
const (
	DefaultRequestLogRows  = 10_000
	DefaultRequestLogBytes = 64 << 20
)

// RequestFilter narrows ListRequests. Zero fields match everything; Limit 0 means 100.
type RequestFilter struct {
	MchID string
	// Failed keeps only requests answered with a status of 400 or more.
	Failed bool
	// Mentions keeps only requests whose target or request body contains at least one of these
	// strings, byte for byte (such as an out_order_no as sent, and the order's query_ids).
	// Empty strings are ignored.
	Mentions []string
	// BeforeID keeps records logged before the one of this ID: the next page of a listing.
	BeforeID int64
	// MaxBytes, when set, ends the list early once its records hold this much text, so that
	// one page of large bodies stays a bounded answer.
	MaxBytes int64
	Limit    int
}
