package simulator

import (
	"fmt"
	"slices"
	"time"
)

// CreateOrderRequest is the body of POST /v3/payscore/serviceorder.
type CreateOrderRequest struct {
	OutOrderNo          string         `json:"out_order_no"`
	AppID               string         `json:"appid"`
	ServiceID           string         `json:"service_id"`
	ServiceIntroduction string         `json:"service_introduction"`
	PostPayments        []PostPayment  `json:"post_payments,omitzero"`
	PostDiscounts       []PostDiscount `json:"post_discounts,omitzero"`
	TimeRange           *TimeRange     `json:"time_range,omitempty"`
	Location            *Location      `json:"location,omitempty"`
	RiskFund            *RiskFund      `json:"risk_fund,omitempty"`
	Attach              *string        `json:"attach,omitempty"`
	NotifyURL           string         `json:"notify_url"`
	OpenID              string         `json:"openid,omitempty"`
	NeedUserConfirm     *bool          `json:"need_user_confirm,omitempty"`
	Device              *Device        `json:"device,omitempty"`
}

// CancelRequest is the body of POST .../{out_order_no}/cancel.
type CancelRequest struct {
	AppID     string `json:"appid"`
	ServiceID string `json:"service_id"`
	Reason    string `json:"reason"`
}

// CompleteRequest is the body of POST .../{out_order_no}/complete.
type CompleteRequest struct {
	AppID         string         `json:"appid"`
	ServiceID     string         `json:"service_id"`
	PostPayments  []PostPayment  `json:"post_payments"`
	PostDiscounts []PostDiscount `json:"post_discounts"`
	TotalAmount   *int64         `json:"total_amount"`
	TimeRange     *TimeRange     `json:"time_range"`
	Location      *Location      `json:"location"`
	ProfitSharing *bool          `json:"profit_sharing"`
	GoodsTag      *string        `json:"goods_tag"`
	Device        *Device        `json:"device"`
}

// ModifyRequest is the body of POST .../{out_order_no}/modify.
type ModifyRequest struct {
	AppID         string         `json:"appid"`
	ServiceID     string         `json:"service_id"`
	PostPayments  []PostPayment  `json:"post_payments"`
	PostDiscounts []PostDiscount `json:"post_discounts"`
	TotalAmount   *int64         `json:"total_amount"`
	Reason        string         `json:"reason"`
	Device        *Device        `json:"device"`
}

// PayRequest is the body of POST .../{out_order_no}/pay.
type PayRequest struct {
	AppID     string `json:"appid"`
	ServiceID string `json:"service_id"`
}

// SyncRequest is the body of POST .../{out_order_no}/sync.
type SyncRequest struct {
	AppID     string `json:"appid"`
	ServiceID string `json:"service_id"`
	Type      string `json:"type"`
	Detail    *struct {
		PaidTime string `json:"paid_time"`
	} `json:"detail"`
}

// SyncTypeOrderPaid is the only documented sync type: the merchant collected the money itself.
const SyncTypeOrderPaid = "Order_Paid"

// QueryRequest is the query string of GET /v3/payscore/serviceorder.
type QueryRequest struct {
	OutOrderNo string
	QueryID    string
	ServiceID  string
	AppID      string
}

// Risk fund names: the 先免 (deposit-waiver) models and the 先享 (enjoy-first) model.
var (
	depositRiskFunds = []string{"DEPOSIT", "ADVANCE", "CASH_DEPOSIT"}
	riskFundNames    = append(slices.Clone(depositRiskFunds), "ESTIMATE_ORDER_COST")
)

func (c *check) postPayments(items []PostPayment, max int) {
	if len(items) > max {
		c.fail("post_payments", len(items), fmt.Sprintf("must have at most %d items", max))
	}
	seen := map[string]int{}
	for i, p := range items {
		f := fmt.Sprintf("post_payments[%d].", i)
		c.str(f+"name", p.Name, 1, 20)
		if p.Amount != nil {
			c.amount(f+"amount", *p.Amount, 0)
		}
		c.optStr(f+"description", p.Description, 30)
		c.optRange(f+"count", p.Count, 1, 100)
		if p.Amount == nil && p.Description == nil {
			c.fail(f+"name", p.Name, "如果填写了“付费项目名称”，则amount或description必须填写其一 (an item with a name needs an amount or a description)")
		}
		if j, dup := seen[p.Name]; dup && p.Name != sharedPaymentName {
			c.fail(f+"name", p.Name, fmt.Sprintf("相同订单号下不能出现相同的付费项目名称 (post_payments[%d] has the same name; only %q may repeat)", j, sharedPaymentName))
		}
		seen[p.Name] = i
	}
}

// sharedPaymentName is the one post_payments name that may repeat in an order.
const sharedPaymentName = "商品信息"

