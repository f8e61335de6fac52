package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Failure on demand: a test sets a fault rule, and the merchant's next matching API requests
// fail as production sometimes does (a 500, a 429, a late answer, a dropped connection), so
// that the merchant's retry code can be tested. This file holds the rules' vocabulary and
// validation; fault_registry.go holds the rules in force.

// FaultOperation is an API operation a fault rule matches. The permission and refund
// operations are named as the scenario steps that call them.
type FaultOperation string

// The operations a fault rule can match; FaultAny matches every one.
const (
	FaultCreate              FaultOperation = "create"
	FaultQuery               FaultOperation = "query"
	FaultCancel              FaultOperation = "cancel"
	FaultModify              FaultOperation = "modify"
	FaultComplete            FaultOperation = "complete"
	FaultPay                 FaultOperation = "pay"
	FaultSync                FaultOperation = "sync"
	FaultDirectComplete      FaultOperation = "direct_complete"
	FaultApplyPermissions    FaultOperation = "apply_permissions"
	FaultQueryPermission     FaultOperation = "query_permission"
	FaultTerminatePermission FaultOperation = "terminate_permission"
	FaultRefund              FaultOperation = "refund"
	FaultQueryRefund         FaultOperation = "query_refund"
	FaultApplyAbnormalRefund FaultOperation = "apply_abnormal_refund"
	FaultCertificates        FaultOperation = "certificates"
	FaultAny                 FaultOperation = "any"
)

// FaultOperations are the operations a rule can match, in the order messages and screens list
// them.
var FaultOperations = []FaultOperation{
	FaultCreate, FaultQuery, FaultCancel, FaultModify, FaultComplete, FaultPay, FaultSync,
	FaultDirectComplete, FaultApplyPermissions, FaultQueryPermission, FaultTerminatePermission,
	FaultRefund, FaultQueryRefund, FaultApplyAbnormalRefund, FaultCertificates, FaultAny,
}

// hasOrderNo reports whether requests of op name an out_order_no, so that a rule may be
// narrowed to one order. Refunds name the deduction's out_trade_no, not the order.
func (op FaultOperation) hasOrderNo() bool {
	switch op {
	case FaultApplyPermissions, FaultQueryPermission, FaultTerminatePermission,
		FaultRefund, FaultQueryRefund, FaultApplyAbnormalRefund, FaultCertificates:
		return false
	}
	return true
}

// FaultKind is what an injected fault does to the answer.
type FaultKind string

const (
	// FaultSystemError answers 500 SYSTEM_ERROR and does nothing.
	FaultSystemError FaultKind = "system_error"
	// FaultSystemErrorAfterCommit does the work, commits it, then answers 500 SYSTEM_ERROR:
	// production's "retry later with the same parameters" (§2.11), where the retry finds the
	// work done.
	FaultSystemErrorAfterCommit FaultKind = "system_error_after_commit"
	// FaultRateLimited answers 429 FREQUENCY_LIMITED and does nothing. Pay Score's own error
	// table names the code FREQUENCY_LIMITED; the generic APIv3 table says RATELIMIT_EXCEEDED,
	// but a Pay Score merchant meets Pay Score's (payscore-reference.md §2.11, from the official
	// service-order error table). The message is the refund API's, "频率限制".
	FaultRateLimited FaultKind = "rate_limited"
	// FaultDelay does the work and answers it after the rule's Delay.
	FaultDelay FaultKind = "delay"
	// FaultReset closes the connection without an answer: after the work is committed, or
	// before any work when the rule says BeforeCommit.
	FaultReset FaultKind = "reset"
	// FaultRefundAbnormal leaves the refund request's answer alone (the refund is made,
	// PROCESSING) and ends the refund ABNORMAL when its outcome is due, with REFUND.ABNORMAL:
	// the refund a merchant then sends to a bank card with apply-abnormal-refund.
	FaultRefundAbnormal FaultKind = "refund_abnormal"
	// FaultRefundClosed is FaultRefundAbnormal ending the refund CLOSED, with REFUND.CLOSED.
	FaultRefundClosed FaultKind = "refund_closed"
)

// FaultKinds are the faults a rule can inject.
var FaultKinds = []FaultKind{
	FaultSystemError, FaultSystemErrorAfterCommit, FaultRateLimited, FaultDelay, FaultReset,
	FaultRefundAbnormal, FaultRefundClosed,
}

