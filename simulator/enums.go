package simulator

import (
	"slices"
	"strings"
)

// The simulator's closed sets of wire values, with the Parse functions that read them from a
// client, a file or a form. A Parse function refuses a value outside the set with a PARAM_ERROR
// that lists the set, so that a typo is an error rather than a filter that matches nothing or a
// branch that is never taken.

// OrderStates are the states of a Pay Score order, in their lifecycle's order.
var OrderStates = []OrderState{StateCreated, StateDoing, StateDone, StateRevoked, StateExpired}

// ParseOrderState reads an order's state (field names the field it came from).
func ParseOrderState(field, s string) (OrderState, error) {
	return parseEnum(field, s, OrderStates)
}

// EventTypes are the notifications the simulator sends: Pay Score's, then the refunds'.
var EventTypes = []EventType{EventUserConfirm, EventUserPaid, EventUserOpenService, EventUserCloseService,
	EventRefundSuccess, EventRefundAbnormal, EventRefundClosed}

// ParseEventType reads a notification's event_type.
func ParseEventType(field, s string) (EventType, error) {
	return parseEnum(field, s, EventTypes)
}

// AuthorizationStates are the states of a permission (an authorization of the user).
var AuthorizationStates = []AuthorizationState{AuthorizationUnbindUser, AuthorizationAvailable, AuthorizationUnavailable}

// ParseAuthorizationState reads a permission's authorization_state.
func ParseAuthorizationState(field, s string) (AuthorizationState, error) {
	return parseEnum(field, s, AuthorizationStates)
}

// LabVariant is a fault the notification lab delivers on purpose, to test a merchant's verifier.
type LabVariant string

// Lab variants.
const (
	LabBadSignature   LabVariant = "bad_signature"
	LabSignTest       LabVariant = "signtest"
	LabStaleTimestamp LabVariant = "stale_timestamp"
	LabUnknownSerial  LabVariant = "unknown_serial"
	LabDuplicate      LabVariant = "duplicate"
)

// LabVariants lists the lab variants in the order the documentation of the lab gives them.
var LabVariants = []LabVariant{LabBadSignature, LabSignTest, LabStaleTimestamp, LabUnknownSerial, LabDuplicate}

// ParseLabVariant reads the variant a lab delivery asks for.
func ParseLabVariant(s string) (LabVariant, error) {
	return parseEnum("variant", s, LabVariants)
}

// Describe says what the variant sends.
func (v LabVariant) Describe() string {
	switch v {
	case LabBadSignature:
		return "a signature of other bytes than the body"
	case LabSignTest:
		return "WeChat's WECHATPAY/SIGNTEST/ probe signature"
	case LabStaleTimestamp:
		return "Wechatpay-Timestamp 10 minutes old, correctly signed"
	case LabUnknownSerial:
		return "a Wechatpay-Serial the merchant cannot know"
	case LabDuplicate:
		return "the same notification, delivered correctly again"
	}
	return ""
}

// parseEnum returns s as a member of set, or a PARAM_ERROR on field that lists the set.
func parseEnum[T ~string](field, s string, set []T) (T, error) {
	if slices.Contains(set, T(s)) {
		return T(s), nil
	}
	names := make([]string, len(set))
	for i, v := range set {
		names[i] = string(v)
	}
	return "", ParamError(field, s, "must be one of "+strings.Join(names, ", "))
}
