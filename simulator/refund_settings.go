package simulator

import (
	"fmt"
	"time"
)

// Error codes of the refund API, as wechatpay-go's refunddomestic documents them.
const (
	// CodeResourceNotExists: the refund API's "not found", for an unknown or unpaid
	// transaction ("订单不存在") and an unknown refund ("退款单不存在").
	CodeResourceNotExists = "RESOURCE_NOT_EXISTS"
	// CodeFrequencyLimited: refunds of one transaction less than a minute apart.
	CodeFrequencyLimited = "FREQUENCY_LIMITED"
)

// RefundSettings are a merchant's refund settings; MerchantSettings embeds them.
type RefundSettings struct {
	// RefundDelay is how long a refund stays PROCESSING before its outcome; zero means
	// DefaultRefundDelay. Production's refunds to the user's balance take up to 5 minutes.
	RefundDelay Delay `json:"refund_delay,omitempty" yaml:"refund_delay"`
	// RefundOutcome is how this merchant's refunds end unless a test decides one of them
	// through the control API; empty means SUCCESS.
	RefundOutcome RefundOutcome `json:"refund_outcome,omitempty" yaml:"refund_outcome"`
	// RefundNotifyURL stands for the refund notification URL configured on the merchant
	// platform (退款配置): refund notifications go there when the request gives no notify_url.
	RefundNotifyURL string `json:"refund_notify_url,omitempty" yaml:"refund_notify_url"`
}

func (s RefundSettings) refundDelay() time.Duration {
	if s.RefundDelay == 0 {
		return DefaultRefundDelay
	}
	return time.Duration(s.RefundDelay)
}

func (s RefundSettings) refundOutcome() RefundStatus {
	if s.RefundOutcome == "" {
		return RefundSuccess
	}
	return RefundStatus(s.RefundOutcome)
}

// Delay is a duration written the way Go writes one ("1s", "5m") in JSON and YAML.
type Delay time.Duration

// MarshalText writes d as Go writes a duration.
func (d Delay) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration that is not negative.
func (d *Delay) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v < 0 {
		return fmt.Errorf("delay %q must be a duration such as 500ms, 2s or 5m, not negative", b)
	}
	*d = Delay(v)
	return nil
}

// RefundStatuses are a refund's statuses, in the order a refund can reach them.
var RefundStatuses = []RefundStatus{RefundProcessing, RefundSuccess, RefundAbnormal, RefundClosed}

// ParseRefundStatus reads a refund status given by a client (field names where).
func ParseRefundStatus(field, s string) (RefundStatus, error) {
	return parseEnum(field, s, RefundStatuses)
}

// RefundOutcome is how a refund ends: SUCCESS, ABNORMAL or CLOSED.
type RefundOutcome RefundStatus

// ParseRefundOutcome checks an outcome given by a client; "" is SUCCESS.
func ParseRefundOutcome(s string) (RefundStatus, error) {
	switch st := RefundStatus(s); st {
	case "":
		return RefundSuccess, nil
	case RefundSuccess, RefundAbnormal, RefundClosed:
		return st, nil
	}
	return "", ParamError("status", s, "must be SUCCESS, ABNORMAL or CLOSED")
}

// UnmarshalText refuses an unknown outcome wherever one is read (config and scenario files),
// rather than letting it behave as another.
func (o *RefundOutcome) UnmarshalText(b []byte) error {
	if _, err := ParseRefundOutcome(string(b)); err != nil {
		return fmt.Errorf("refund outcome %q must be SUCCESS, ABNORMAL or CLOSED", b)
	}
	*o = RefundOutcome(b)
	return nil
}