// RefundOutcome is how a refund made while the fault is in force ends, for the faults that
// decide a refund's outcome rather than the answer to a request; "" for the others.
func (k FaultKind) RefundOutcome() RefundStatus {
	switch k {
	case FaultRefundAbnormal:
		return RefundAbnormal
	case FaultRefundClosed:
		return RefundClosed
	}
	return ""
}

// Describe says what the fault does to the merchant.
func (k FaultKind) Describe() string {
	switch k {
	case FaultSystemError:
		return "500 SYSTEM_ERROR, nothing done"
	case FaultSystemErrorAfterCommit:
		return "done and committed, then 500 SYSTEM_ERROR"
	case FaultRateLimited:
		return "429 FREQUENCY_LIMITED, nothing done"
	case FaultDelay:
		return "done, answered after the delay"
	case FaultReset:
		return "connection reset without an answer, after commit (or before, with before_commit)"
	case FaultRefundAbnormal:
		return "refund made (PROCESSING), then ends ABNORMAL instead of SUCCESS (operation refund only)"
	case FaultRefundClosed:
		return "refund made (PROCESSING), then ends CLOSED instead of SUCCESS (operation refund only)"
	}
	return ""
}

// MaxFaultDelay bounds a delay fault: longer than any client's timeout, short enough that a
// forgotten rule does not hold a connection for long.
const MaxFaultDelay = 5 * time.Minute

// maxFaultTimes bounds how often one rule fires.
const maxFaultTimes = 1000

// FaultRequest is a fault rule as a test asks for it.
type FaultRequest struct {
	MchID     string `json:"mchid"`
	Operation string `json:"operation"`
	Fault     string `json:"fault"`
	// Times is how many requests the rule fails; nil means 1.
	Times *int `json:"times"`
	// Delay is a Go duration such as "3s", for the delay fault only.
	Delay string `json:"delay"`
	// OutOrderNo narrows the rule to requests naming this order, or for refund_abnormal and
	// refund_closed to refunds of this order's deductions.
	OutOrderNo string `json:"out_order_no"`
	// BeforeCommit makes a reset drop the connection before doing any work.
	BeforeCommit bool `json:"before_commit"`
}

// FaultRule is a fault rule in force: it fails the merchant's next Remaining requests of
// Operation (of OutOrderNo only, when set).
type FaultRule struct {
	ID           string         `json:"id"`
	MchID        string         `json:"mchid"`
	Operation    FaultOperation `json:"operation"`
	Fault        FaultKind      `json:"fault"`
	Times        int            `json:"times"`
	Remaining    int            `json:"remaining"`
	Delay        string         `json:"delay,omitempty"`
	OutOrderNo   string         `json:"out_order_no,omitempty"`
	BeforeCommit bool           `json:"before_commit,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`

	delay time.Duration
}

// DelayDuration is how late a delay fault answers.
func (r *FaultRule) DelayDuration() time.Duration { return r.delay }

// AfterWork reports whether the request's work is done before the fault acts on its answer;
// otherwise the fault answers in the work's place and nothing is done.
func (r *FaultRule) AfterWork() bool {
	switch r.Fault {
	case FaultSystemErrorAfterCommit, FaultDelay:
		return true
	case FaultReset:
		return !r.BeforeCommit
	}
	return false
}

// Error is the rejection the fault answers with, for the faults that answer one: the code and
// message production sends, and a detail that says the simulator injected it.
func (r *FaultRule) Error() *Error {
	var e *Error
	switch r.Fault {
	case FaultSystemError, FaultSystemErrorAfterCommit:
		e = Errorf(CodeSystemError, "系统错误")
	case FaultRateLimited:
		e = Errorf(CodeFrequencyLimited, "频率限制")
	default:
		return nil
	}
	return e.With("issue", fmt.Sprintf("injected by fault rule %s (%s on %s), not a simulator bug", r.ID, r.Fault, r.Operation)).
		With("fault_rule", r.ID)
}

// InjectedFault marks a request record whose answer a fault rule made.
type InjectedFault struct {
	RuleID string    `json:"rule_id"`
	Fault  FaultKind `json:"fault"`
}

