package simulator

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// MerchantRegistration describes a merchant as the control API registers it (POST
// /sim/v1/merchants, JSON) and the configuration and seed files name it (YAML): its ids, its
// keys as certificates or public keys (never private keys, which WeChat never holds either) and
// its settings. A store keeps registrations as they were made, so that a registered merchant
// survives a restart.
type MerchantRegistration struct {
	MchID        string           `json:"mchid" yaml:"mchid"`
	AppIDs       []string         `json:"appids" yaml:"appids"`
	ServiceIDs   []string         `json:"service_ids" yaml:"service_ids"`
	APIv2Key     string           `json:"api_v2_key,omitempty" yaml:"api_v2_key"`
	APIv3Key     string           `json:"api_v3_key" yaml:"api_v3_key"`
	Certificates []MerchantKey    `json:"certificates" yaml:"certificates"`
	Settings     MerchantSettings `json:"settings" yaml:"settings"`
}

// MerchantKey is a merchant API certificate (PEM), or a bare public key (PEM) with the serial
// number it is known by. (A file may give a PEM file's path instead; it reads the file first.)
type MerchantKey struct {
	SerialNo    string `json:"serial_no,omitempty" yaml:"serial_no"`
	Certificate string `json:"certificate,omitempty" yaml:"certificate"`
	PublicKey   string `json:"public_key,omitempty" yaml:"public_key"`
}

// mchidPattern: production's mchids are digits; the simulator takes letters, _ and - too, and
// nothing that would break the Authorization header or a URL path.
var mchidPattern = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)

// Merchant checks the registration and returns the merchant it describes. A failure is a
// PARAM_ERROR naming the field, as the control API answers it.
func (r *MerchantRegistration) Merchant() (*Merchant, error) {
	var c check
	c.str("mchid", r.MchID, 1, 32)
	c.match("mchid", r.MchID, mchidPattern, "digits, letters, _ and -")
	c.ids("appids", r.AppIDs, "appid")
	c.ids("service_ids", r.ServiceIDs, "service_id")
	if n := len(r.APIv3Key); n != 32 {
		c.fail("api_v3_key", r.APIv3Key, fmt.Sprintf("must be 32 bytes, is %d: it encrypts notifications and certificates (AEAD_AES_256_GCM)", n))
	}
	if n := len(r.APIv2Key); n != 0 && n != 32 {
		c.fail("api_v2_key", r.APIv2Key, fmt.Sprintf("must be 32 bytes, is %d: it signs the front end's extraData (HMAC-SHA256)", n))
	}
	if len(r.Certificates) == 0 {
		c.fail("certificates", r.Certificates, "needs at least one merchant certificate or public key: the simulator verifies the merchant's requests with it")
	}
	if c.err != nil {
		return nil, c.err
	}
	m := &Merchant{
		MchID: r.MchID, AppIDs: r.AppIDs, ServiceIDs: r.ServiceIDs,
		APIv2Key: r.APIv2Key, APIv3Key: r.APIv3Key,
		Keys: map[string]*rsa.PublicKey{}, Settings: r.Settings,
	}
	for i, k := range r.Certificates {
		serial, key, err := k.key()
		if err != nil {
			return nil, ParamError(fmt.Sprintf("certificates[%d]", i), k.SerialNo, err.Error())
		}
		m.Keys[serial] = key
	}
	return m, nil
}

// ids checks a list of appids or service_ids: at least one, each as production bounds it.
func (c *check) ids(field string, ids []string, one string) {
	if len(ids) == 0 {
		c.fail(field, ids, fmt.Sprintf("needs at least one %s", one))
	}
	for i, id := range ids {
		c.str(fmt.Sprintf("%s[%d]", field, i), id, 1, 32)
	}
}

