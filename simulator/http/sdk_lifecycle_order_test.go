package http_test

// The bodies the lifecycle sends, the orders it reads back and their checks (see
// sdk_lifecycle_test.go).

import (
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
)

// lifeCompleteBody completes the order: two payments, one discount, 250 in all.
func lifeCompleteBody(endTime string) map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": sdkPaymentAmount, "description": sdkPaymentDescription, "count": 1},
			{"name": lifeCableName, "amount": lifeCableAmount, "description": lifeCableDescription, "count": 1},
		},
		"post_discounts": []map[string]any{
			{"name": sdkDiscountName, "description": sdkDiscountDescription, "amount": lifeFirstDiscount, "count": 1},
		},
		"total_amount": lifeCompleteTotal,
		"time_range":   map[string]any{"end_time": endTime},
	}
}

// lifeModifyBody lowers the amount to 180 with a second discount.
func lifeModifyBody() map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": sdkPaymentAmount, "description": sdkPaymentDescription, "count": 1},
			{"name": lifeCableName, "amount": lifeCableAmount, "description": lifeCableDescription, "count": 1},
		},
		"post_discounts": []map[string]any{
			{"name": sdkDiscountName, "description": sdkDiscountDescription, "amount": lifeFirstDiscount, "count": 1},
			{"name": lifeCompensationName, "description": lifeCompensationDesc, "amount": lifeCompensationAmount, "count": 1},
		},
		"total_amount": lifeModifyTotal,
		"reason":       lifeModifyReason,
	}
}

// lifeSum is Σpost_payments.amount − Σpost_discounts.amount of a request body.
func lifeSum(body map[string]any) int {
	total := 0
	for _, p := range body["post_payments"].([]map[string]any) {
		total += p["amount"].(int)
	}
	if ds, ok := body["post_discounts"].([]map[string]any); ok {
		for _, d := range ds {
			total -= d["amount"].(int)
		}
	}
	return total
}

// ---- the order as the server sends it, and the checks ----

// lifeOrder is a service order as the create, query, complete, modify and sync APIs answer it.
// Pointers tell an absent member from a zero one.
type lifeOrder struct {
	AppID            string          `json:"appid"`
	MchID            string          `json:"mchid"`
	OutOrderNo       string          `json:"out_order_no"`
	ServiceID        string          `json:"service_id"`
	OrderID          string          `json:"order_id"`
	State            string          `json:"state"`
	StateDescription *string         `json:"state_description"`
	TotalAmount      *int64          `json:"total_amount"`
	NeedCollection   *bool           `json:"need_collection"`
	Collection       *lifeCollection `json:"collection"`
	TimeRange        *struct {
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
	} `json:"time_range"`
	PostPayments  []lifeItem `json:"post_payments"`
	PostDiscounts []lifeItem `json:"post_discounts"`
	Package       *string    `json:"package"`
	OpenID        *string    `json:"openid"`
}

type lifeItem struct {
	Name   string `json:"name"`
	Amount *int64 `json:"amount"`
}

type lifeCollection struct {
	State        string       `json:"state"`
	TotalAmount  *int64       `json:"total_amount"`
	PayingAmount *int64       `json:"paying_amount"`
	PaidAmount   *int64       `json:"paid_amount"`
	Details      []lifeDetail `json:"details"`
}

type lifeDetail struct {
	Seq           int64  `json:"seq"`
	Amount        int64  `json:"amount"`
	PaidType      string `json:"paid_type"`
	PaidTime      string `json:"paid_time"`
	TransactionID string `json:"transaction_id"`
}

// lifeWant is what a step must leave. StateDescription "" means absent or empty; nil
// TotalAmount and NeedCollection are not checked (before complete); nil Collection means
// collection must be absent.
type lifeWant struct {
	// OpenID is the user who confirmed; "" means the order has none (before the confirmation).
	OpenID           string
	State            string
	StateDescription string
	TotalAmount      *int64
	NeedCollection   *bool
	Collection       *lifeCollectionWant
}

type lifeCollectionWant struct {
	State                                 string
	TotalAmount, PayingAmount, PaidAmount int64
	Details                               []lifeDetail // nil: none
}

type lifeIDs struct{ no, orderID string }

func lifePtr[T any](v T) *T { return &v }

func lifeShow[T any](p *T) string {
	if p == nil {
		return "absent"
	}
	return sdkJSON(*p)
}