// Injected is the mark the rule leaves on the request log.
func (r *FaultRule) Injected() *InjectedFault {
	return &InjectedFault{RuleID: r.ID, Fault: r.Fault}
}

// NewFaultRule checks req against the merchants and returns the rule it asks for, or a
// PARAM_ERROR naming the field that is wrong.
func NewFaultRule(ms *Merchants, req FaultRequest, now time.Time) (*FaultRule, error) {
	if req.MchID == "" {
		return nil, ParamError("mchid", req.MchID, "is required: the merchant whose requests fail")
	}
	if ms.Merchant(req.MchID) == nil {
		return nil, ParamError("mchid", req.MchID, "is not a merchant of this simulator")
	}
	op, err := parseEnum("operation", req.Operation, FaultOperations)
	if err != nil {
		return nil, err
	}
	kind, err := parseEnum("fault", req.Fault, FaultKinds)
	if err != nil {
		return nil, err
	}
	r := &FaultRule{
		ID: newFaultRuleID(), MchID: req.MchID, Operation: op, Fault: kind, Times: 1,
		OutOrderNo: req.OutOrderNo, BeforeCommit: req.BeforeCommit, CreatedAt: now,
	}
	if req.Times != nil {
		if *req.Times < 1 || *req.Times > maxFaultTimes {
			return nil, ParamError("times", *req.Times, fmt.Sprintf("must be from 1 to %d (how many requests fail; default 1)", maxFaultTimes))
		}
		r.Times = *req.Times
	}
	r.Remaining = r.Times
	if err := r.checkOptions(req); err != nil {
		return nil, err
	}
	return r, nil
}

// checkOptions checks the fields that only some operations and faults take.
func (r *FaultRule) checkOptions(req FaultRequest) error {
	if r.Fault.RefundOutcome() != "" && r.Operation != FaultRefund {
		// Not any either: the rule fires when the merchant makes a refund, whatever else it
		// asks in between, so "any" would only hide that.
		return ParamError("operation", r.Operation, fmt.Sprintf("must be refund for the %s fault: it decides how the merchant's next refunds end", r.Fault))
	}
	// A refund names no order, but the deduction it refunds belongs to one: a rule deciding
	// refunds' outcomes may be narrowed to the refunds of one Pay Score order.
	if r.OutOrderNo != "" && !r.Operation.hasOrderNo() && r.Fault.RefundOutcome() == "" {
		return ParamError("out_order_no", r.OutOrderNo, fmt.Sprintf("cannot narrow %s: its requests name no out_order_no (refund_abnormal and refund_closed can: the refunds of that order's deductions)", r.Operation))
	}
	if r.BeforeCommit && r.Fault != FaultReset {
		return ParamError("before_commit", true, "applies to the reset fault only (system_error is the 500 before any work)")
	}
	if r.Fault != FaultDelay {
		if req.Delay != "" {
			return ParamError("delay", req.Delay, "applies to the delay fault only")
		}
		return nil
	}
	d, err := time.ParseDuration(req.Delay)
	if err != nil || d <= 0 || d > MaxFaultDelay {
		return ParamError("delay", req.Delay, fmt.Sprintf(`is required by the delay fault: a Go duration such as "3s", above 0 and at most %s`, MaxFaultDelay))
	}
	r.delay, r.Delay = d, d.String()
	return nil
}

// newFaultRuleID returns a random ID: the request log keeps rule IDs past a restart, when an
// in-process counter would start again.
func newFaultRuleID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	return "fault_" + hex.EncodeToString(b)
}

// AddFault puts the rule req asks for in force and returns it.
func (s *Service) AddFault(req FaultRequest) (*FaultRule, error) {
	r, err := NewFaultRule(s.Merchants, req, s.Clocks.Now(req.MchID))
	if err != nil {
		return nil, err
	}
	view := *r // Take changes the rule in force
	s.Faults.Add(r)
	return &view, nil
}

// DeleteFault removes the rule with id, or answers NOT_FOUND when no such rule is in force.
func (s *Service) DeleteFault(id string) (FaultRule, error) {
	r, ok := s.Faults.Delete(id)
	if !ok {
		return FaultRule{}, Errorf(CodeNotFound, "故障规则不存在").With("field", "id").With("value", id).
			With("issue", "no fault rule "+id+" is in force: it may have fired all its times, been deleted, or gone with a reset")
	}
	return r, nil
}
