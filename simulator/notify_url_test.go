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
		warning := c.notifyURL("notify_url", tc.url)
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
