package web

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	neg := int64(-5)
	var nilFen *int64
	tests := []struct{ name, got, want string }{
		{"yuan", Yuan(int64(10000)), "¥100.00"},
		{"yuan of fen", Yuan(7), "¥0.07"},
		{"yuan negative", Yuan(&neg), "-¥0.05"},
		{"yuan nil", Yuan(nilFen), ""},
		{"wechat time", WeChatTime("20261206153000"), "2026-12-06 15:30:00"},
		{"wechat date", WeChatTime("20261206"), "2026-12-06"},
		{"wechat other", WeChatTime("OnAccept"), "OnAccept"},
		{"rfc3339", WeChatTime("2026-12-06T02:00:00Z"), "2026-12-06 10:00:00"},
		{"time in China", Time(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)), "2026-12-06 10:00:00"},
		{"zero time", Time(time.Time{}), ""},
		{"offset none", Offset(0), "0"},
		{"offset", Offset(30*24*time.Hour + time.Hour), "+30d 1h"},
		{"offset tiny", Offset(time.Millisecond), "+<1s"},
		{"latency ms", Latency(1234567 * time.Nanosecond), "1ms"},
		{"latency µs", Latency(1234 * time.Nanosecond), "1µs"},
		{"json", PrettyJSON(`{"a":"<b>"}`), "{\n  \"a\": \"<b>\"\n}"},
		{"not json", PrettyJSON("a=b"), "a=b"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