// postDiscounts checks discounts; at complete and modify their amount is required.
func (c *check) postDiscounts(items []PostDiscount, max int, amountRequired bool) {
	if len(items) > max {
		c.fail("post_discounts", len(items), fmt.Sprintf("must have at most %d items", max))
	}
	seen := map[string]int{}
	for i, d := range items {
		f := fmt.Sprintf("post_discounts[%d].", i)
		c.str(f+"name", d.Name, 1, 20)
		if d.Description == nil {
			c.fail(f+"description", nil, "is required")
		} else {
			c.str(f+"description", *d.Description, 1, 30)
		}
		switch {
		case d.Amount != nil:
			c.amount(f+"amount", *d.Amount, 0)
		case amountRequired:
			c.fail(f+"amount", nil, "is required")
		}
		c.optRange(f+"count", d.Count, 1, 100)
		if j, dup := seen[d.Name]; dup {
			c.fail(f+"name", d.Name, fmt.Sprintf("must not repeat a discount's name (post_discounts[%d] has it)", j))
		}
		seen[d.Name] = i
	}
}

func (c *check) timeRemarks(tr *TimeRange) {
	c.optStr("time_range.start_time_remark", tr.StartTimeRemark, 20)
	c.optStr("time_range.end_time_remark", tr.EndTimeRemark, 20)
}

func (c *check) device(d *Device) {
	if d != nil {
		c.optStr("device.start_device_id", d.StartDeviceID, 32)
		c.optStr("device.end_device_id", d.EndDeviceID, 32)
		c.optStr("device.materiel_no", d.MaterielNo, 32)
	}
}

// validate applies the create rules that need nothing but the request and the time.
func (r *CreateOrderRequest) validate(now time.Time) (warning string, err *Error) {
	var c check
	c.outOrderNo(r.OutOrderNo)
	c.str("appid", r.AppID, 1, 32)
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("service_introduction", r.ServiceIntroduction, 1, 20)
	c.postPayments(r.PostPayments, 100)
	c.postDiscounts(r.PostDiscounts, 30, false)
	if r.TimeRange == nil {
		c.fail("time_range", nil, "is required")
	} else {
		c.createTimeRange(r.TimeRange, now)
	}
	if r.Location != nil {
		c.optStr("location.start_location", r.Location.StartLocation, 50)
		c.optStr("location.end_location", r.Location.EndLocation, 50)
	}
	if r.RiskFund == nil {
		c.fail("risk_fund", nil, "is required")
	} else {
		rf := r.RiskFund
		if !slices.Contains(riskFundNames, rf.Name) {
			c.fail("risk_fund.name", rf.Name, fmt.Sprintf("must be one of %v", riskFundNames))
		}
		c.amount("risk_fund.amount", rf.Amount, 1)
		c.optStr("risk_fund.description", rf.Description, 30)
	}
	c.optStr("attach", r.Attach, 256)
	warning = c.notifyURL("notify_url", r.NotifyURL, payScoreNotifyURLMax)
	c.str("openid", r.OpenID, 0, 128)
	if r.NeedUserConfirm != nil && !*r.NeedUserConfirm && r.OpenID == "" {
		c.fail("openid", "", "is required when need_user_confirm is false")
	}
	c.device(r.Device)
	return warning, c.err
}

// createTimeRange: start is a time, a day or OnAccept; the end, when given, lies after the start
// and more than a minute after the call.
func (c *check) createTimeRange(tr *TimeRange, now time.Time) {
	c.timeRemarks(tr)
	var startFirst time.Time
	switch tr.StartTime {
	case "":
		c.fail("time_range.start_time", "", "is required")
	case OnAccept:
	default:
		first, _, err := parseWeChatTime(tr.StartTime)
		if err != nil {
			c.fail("time_range.start_time", tr.StartTime, err.Error()+" (or OnAccept)")
		}
		startFirst = first
	}
	if tr.EndTime == "" || c.err != nil {
		return
	}
	_, endLast, err := parseWeChatTime(tr.EndTime)
	switch {
	case err != nil:
		c.fail("time_range.end_time", tr.EndTime, err.Error())
	case !startFirst.IsZero() && !endLast.After(startFirst):
		c.fail("time_range.end_time", tr.EndTime, fmt.Sprintf("must be later than start_time (%s)", tr.StartTime))
	case !endLast.After(now.Add(time.Minute)):
		c.fail("time_range.end_time", tr.EndTime,
			fmt.Sprintf("must be more than one minute after the call (now %s China Standard Time, UTC+8)", FormatCompact(now)))
	}
}

// validateQuery: exactly one of out_order_no and query_id, plus service_id and appid.
func (r *QueryRequest) validate() *Error {
	var c check
	switch {
	case r.OutOrderNo != "" && r.QueryID != "":
		c.err = ParamError("out_order_no", r.OutOrderNo, "and query_id must not both be given (不允许都填写)").
			With("location", "query")
	case r.OutOrderNo == "" && r.QueryID == "":
		c.err = ParamError("out_order_no", "", "or query_id is required (不允许都不填写)").
			With("location", "query")
	case r.OutOrderNo != "":
		c.outOrderNo(r.OutOrderNo)
	default:
		c.str("query_id", r.QueryID, 1, 512)
	}
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("appid", r.AppID, 1, 32)
	if c.err != nil {
		c.err.Detail["location"] = "query"
	}
	return c.err
}
