package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestNotifyScheduleFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--notify-schedule", "fast"},
		{"--notify-schedule", "apiv3"},
		{"--notify-schedule", "1s,5s,30s"},
	} {
		startServe(t, nil, append([]string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, args...)...)
	}
	startServe(t, map[string]string{"PAYSCORE_SIM_NOTIFY_SCHEDULE": "payscore"}, "--addr", "127.0.0.1:0", "--db", ":memory:")

	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{args: []string{"--notify-schedule", "sometimes"}},
		{args: []string{"--notify-schedule", "1s,,5s"}},
		{args: []string{"--notify-schedule", "-1s"}},
		{env: map[string]string{"PAYSCORE_SIM_NOTIFY_SCHEDULE": "hourly"}},
	} {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", ":memory:"}, tc.args...)
		err := run(context.Background(), args, io.Discard, func(k string) string { return tc.env[k] })
		if err == nil || !strings.Contains(err.Error(), "--notify-schedule") || !strings.Contains(err.Error(), "payscore, apiv3, fast or a list like 1s,5s,30s") {
			t.Errorf("serve %v (env %v) = %v, want an error naming the flag and the allowed forms", tc.args, tc.env, err)
		}
	}
}
