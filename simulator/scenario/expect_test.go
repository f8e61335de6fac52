package scenario

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// expectStep parses a scenario whose one step (a query) has expect, and returns the step.
func expectStep(t *testing.T, expect string) *Step {
	t.Helper()
	f, err := Parse("e.yaml", []byte("scenarios:\n  - name: x\n    steps:\n      - query:\n        expect: "+expect+"\n"))
	if err != nil {
		t.Fatalf("expect %s: %v", expect, err)
	}
	return f.Scenarios[0].Steps[0]
}

func TestExpectations(t *testing.T) {
	body := `{"state":"DOING","amount":200,"message":"订单已完成 (done)","items":[{"name":"a","amount":1},{"name":"b","amount":2}],` +
		`"detail":{"issue":"x","field":"appid"},"empty":"","list":["x","y"]}`
	resp := newResponse(http.StatusOK, http.Header{"Wechatpay-Serial": {"ABC"}}, []byte(body))
	tests := []struct {
		expect string
		// what, when not "", is the mismatch's What; "" means the expectation holds.
		what, expected string
	}{
		{expect: "{state: DOING, amount: 200}"},
		{expect: "{state: DONE}", what: "state", expected: `"DONE"`},
		{expect: "{amount: 200.0}"},
		{expect: `{amount: "200"}`, what: "amount", expected: `"200"`},
		{expect: "{state: {not: DONE}}"},
		{expect: "{state: {not: DOING}}", what: "state", expected: `not "DOING"`},
		{expect: "{message: {contains: 已完成}}"},
		{expect: "{message_contains: done}"},
		{expect: "{list: {contains: y}}"},
		{expect: "{detail: {contains: issue}}"},
		{expect: "{list: {contains: z}}", what: "list", expected: `something containing "z"`},
		{expect: "{state: {regexp: '^DO'}}"},
		{expect: "{amount: {regexp: '^2'}}"},
		{expect: "{state: {regexp: '^X'}}", what: "state", expected: "a match of /^X/"},
		{expect: "{absent: [refund, detail.nope]}"},
		{expect: "{absent: [detail.issue]}", what: "detail.issue", expected: "(absent)"},
		{expect: "{empty: {present: true}}"},
		{expect: "{nope: {present: true}}", what: "nope", expected: "present"},
		{expect: "{state: {one_of: [CREATED, DOING]}}"},
		{expect: "{state: {one_of: [CREATED]}}", what: "state", expected: `one of ["CREATED"]`},
		// len counts characters, not bytes.
		{expect: "{items: {len: 2}, message: {len: 12}}"},
		{expect: "{items: {len: 3}}", what: "items", expected: "length 3"},
		{expect: "{detail: {issue: x}}"},
		{expect: "{detail: {issue: y}}", what: "detail.issue", expected: `"y"`},
		{expect: "{body: {detail.field: appid, items.1.name: b}}"},
		{expect: "{items: [{name: a}, {name: b, amount: 2}]}"},
		{expect: "{items: [{name: a}, {name: c}]}", what: "items[1].name", expected: `"c"`},
		{expect: "{list: [x]}", what: "list", expected: `["x"]`},
		{expect: "{items: [{name: a}]}", what: "items", expected: "a list of 1"},
		{expect: "{state: {not: DONE, regexp: 'ING$'}}"},
		{expect: "{state: {not: CREATED, one_of: [CREATED]}}", what: "state", expected: `one of ["CREATED"]`},
		{expect: "{headers: {Wechatpay-Serial: ABC}}"},
		{expect: "{headers: {wechatpay-serial: {regexp: '^X'}}}", what: "header Wechatpay-Serial", expected: "a match of /^X/"},
		{expect: "{headers: {Wechatpay-Nonce: {absent: true}}}"},
		{expect: "{status: 200}"},
		{expect: "{status: 201}", what: "status", expected: "201"},
		{expect: "{code: PARAM_ERROR}", what: "status", expected: "an error (4xx or 5xx)"},
	}
	for _, tt := range tests {
		st := expectStep(t, tt.expect)
		mm, err := checkResponse(context.Background(), testEnv(map[string]any{}), st, resp)
		if err != nil {
			t.Errorf("%s: %v", tt.expect, err)
			continue
		}
		switch {
		case tt.what == "" && mm != nil:
			t.Errorf("%s: mismatch %+v", tt.expect, mm)
		case tt.what != "" && mm == nil:
			t.Errorf("%s: held, want a mismatch of %s", tt.expect, tt.what)
		case tt.what != "" && (mm.What != tt.what || mm.Expected != tt.expected):
			t.Errorf("%s: mismatch %s expected %s, want %s expected %s", tt.expect, mm.What, mm.Expected, tt.what, tt.expected)
		}
	}
}

