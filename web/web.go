// Package web holds the templates and static assets of the simulator's pages (the Pay Score
// mini-program as the user sees it), embedded with go:embed so the binary serves them without
// files on disk. The http package renders Templates and serves Static under /static/.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Shims are the front-end shims, served by the http package under /shim/: shim/*.js (the H5
// and mini-program shims), by name, so that a new shim needs no change here.
//
//go:embed shim/*.js
var Shims embed.FS

// Static is the static assets (app.css), rooted so that "app.css" is served as /static/app.css.
var Static fs.FS = mustSub(staticFS, "static")

// Templates are the pages' templates: "visit.html" (the Pay Score mini-program page of a visit)
// and "error.html" (a rejection, with its diagnostic). Every value goes through html/template, so
// whatever a merchant put in an order is shown as text.
var Templates = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))

// funcs are the helpers the templates use to show WeChat's wire values to a person.
var funcs = template.FuncMap{
	"yuan":           yuan,
	"list":           func(s ...string) []string { return s },
	"deref":          deref,
	"wechatTime":     wechatTime,
	"riskFundName":   func(name string) string { return riskFundNames[name] },
	"stateName":      func(s any) string { return stateNames[fmt.Sprint(s)] },
	"paidTypeName":   func(s string) string { return paidTypeNames[s] },
	"collectionName": func(s any) string { return collectionNames[fmt.Sprint(s)] },
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// yuan formats an amount in fen (int64, *int64 or int) as yuan: 10000 → "¥100.00". A nil
// pointer is "".
func yuan(v any) string {
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

// wechatTime shows a yyyyMMddHHmmss or yyyyMMdd time (China Standard Time) as
// "2006-01-02 15:04:05" or "2006-01-02"; anything else (OnAccept is handled by the template)
// is shown as given.
func wechatTime(s string) string {
	if t, err := time.Parse("20060102150405", s); err == nil {
		return t.Format("2006-01-02 15:04:05")
	}
	if t, err := time.Parse("20060102", s); err == nil {
		return t.Format("2006-01-02")
	}
	return s
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
