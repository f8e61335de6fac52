package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// envelope is a notification's body on the wire, its members in the documentation's order.
type envelope struct {
	ID           string   `json:"id"`
	CreateTime   string   `json:"create_time"`
	ResourceType string   `json:"resource_type"`
	EventType    string   `json:"event_type"`
	Summary      string   `json:"summary"`
	Resource     resource `json:"resource"`
}

// resource is the encrypted payload of an envelope.
type resource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// buildEnvelope encrypts n's resource with the merchant's APIv3 key and returns the body WeChat
// posts. Pay Score notifications carry an empty associated_data; refund notifications carry
// original_type and associated_data "refund", as a real one captured in a merchant's test does
// (the official example shows an empty associated_data; the SDKs decrypt either).
func buildEnvelope(n *simulator.Notification, apiV3Key string) ([]byte, error) {
	originalType, associatedData := "payscore", ""
	if n.EventType.IsRefund() {
		originalType, associatedData = "refund", "refund"
	}
	nonce := wxcrypto.NewAEADNonce()
	ciphertext, err := wxcrypto.EncryptAEAD(apiV3Key, nonce, associatedData, n.Resource)
	if err != nil {
		return nil, fmt.Errorf("encrypt the resource of notification %s: %w", n.ID, err)
	}
	env := envelope{
		ID:           n.ID,
		CreateTime:   simulator.FormatRFC3339(n.CreatedAt),
		ResourceType: "encrypt-resource",
		EventType:    string(n.EventType),
		Summary:      n.Summary,
		Resource: resource{
			OriginalType: originalType, Algorithm: "AEAD_AES_256_GCM",
			Ciphertext: ciphertext, AssociatedData: associatedData, Nonce: nonce,
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// WeChat writes <, > and & as they are; Go would escape them.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, fmt.Errorf("encode notification %s: %w", n.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// signTestPrefix starts the deliberately invalid signatures of WeChat's probe traffic.
const signTestPrefix = "WECHATPAY/SIGNTEST/"

// staleBy is how old a stale_timestamp delivery's timestamp is: twice the five minutes SDKs
// allow.
const staleBy = 10 * time.Minute

// Serials no platform has, of each kind, for the unknown_serial variant: the certificate serial
// of the documentation's example and a well-formed public key ID of nobody.
const (
	unknownCertSerial  = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	unknownPublicKeyID = wxcrypto.PublicKeyIDPrefix + "0100000000000000000000000000000000"
)

// userAgent names the simulator to merchants' logs.
const userAgent = "payscore-sim (WeChat Pay Score simulator; notification delivery)"

// newRequest builds the POST of body to notifyURL, signed as WeChat signs notifications under
// serial (the platform certificate's or the public key ID), with the fault variant asks for
// ("" for none, and duplicate is none).
func (w *Worker) newRequest(notifyURL string, body []byte, serial string, variant simulator.LabVariant, now time.Time) (*http.Request, error) {
	u, err := checkNotifyURL(notifyURL)
	if err != nil {
		return nil, err
	}
	ts := now
	if variant == simulator.LabStaleTimestamp {
		ts = now.Add(-staleBy)
	}
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	nonce := wxcrypto.NewNonce()
	signSerial, sentSerial := serial, serial
	if variant == simulator.LabUnknownSerial {
		sentSerial = unknownCertSerial
		if serial == w.Platform.PublicKeyID {
			sentSerial = unknownPublicKeyID
		}
	}
	signed := body
	if variant == simulator.LabBadSignature {
		signed = []byte(`{"payscore-sim":"lab bad_signature: these are not the bytes that were sent"}`)
	}
	sig, err := w.Platform.Sign(signSerial, wxcrypto.ResponseMessage(timestamp, nonce, signed))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if variant == simulator.LabSignTest {
		sig = signTestSignature()
	}
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "*/*")
	h.Set("User-Agent", userAgent)
	h.Set("Request-ID", strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))+"-0")
	h.Set("Wechatpay-Timestamp", timestamp)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", sig)
	h.Set("Wechatpay-Serial", sentSerial)
	h.Set("Wechatpay-Signature-Type", wxcrypto.AuthSchema)
	return req, nil
}

// signTestSignature is a probe signature as WeChat sends them: the prefix, then what looks like
// a base64 RSA-2048 signature and verifies as nothing.
func signTestSignature() string {
	b := make([]byte, 256)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	return signTestPrefix + base64.StdEncoding.EncodeToString(b)
}

// checkNotifyURL refuses a notify_url no request can go to: the create API refuses those
// already, so this only guards against what the store was given some other way.
func checkNotifyURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("notify_url %q is not a URL (%v): no request was sent", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("notify_url %q is not http or https: no request was sent", s)
	case u.Host == "":
		return nil, fmt.Errorf("notify_url %q has no host: no request was sent", s)
	}
	return u, nil
}