func TestExpectationMismatchesPointAtTheirLine(t *testing.T) {
	f, err := Parse("e.yaml", []byte("scenarios:\n  - name: x\n    steps:\n      - query:\n        expect:\n          state: DOING\n          amount: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := f.Scenarios[0].Steps[0]
	resp := newResponse(http.StatusOK, nil, []byte(`{"state":"DOING","amount":2}`))
	mm, err := checkResponse(context.Background(), testEnv(nil), st, resp)
	if err != nil || mm == nil {
		t.Fatalf("mm = %v, err = %v", mm, err)
	}
	if mm.Pos.Line != 7 || mm.Pos.Col != 19 || mm.Actual != "2" {
		t.Errorf("mismatch = %+v, want line 7 column 19, actual 2", mm)
	}
}

func TestStatusExpectations(t *testing.T) {
	plain := &Step{Pos: Pos{Line: 3}}
	tests := []struct {
		st     *Step
		status int
		want   string // the expected of the mismatch, or "" for none
	}{
		{plain, 200, ""},
		{plain, 204, ""},
		{plain, 400, "a success (2xx)"},
		{plain, 0, ""}, // a notification has no status
		{expectStep(t, "{status: 404}"), 404, ""},
		{expectStep(t, "{status: 404}"), 200, "404"},
		{expectStep(t, "{code: ORDER_NOT_EXIST}"), 404, ""},
		{expectStep(t, "{code: ORDER_NOT_EXIST}"), 500, ""},
		{expectStep(t, "{code: ORDER_NOT_EXIST}"), 200, "an error (4xx or 5xx)"},
		// A status beside a code is the status expected.
		{expectStep(t, "{status: 403, code: NO_AUTH}"), 400, "403"},
	}
	for _, tt := range tests {
		mm := checkStatus(tt.st, newResponse(tt.status, nil, []byte(`{"code":"X","message":"m"}`)))
		got := ""
		if mm != nil {
			got = mm.Expected
		}
		if got != tt.want {
			t.Errorf("status %d against %+v: expected %q, want %q", tt.status, tt.st.Expect, got, tt.want)
		}
	}
}

func TestExpectedValuesExpandWhenChecked(t *testing.T) {
	st := expectStep(t, `{out_order_no: "${openid}", time: {regexp: "^2026"}}`)
	resp := newResponse(http.StatusOK, nil, []byte(`{"out_order_no":"A-1","time":"20260102"}`))
	if mm, err := checkResponse(context.Background(), testEnv(map[string]any{"openid": "A-1"}), st, resp); mm != nil || err != nil {
		t.Errorf("mm = %+v, err = %v", mm, err)
	}
	if _, err := checkResponse(context.Background(), testEnv(map[string]any{}), st, resp); err == nil || !strings.Contains(err.Error(), "${openid} has no value yet: authorize or seed_permission sets it") {
		t.Errorf("an unset name: err = %v", err)
	}
}

func TestExpectParseErrors(t *testing.T) {
	tests := []struct{ expect, want string }{
		{"{status: 99}", "status must be an HTTP status"},
		{"{status: ok}", "status must be an HTTP status"},
		{"{contains: x}", "contains is a matcher: put it under the field it checks"},
		{"{state: {contains: x, name: y}}", "this mapping mixes matchers"},
		{"{state: {absent: false}}", "absent takes true"},
		{"{state: {len: -1}}", "len takes a whole number"},
		{"{state: {one_of: x}}", "one_of must be a list"},
		{"{absent: state}", "expect.absent must be a list"},
		{"{headers: [x]}", "expect.headers must be a mapping"},
		{"[state]", "expect must be a mapping"},
	}
	for _, tt := range tests {
		_, err := Parse("e.yaml", []byte("scenarios:\n  - name: x\n    steps:\n      - query:\n        expect: "+tt.expect+"\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("expect: %s: err = %v, want %q", tt.expect, err, tt.want)
		}
	}
}
