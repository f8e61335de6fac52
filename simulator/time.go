package simulator

import (
	"fmt"
	"time"
)

// ChinaTime is China Standard Time (UTC+8). WeChat's yyyyMMddHHmmss and yyyyMMdd times are in
// it whatever the server's zone, and its RFC3339 times carry +08:00.
var ChinaTime = time.FixedZone("CST", 8*60*60)

const (
	compactSecond = "20060102150405"
	compactDay    = "20060102"
)

// OnAccept is the start_time meaning "when the user confirms".
const OnAccept = "OnAccept"

// parseWeChatTime reads a yyyyMMddHHmmss or yyyyMMdd time in China Standard Time. A day is
// returned as the span [first, last] second of that day so that comparisons with second-precise
// times give the lenient answer a day-granular order deserves.
func parseWeChatTime(s string) (first, last time.Time, err error) {
	switch len(s) {
	case len(compactSecond):
		t, err := time.ParseInLocation(compactSecond, s, ChinaTime)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("%q is not a valid yyyyMMddHHmmss time", s)
		}
		return t, t, nil
	case len(compactDay):
		t, err := time.ParseInLocation(compactDay, s, ChinaTime)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("%q is not a valid yyyyMMdd date", s)
		}
		return t, t.AddDate(0, 0, 1).Add(-time.Second), nil
	default:
		return time.Time{}, time.Time{}, fmt.Errorf("%q is neither yyyyMMddHHmmss nor yyyyMMdd", s)
	}
}

// FormatCompact formats t as yyyyMMddHHmmss in China Standard Time.
func FormatCompact(t time.Time) string { return t.In(ChinaTime).Format(compactSecond) }

// FormatRFC3339 formats t as WeChat's RFC3339 times are: in China Standard Time, +08:00.
func FormatRFC3339(t time.Time) string { return t.In(ChinaTime).Format(time.RFC3339) }
