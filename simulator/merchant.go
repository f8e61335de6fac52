package simulator

import (
	"crypto/rsa"
	"slices"
	"sort"
	"sync"
	"time"
)

// Merchant is a WeChat Pay merchant (普通商户) as the simulator knows it: its identifiers, its
// keys and the settings that choose between conflicting readings of the documentation.
//
// The simulator never holds a configured merchant's private key: it verifies requests with the
// merchant's certificate or public key, as WeChat does. Only the built-in demo merchant's
// private key is published, through the demo-credentials endpoint.
type Merchant struct {
	MchID      string
	AppIDs     []string
	ServiceIDs []string

	// APIv2Key signs the front-end extraData (HMAC-SHA256); APIv3Key encrypts certificates and
	// notifications (AEAD_AES_256_GCM).
	APIv2Key string
	APIv3Key string

	// Keys are the merchant API certificates' public keys by serial number: a merchant may
	// rotate and hold more than one.
	Keys map[string]*rsa.PublicKey

	Settings MerchantSettings

	// Registration is what the control API registered the merchant from (RegisterMerchant);
	// nil for the demo merchant and the configured ones.
	Registration *MerchantRegistration
}

// MerchantSettings choose where the sources disagree. The zero value is the official reading.
type MerchantSettings struct {
	// RejectCancelAfterComplete follows the skills doc and a community report: a completed order
	// awaiting payment cannot be cancelled. The official API doc allows it.
	RejectCancelAfterComplete bool `json:"reject_cancel_after_complete" yaml:"reject_cancel_after_complete"`
	// AcceptAPIv3KeySign accepts front-end signs made with the APIv3 key, as gopay makes them.
	// WeChat rejects them ("商户签名校验失败").
	AcceptAPIv3KeySign bool `json:"accept_apiv3_key_sign" yaml:"accept_apiv3_key_sign"`
	// Deduction is how Pay Score's deductions of this merchant's completed orders go; an
	// order may override it. Empty means immediate.
	Deduction DeductionMode `json:"deduction,omitempty" yaml:"deduction"`
	// DeductionDelay is how long after complete or /pay Pay Score deducts, such as "200ms";
	// nil means the simulator's default (the serve flag --deduction-delay).
	DeductionDelay *time.Duration `json:"deduction_delay,omitempty" yaml:"deduction_delay"`
	// NotifyPublicKeyMode signs notifications with the WeChat Pay public key instead of the
	// platform certificate, as for a merchant that has switched to public-key mode.
	NotifyPublicKeyMode bool `json:"notify_public_key_mode" yaml:"notify_public_key_mode"`
	// RefundSettings: how refunds go, and where their notifications go.
	RefundSettings `yaml:",inline"`
}

// HasAppID reports whether appid is bound to the merchant.
func (m *Merchant) HasAppID(appid string) bool { return slices.Contains(m.AppIDs, appid) }

// HasService reports whether the merchant may use the Pay Score service serviceID.
func (m *Merchant) HasService(serviceID string) bool {
	return slices.Contains(m.ServiceIDs, serviceID)
}

// KeySerials returns the serial numbers of the merchant's keys, sorted.
func (m *Merchant) KeySerials() []string {
	serials := make([]string, 0, len(m.Keys))
	for s := range m.Keys {
		serials = append(serials, s)
	}
	sort.Strings(serials)
	return serials
}

// Merchants is the registry of known merchants. It is filled at start-up from the demo
// merchant, the configuration file and the registered merchants, grows as merchants are
// registered, and is safe for concurrent use.
type Merchants struct {
	mu sync.RWMutex
	m  map[string]*Merchant
}

// Add registers m, replacing any merchant with the same mchid.
func (ms *Merchants) Add(m *Merchant) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.m == nil {
		ms.m = make(map[string]*Merchant)
	}
	ms.m[m.MchID] = m
}

// Merchant returns the merchant with the given mchid, or nil.
func (ms *Merchants) Merchant(mchid string) *Merchant {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	return ms.m[mchid]
}

// All returns every merchant, ordered by mchid.
func (ms *Merchants) All() []*Merchant {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	all := make([]*Merchant, 0, len(ms.m))
	for _, m := range ms.m {
		all = append(all, m)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].MchID < all[j].MchID })
	return all
}

// IDs returns every merchant's mchid, in order: what a screen offers to choose from.
func (ms *Merchants) IDs() []string {
	all := ms.All()
	ids := make([]string, len(all))
	for i, m := range all {
		ids[i] = m.MchID
	}
	return ids
}
