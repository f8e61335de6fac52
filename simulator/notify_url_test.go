package simulator

import (
	"strings"
	"testing"
)

// TestNotifyURLRules: notify_url is refused as production refuses it, each time saying why,
// and http, loopback and compose service names are kept (with a warning for http).
func TestNotifyURLRules(t *testing.T) {
	for _, tc := range []struct {
		url, issue, warning string
	}{
		{"https://merchant.example.com/notify", "", ""},
		{"https://merchant.example.com:8443/pay score/notify", "spaces", ""},
		{"http://127.0.0.1:9000/notify", "", "is http"},
		{"http://receiver:8080/notify", "", "is http"},
		{"https://merchant.example.com:99999/notify", "port 99999", ""},
		{"https://merchant.example.com:0/notify", "port 0", ""},
		{"https://user:pass@merchant.example.com/notify", "user name or password", ""},
		{"https://merchant.example.com/notify\x00", "control characters", ""},
		{"https://merchant.example.com/notify\t", "spaces", ""},
		{"https://:443/notify", "with a host", ""},
		{"https://merchant.example.com/notify?a=1", "query parameters", ""},
		{"ftp://merchant.example.com/notify", "https", ""},
	} {
		var c check
		warning := c.notifyURL("notify_url", tc.url, payScoreNotifyURLMax)
		issue := ""
		if c.err != nil {
			issue, _ = c.err.Detail["issue"].(string)
		}
		if (tc.issue == "") != (issue == "") || !strings.Contains(issue, tc.issue) {
			t.Errorf("notify_url %q: issue %q, want one with %q", tc.url, issue, tc.issue)
		}
		if (tc.warning == "") != (warning == "") || !strings.Contains(warning, tc.warning) {
			t.Errorf("notify_url %q: warning %q, want one with %q", tc.url, warning, tc.warning)
		}
	}
}

// TestNotifyURLLengths: each API takes a notify_url as long as its page says, counted in
// characters: 255 for a Pay Score order, 256 for a refund (and at least 8).
func TestNotifyURLLengths(t *testing.T) {
	url := func(n int) string {
		const prefix = "https://merchant.example.com/"
		return prefix + strings.Repeat("n", n-len(prefix))
	}
	refund := func(notifyURL string) *Error {
		one := int64(1)
		r := CreateRefundRequest{TransactionID: "4200000000000000000000000000", OutRefundNo: "RF-1", NotifyURL: notifyURL,
			Amount: &RefundAmountReq{Refund: &one, Total: &one, Currency: "CNY"}}
		_, err := r.validate()
		return err
	}
	order := func(notifyURL string) *Error {
		var c check
		c.notifyURL("notify_url", notifyURL, payScoreNotifyURLMax)
		return c.err
	}
	for _, tc := range []struct {
		name  string
		check func(string) *Error
		n     int
		ok    bool
	}{
		{"refund", refund, 256, true},
		{"refund", refund, 257, false},
		{"order", order, 255, true},
		{"order", order, 256, false},
	} {
		err := tc.check(url(tc.n))
		if (err == nil) != tc.ok {
			t.Errorf("%s notify_url of %d characters: err %v, want ok %v", tc.name, tc.n, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Detail["issue"].(string), "at most") {
			t.Errorf("%s notify_url of %d characters: %v does not say the limit", tc.name, tc.n, err)
		}
	}
	if err := refund("http://a"); err != nil {
		t.Errorf("refund notify_url of 8 characters: %v", err)
	}
	if err := refund("http:/a"); err == nil || !strings.Contains(err.Detail["issue"].(string), "at least 8") {
		t.Errorf("refund notify_url of 7 characters: %v", err)
	}
}
