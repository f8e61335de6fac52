package scenario

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestStepTable checks the table's rows against each other and against the documentation: a
// new row that forgets a part fails here, not in a QA engineer's file.
func TestStepTable(t *testing.T) {
	readme, err := os.ReadFile("../../fixtures/README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		if seen[k.name] {
			t.Errorf("%s has two rows", k.name)
		}
		seen[k.name] = true
		checkKind(t, k, readme)
	}
	if _, ok := lookupKind("no_such_step"); ok {
		t.Error("lookupKind found a step that is not in the table")
	}
}

// checkKind checks one row of the step table.
func checkKind(t *testing.T, k kind, readme []byte) {
	t.Helper()
	if !regexp.MustCompile(`^[a-z][a-z_]*$`).MatchString(k.name) {
		t.Errorf("%q is not a step name (lower case and _)", k.name)
	}
	if k.usage == "" || k.newAction == nil {
		t.Errorf("%s lacks a usage or an action", k.name)
		return
	}
	if !regexp.MustCompile("`" + k.name + "[`:]").Match(readme) {
		t.Errorf("fixtures/README.md does not document %s", k.name)
	}
	checkArgShape(t, k)
	if k.reads && !k.response {
		t.Errorf("%s only reads, so eventually may repeat it until its expectations hold, but it has no response", k.name)
	}
	// Every action's fields must accept the arguments a bare step gives (none), or refuse
	// them with an error, never panic.
	if act := k.newAction(); act == nil {
		t.Errorf("%s makes no action", k.name)
	} else {
		_ = act.set(args{})
	}
}

// checkArgShape checks that a row's argument shape is consistent: the field a single value
// fills, and the fields checked, are fields the step takes.
func checkArgShape(t *testing.T, k kind) {
	t.Helper()
	a := k.arg
	if a.mapping && a.scalar != "" && !contains(a.fields, a.scalar) {
		t.Errorf("%s: a single value fills %s, which is not one of its fields %v", k.name, a.scalar, a.fields)
	}
	if !a.mapping && (a.scalar == "" || len(a.fields) > 0 || a.body != nil) {
		t.Errorf("%s takes a single value: it needs a name for it and no fields", k.name)
	}
	for f := range a.checks {
		if !contains(a.fields, f) && f != a.scalar {
			t.Errorf("%s checks %s, which it does not take", k.name, f)
		}
	}
}

func TestActionsRefuseBadArgumentsWhenTheyRun(t *testing.T) {
	tests := []struct {
		kind string
		args args
		want string
	}{
		{"raw", args{"method": "GET"}, "raw needs a path"},
		{"receiver", args{"fail": "two"}, `receiver.fail must be a whole number, not "two"`},
		{"receiver", args{"fail": int64(-1)}, "receiver.fail must be a whole number"},
		{"receiver", args{"status": int64(99)}, "receiver.status must be an HTTP status"},
		{"advance_clock", args{"duration": "soon"}, `"soon" is not a duration`},
		{"sleep", args{"duration": "1x"}, "is not a duration"},
		{"expect_notification", args{"event_type": "USER_PAID", "within": "later"}, "is not a duration"},
		{"expect_no_notification", args{"event_type": "USER_PAID", "for": "ever"}, "is not a duration"},
	}
	for _, tt := range tests {
		k, _ := lookupKind(tt.kind)
		err := k.newAction().set(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: err = %v, want %q", tt.kind, tt.args, err, tt.want)
		}
	}
}

func TestRawFields(t *testing.T) {
	raw := &rawStep{}
	if err := raw.set(args{"path": "/v3/payscore/serviceorder", "body": map[string]any{"a": int64(1)}}); err != nil {
		t.Fatal(err)
	}
	// A body makes a POST, and a /v3 path is signed, unless the step says otherwise.
	if raw.method != "POST" || raw.sign != "valid" || string(raw.payload) != `{"a":1}` {
		t.Errorf("raw = %+v", raw)
	}
	if err := raw.set(args{"path": "/sim/v1/clock", "sign": "auto"}); err != nil || raw.method != "GET" || raw.sign != "none" {
		t.Errorf("raw = %+v, %v", raw, err)
	}
}