// key returns the serial number and public key the MerchantKey gives.
func (k MerchantKey) key() (serial string, key *rsa.PublicKey, err error) {
	switch {
	case k.Certificate != "" && k.PublicKey != "":
		return "", nil, fmt.Errorf("give certificate or public_key, not both")
	case k.Certificate != "":
		cert, err := wxcrypto.ParseCertificate([]byte(k.Certificate))
		if err != nil {
			return "", nil, err
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return "", nil, fmt.Errorf("certificate: the key is not RSA")
		}
		serial = wxcrypto.CertificateSerial(cert)
		if k.SerialNo != "" && !strings.EqualFold(k.SerialNo, serial) {
			return "", nil, fmt.Errorf("serial_no %s does not match the certificate's serial %s", k.SerialNo, serial)
		}
		return serial, pub, nil
	case k.PublicKey != "":
		if k.SerialNo == "" {
			return "", nil, fmt.Errorf("serial_no is required with public_key")
		}
		pub, err := wxcrypto.ParsePublicKey([]byte(k.PublicKey))
		return strings.ToUpper(k.SerialNo), pub, err
	default:
		return "", nil, fmt.Errorf("certificate or public_key is required")
	}
}

// MerchantStore keeps registered merchants.
type MerchantStore interface {
	// CreateMerchant stores r unless a merchant with its mchid is stored already, in which case
	// it stores nothing and returns that registration with created false.
	CreateMerchant(ctx context.Context, r *MerchantRegistration, at time.Time) (stored *MerchantRegistration, created bool, err error)
	// ListMerchants returns every registration, oldest first.
	ListMerchants(ctx context.Context) ([]*MerchantRegistration, error)
}

// CodeMerchantExists is the control API's answer to a registration whose mchid is taken.
const CodeMerchantExists = "MERCHANT_EXISTS"

// RegisterMerchant adds a merchant to the simulator and keeps it, so that a test can use a
// merchant of its own on a shared simulator. Registering the same merchant again with identical
// fields returns it with created false; another registration of a taken mchid, or of the demo
// merchant's or a configured one's, is refused with MERCHANT_EXISTS.
func (s *Service) RegisterMerchant(ctx context.Context, r MerchantRegistration) (m *Merchant, created bool, err error) {
	m, err = r.Merchant()
	if err != nil {
		return nil, false, err
	}
	m.Registration = &r
	s.registerMu.Lock()
	defer s.registerMu.Unlock()
	if known := s.Merchants.Merchant(r.MchID); known != nil && known.Registration == nil {
		return nil, false, merchantExists(r.MchID, "it is the demo merchant or one of the configuration file (--config), which a registration cannot replace")
	}
	stored, created, err := s.MerchantStore.CreateMerchant(ctx, &r, time.Now())
	if err != nil {
		return nil, false, fmt.Errorf("register merchant %s: %w", r.MchID, err)
	}
	if !created {
		a, _ := json.Marshal(stored)
		b, _ := json.Marshal(&r)
		if string(a) != string(b) {
			return nil, false, merchantExists(r.MchID, "it was registered before with other fields; register a merchant of another mchid, or the same fields to get it back").
				With("differing_fields", differingFields(a, b))
		}
		return s.Merchants.Merchant(r.MchID), false, nil
	}
	s.Merchants.Add(m)
	return m, true, nil
}

func merchantExists(mchid, issue string) *Error {
	return Errorf(CodeMerchantExists, "商户号已存在").With("field", "mchid").With("value", mchid).With("issue", issue)
}

// LoadMerchants adds the stored registrations to the merchants, after the demo merchant and the
// configured ones, which win a clash. A registration that is hidden so, or that no longer
// passes the checks, is left out and named in skipped, with why: a stored record never keeps
// the simulator from starting.
func (s *Service) LoadMerchants(ctx context.Context) (skipped []string, err error) {
	regs, err := s.MerchantStore.ListMerchants(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		if s.Merchants.Merchant(r.MchID) != nil {
			skipped = append(skipped, r.MchID+": hidden by the demo merchant or the configuration file, which has this mchid")
			continue
		}
		m, err := r.Merchant()
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", r.MchID, err))
			continue
		}
		m.Registration = r
		s.Merchants.Add(m)
	}
	return skipped, nil
}