func lifeCheck(t *testing.T, op string, o lifeOrder, id lifeIDs, w lifeWant) {
	t.Helper()
	if o.OutOrderNo != id.no || o.OrderID != id.orderID || o.AppID != fixtures.DemoAppID || o.MchID != fixtures.DemoMchID || o.ServiceID != fixtures.DemoServiceID {
		t.Errorf("%s: (out_order_no, order_id, appid, mchid, service_id) = (%s, %s, %s, %s, %s), want (%s, %s, %s, %s, %s)",
			op, o.OutOrderNo, o.OrderID, o.AppID, o.MchID, o.ServiceID, id.no, id.orderID, fixtures.DemoAppID, fixtures.DemoMchID, fixtures.DemoServiceID)
	}
	if o.State != w.State {
		t.Errorf("%s: state = %q, want %s", op, o.State, w.State)
	}
	if sd := o.StateDescription; w.StateDescription == "" && sd != nil && *sd != "" || w.StateDescription != "" && (sd == nil || *sd != w.StateDescription) {
		want := w.StateDescription
		if want == "" {
			want = "absent or empty"
		}
		t.Errorf("%s: state_description = %s, want %s", op, lifeShow(sd), want)
	}
	if w.TotalAmount != nil && (o.TotalAmount == nil || *o.TotalAmount != *w.TotalAmount) {
		t.Errorf("%s: total_amount = %s, want %d", op, lifeShow(o.TotalAmount), *w.TotalAmount)
	}
	if w.NeedCollection != nil && (o.NeedCollection == nil || *o.NeedCollection != *w.NeedCollection) {
		t.Errorf("%s: need_collection = %s, want %v", op, lifeShow(o.NeedCollection), *w.NeedCollection)
	}
	lifeCheckCollection(t, op, o.Collection, w.Collection)
	if w.OpenID == "" && o.OpenID != nil || w.OpenID != "" && (o.OpenID == nil || *o.OpenID != w.OpenID) {
		t.Errorf("%s: openid = %s, want %q (none before the user confirms)", op, lifeShow(o.OpenID), w.OpenID)
	}
	if o.Package != nil && op != "create" {
		t.Errorf("%s: package %q; only create answers with one", op, *o.Package)
	}
}

// lifeCheckCollection checks an order's collection c against wc; nil wc means none.
func lifeCheckCollection(t *testing.T, op string, c *lifeCollection, wc *lifeCollectionWant) {
	t.Helper()
	switch {
	case wc == nil && c != nil:
		t.Errorf("%s: collection = %s, want none before complete", op, sdkJSON(c))
	case wc == nil:
	case c == nil:
		t.Errorf("%s: no collection, want %+v", op, *wc)
	default:
		if c.State != wc.State || c.TotalAmount == nil || *c.TotalAmount != wc.TotalAmount ||
			c.PayingAmount == nil || *c.PayingAmount != wc.PayingAmount || c.PaidAmount == nil || *c.PaidAmount != wc.PaidAmount {
			t.Errorf("%s: collection (state, total_amount, paying_amount, paid_amount) = (%s, %s, %s, %s), want (%s, %d, %d, %d)",
				op, c.State, lifeShow(c.TotalAmount), lifeShow(c.PayingAmount), lifeShow(c.PaidAmount), wc.State, wc.TotalAmount, wc.PayingAmount, wc.PaidAmount)
		}
		switch {
		case len(wc.Details) == 0 && len(c.Details) != 0:
			t.Errorf("%s: collection.details = %s, want none", op, sdkJSON(c.Details))
		case len(wc.Details) != 0 && sdkJSON(c.Details) != sdkJSON(wc.Details):
			t.Errorf("%s: collection.details = %s, want %s", op, sdkJSON(c.Details), sdkJSON(wc.Details))
		}
	}
}

func lifeCheckTimeRange(t *testing.T, op string, o lifeOrder, start, end string) {
	t.Helper()
	if tr := o.TimeRange; tr == nil || tr.StartTime != start || tr.EndTime != end {
		t.Errorf("%s: time_range = %s, want start_time %s, end_time %s", op, sdkJSON(o.TimeRange), start, end)
	}
}

// lifeCheckItems checks the amounts of post_payments and post_discounts, in order.
func lifeCheckItems(t *testing.T, op string, o lifeOrder, payments, discounts []int64) {
	t.Helper()
	amounts := func(items []lifeItem) []int64 {
		var out []int64
		for _, it := range items {
			if it.Amount == nil {
				out = append(out, -1)
			} else {
				out = append(out, *it.Amount)
			}
		}
		return out
	}
	if p, d := amounts(o.PostPayments), amounts(o.PostDiscounts); sdkJSON(p) != sdkJSON(payments) || sdkJSON(d) != sdkJSON(discounts) {
		t.Errorf("%s: amounts of (post_payments, post_discounts) = (%v, %v), want (%v, %v)", op, p, d, payments, discounts)
	}
}

// lifeCheckConfirmTime checks that OnAccept became the time of the confirmation.
func lifeCheckConfirmTime(t *testing.T, start string, before, after time.Time) {
	t.Helper()
	if !compactTimePattern.MatchString(start) {
		t.Fatalf("query after confirm: time_range.start_time = %q, want OnAccept replaced by a yyyyMMddHHmmss time", start)
	}
	at, err := time.ParseInLocation("20060102150405", start, chinaTime)
	if err != nil {
		t.Fatalf("query after confirm: time_range.start_time %q: %v", start, err)
	}
	if at.Before(before.Truncate(time.Second)) || at.After(after) {
		t.Errorf("query after confirm: time_range.start_time = %s, want the confirmation's time, between %s and %s",
			start, compactTime(before), compactTime(after))
	}
}
