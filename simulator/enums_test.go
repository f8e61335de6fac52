package simulator_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// TestParseEnums checks that every member of each set parses as itself, and that anything else
// (a typo, another case, the empty string) is a PARAM_ERROR that names the field and lists the set.
func TestParseEnums(t *testing.T) {
	type parser struct {
		name    string
		members []string
		parse   func(string) (string, error)
	}
	parsers := []parser{
		{"state", names(simulator.OrderStates), func(s string) (string, error) {
			v, err := simulator.ParseOrderState("state", s)
			return string(v), err
		}},
		{"event_type", names(simulator.EventTypes), func(s string) (string, error) {
			v, err := simulator.ParseEventType("event_type", s)
			return string(v), err
		}},
		{"authorization_state", names(simulator.AuthorizationStates), func(s string) (string, error) {
			v, err := simulator.ParseAuthorizationState("authorization_state", s)
			return string(v), err
		}},
		{"status", names(simulator.RefundStatuses), func(s string) (string, error) {
			v, err := simulator.ParseRefundStatus("status", s)
			return string(v), err
		}},
		{"variant", names(simulator.LabVariants), func(s string) (string, error) {
			v, err := simulator.ParseLabVariant(s)
			return string(v), err
		}},
	}
	for _, p := range parsers {
		for _, m := range p.members {
			if got, err := p.parse(m); err != nil || got != m {
				t.Errorf("%s: parse(%q) = %q, %v", p.name, m, got, err)
			}
		}
		otherCase := strings.ToLower(p.members[0])
		if otherCase == p.members[0] {
			otherCase = strings.ToUpper(otherCase)
		}
		for _, bad := range []string{"", "x", otherCase, p.members[0] + " "} {
			_, err := p.parse(bad)
			var e *simulator.Error
			if !errors.As(err, &e) || e.Code != simulator.CodeParamError || e.Detail["field"] != p.name ||
				!strings.Contains(e.Detail["issue"].(string), strings.Join(p.members, ", ")) {
				t.Errorf("%s: parse(%q) = %v, want PARAM_ERROR on %s listing %v", p.name, bad, err, p.name, p.members)
			}
		}
	}
}

func TestLabVariantsDescribed(t *testing.T) {
	for _, v := range simulator.LabVariants {
		if v.Describe() == "" {
			t.Errorf("lab variant %s has no description", v)
		}
	}
}

func names[T ~string](set []T) []string {
	out := make([]string, len(set))
	for i, v := range set {
		out[i] = string(v)
	}
	return out
}
