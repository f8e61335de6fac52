package scenario

import (
	"strconv"
	"strings"
	"unicode"
)

// Escape writes the control characters of s (ESC, CR, BEL, the C1 controls, ...) and the
// bidirectional overrides, which reorder what a terminal shows, as Go escapes (\x1b, \r,
// \u202e), and invalid UTF-8 as \ufffd: a terminal shows them and does not obey them.
func Escape(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			// strconv would keep it as it is; it stands for bytes that are not UTF-8.
			b.WriteString(`\ufffd`)
		case unsafeRune(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports a rune a terminal would act on rather than show. Tab is safe.
func unsafeRune(r rune) bool {
	return (unicode.IsControl(r) && r != '\t') || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar
}
