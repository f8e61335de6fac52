package simulator

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// check validates request fields in order and keeps the first failure, so rules read as a list.
type check struct{ err *Error }

func (c *check) fail(field string, value any, issue string) {
	if c.err == nil {
		c.err = ParamError(field, value, issue)
	}
}

// str checks v's length in characters: WeChat's string(N) counts characters, not bytes, so a
// 20-character Chinese service_introduction is allowed. min 1 means required.
func (c *check) str(field, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		c.fail(field, v, "is required")
	case n < min:
		c.fail(field, v, fmt.Sprintf("must have at least %d characters, has %d", min, n))
	case n > max:
		c.fail(field, v, fmt.Sprintf("must have at most %d characters, has %d", max, n))
	}
}

// optStr checks an optional string that may be absent (nil) or present and empty.
func (c *check) optStr(field string, v *string, max int) {
	if v != nil {
		c.str(field, *v, 0, max)
	}
}

func (c *check) match(field, v string, re *regexp.Regexp, rule string) {
	if v != "" && !re.MatchString(v) {
		c.fail(field, v, "must consist of "+rule)
	}
}

// maxAmount bounds any amount, in fen, far above anything real, so that the sums of up to 100
// items can never overflow.
const maxAmount = 1_000_000_000_000_000

func (c *check) amount(field string, v int64, min int64) {
	switch {
	case v < min:
		c.fail(field, v, fmt.Sprintf("must be at least %d (fen)", min))
	case v > maxAmount:
		c.fail(field, v, fmt.Sprintf("must be at most %d (fen)", int64(maxAmount)))
	}
}

func (c *check) optRange(field string, v *int64, min, max int64) {
	if v != nil && (*v < min || *v > max) {
		c.fail(field, *v, fmt.Sprintf("must be between %d and %d", min, max))
	}
}

// The longest notify_url each API takes: string(255) on the Pay Score pages (service orders;
// the permission pages give no length, and are taken to be the same), string(256) on the
// refund pages ([8,256], refund-reference.md §1.1).
const (
	payScoreNotifyURLMax = 255
	refundNotifyURLMax   = 256
)

// notifyURL applies production's rules (an absolute https URL of a host, no query, at most max
// characters) but lets http through: local receivers and compose service names have no
// certificate. It returns a warning for http. Link-local and cloud metadata addresses are
// refused when a notification is sent, where the host's address is known (see
// notify.Worker.AllowLinkLocal).
func (c *check) notifyURL(field, v string, max int) (warning string) {
	c.str(field, v, 1, max)
	if c.err != nil {
		return ""
	}
	if issue := notifyURLIssue(v); issue != "" {
		c.fail(field, v, issue)
		return ""
	}
	if strings.HasPrefix(v, "http:") {
		return fmt.Sprintf("notify_url %s is http: production requires https", v)
	}
	return ""
}

// notifyURLIssue says what is wrong with a notify_url, or "" when nothing is.
func notifyURLIssue(v string) string {
	if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Sprintf("must not contain spaces or control characters (one is at byte %d); percent-encode them", i)
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return "must be an absolute https URL with a host"
	case u.Scheme != "https" && u.Scheme != "http":
		return "must use https (the simulator also accepts http)"
	case u.User != nil:
		return "must not carry a user name or password (user:pass@): WeChat sends no credentials"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not carry query parameters"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("has port %s: a port is from 1 to 65535", p)
		}
	}
	return ""
}

var outOrderNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*]+$`)

const outOrderNoRule = "digits, letters and _-|*"

// outOrderNo checks an out_order_no wherever it appears (body or path).
func (c *check) outOrderNo(v string) {
	c.str("out_order_no", v, 1, 32)
	c.match("out_order_no", v, outOrderNoPattern, outOrderNoRule)
}
