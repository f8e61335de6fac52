package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// This file is the one place that shows values to a person: money, times, durations and JSON,
// for the templates (through funcs) and for the http package's pages and dashboard.

// Yuan formats an amount in fen (int64, *int64 or int) as yuan: 10000 → "¥100.00". A nil
// pointer is "".
func Yuan(v any) string {
	var fen int64
	switch n := v.(type) {
	case int64:
		fen = n
	case *int64:
		if n == nil {
			return ""
		}
		fen = *n
	case int:
		fen = int64(n)
	default:
		return fmt.Sprint(v)
	}
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

// WeChatTime shows a yyyyMMddHHmmss or yyyyMMdd time (China Standard Time, as Pay Score writes
// them) as "2006-01-02 15:04:05" or "2006-01-02", and an RFC3339 one (as the refund API writes
// them) as Time does; anything else (such as OnAccept) is shown as given.
func WeChatTime(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return Time(t)
	}
	for _, layout := range []struct{ in, out string }{{"20060102150405", "2006-01-02 15:04:05"}, {"20060102", "2006-01-02"}} {
		if t, err := time.Parse(layout.in, s); err == nil {
			return t.Format(layout.out)
		}
	}
	return s
}

// Time shows a time in China Standard Time, as WeChat's times are; the zero time is "".
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(simulator.ChinaTime).Format("2006-01-02 15:04:05")
}

// Offset shows how far a clock is ahead of the real time: "+30d 1h", or "0" when it is not.
func Offset(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	var parts []string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.unit
		}
	}
	if len(parts) == 0 {
		return "+<1s"
	}
	return "+" + strings.Join(parts, " ")
}

// Latency shows a duration to the millisecond, or to the microsecond below one.
func Latency(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// IndentJSON is v as indented JSON, with <, > and & as they are (the templates escape them).
func IndentJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// PrettyJSON indents a JSON document for reading, its keys in their order and its numbers as
// written (a client's body is shown as it was sent); what is not JSON is shown as it is.
func PrettyJSON(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(raw), "", "  "); err != nil {
		return raw
	}
	return strings.TrimSpace(buf.String())
}

// deref returns what a *string or *int64 points at, or "" for nil.
func deref(v any) any {
	switch p := v.(type) {
	case *string:
		if p == nil {
			return ""
		}
		return *p
	case *int64:
		if p == nil {
			return ""
		}
		return *p
	}
	return v
}

var riskFundNames = map[string]string{
	"ESTIMATE_ORDER_COST": "预估订单费用 estimated order cost",
	"DEPOSIT":             "押金 deposit",
	"ADVANCE":             "预付款 advance payment",
	"CASH_DEPOSIT":        "保证金 cash deposit",
}

var stateNames = map[string]string{
	"CREATED":      "已创建，待确认 created, awaiting confirmation",
	"DOING":        "进行中 in progress",
	"DONE":         "已完成 done",
	"REVOKED":      "已取消 revoked",
	"EXPIRED":      "已失效 expired",
	"USER_CONFIRM": "用户已确认 user confirmed",
	"MCH_COMPLETE": "商户已完结 merchant completed",
}

var paidTypeNames = map[string]string{
	"NEWTON": "微信支付分扣款 deducted by Pay Score",
	"MCH":    "商户收款 collected by the merchant",
}

var collectionNames = map[string]string{
	"USER_PAYING": "待支付 awaiting payment",
	"USER_PAID":   "已支付 paid",
}
