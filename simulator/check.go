package simulator

import (
	"fmt"
	"net/url"
	"regexp"
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

// notifyURL applies the documented rules (absolute, no query) but lets http through: local
// receivers and compose service names have no certificate. It returns a warning for http.
func (c *check) notifyURL(field, v string) (warning string) {
	c.str(field, v, 1, 255)
	if c.err != nil {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "":
		c.fail(field, v, "must be an absolute https URL")
	case u.Scheme != "https" && u.Scheme != "http":
		c.fail(field, v, "must use https (the simulator also accepts http)")
	case u.RawQuery != "" || u.ForceQuery:
		c.fail(field, v, "must not carry query parameters")
	case u.Scheme == "http":
		return fmt.Sprintf("notify_url %s is http: production requires https", v)
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