func TestOpenVisitFields(t *testing.T) {
	v := &openVisitStep{}
	if err := v.set(args{"businessType": "detail"}); err != nil {
		t.Fatal(err)
	}
	// The order-detail page requires a signed extraData, so it is signed by default.
	if v.bt != "wxpayScoreDetail" || v.sign != "apiv2" || v.form != "extraData" {
		t.Errorf("open_visit detail = %+v", v)
	}
}

func TestExpectNotificationFields(t *testing.T) {
	e := &expectNotificationStep{}
	if err := e.set(args{"event_type": "USER_PAID", "attempts": nil}); err != nil {
		t.Fatal(err)
	}
	if e.event != "PAYSCORE.USER_PAID" || e.within.Seconds() != 5 || !e.attemptsGiven {
		t.Errorf("expect_notification = %+v", e)
	}
	if !e.match(&note{EventType: "PAYSCORE.USER_PAID"}) || e.match(&note{EventType: "PAYSCORE.USER_CONFIRM"}) {
		t.Error("expect_notification matches the wrong events")
	}
	no := "A1"
	e.orderNo = &no
	if e.match(&note{EventType: "PAYSCORE.USER_PAID", Resource: map[string]any{"out_order_no": "A2"}}) {
		t.Error("expect_notification matches another order's notification")
	}
}

func TestBodies(t *testing.T) {
	defaults := map[string]any{
		"appid": "wx1", "reason": "default", "time_range": map[string]any{"start_time": "OnAccept", "end_time": "x"},
	}
	a := args{
		"reason":     nil,                                    // removes the default
		"time_range": map[string]any{"end_time": "20260101"}, // merges with it
		"extra":      map[string]any{"appid": nil, "bogus": int64(1)},
	}
	got := body(defaults, a)
	want := map[string]any{
		"appid":      nil, // extra is sent as it is, nulls included
		"bogus":      int64(1),
		"time_range": map[string]any{"start_time": "OnAccept", "end_time": "20260101"},
	}
	if !equal(want, got) {
		t.Errorf("body = %v, want %v", show(got), show(want))
	}
	if _, ok := defaults["bogus"]; ok || defaults["reason"] != "default" {
		t.Error("body changed the defaults")
	}
}

func TestWithTotal(t *testing.T) {
	tests := []struct {
		body  map[string]any
		given map[string]any
		want  any // total_amount, or nil for none set
	}{
		{map[string]any{"post_payments": []any{map[string]any{"amount": int64(300)}, map[string]any{"amount": int64(200)}},
			"post_discounts": []any{map[string]any{"amount": int64(100)}}}, nil, int64(400)},
		// Items without an amount count nothing.
		{map[string]any{"post_payments": []any{map[string]any{"name": "x"}}}, nil, int64(0)},
		// An amount that is not a number leaves the total to the step.
		{map[string]any{"post_payments": []any{map[string]any{"amount": "lots"}}}, nil, nil},
		// A total the step gives stays.
		{map[string]any{"post_payments": []any{map[string]any{"amount": int64(1)}}, "total_amount": int64(9)}, map[string]any{"total_amount": int64(9)}, int64(9)},
	}
	for _, tt := range tests {
		withTotal(tt.body, tt.given)
		if got := tt.body["total_amount"]; !equal(tt.want, got) {
			t.Errorf("total_amount = %v, want %v (body %s)", got, tt.want, show(tt.body))
		}
	}
	if items := defaultItems(map[string]any{"total_amount": int64(700)}); !equal(int64(700), items[0].(map[string]any)["amount"]) {
		t.Errorf("default items = %v", items)
	}
}
