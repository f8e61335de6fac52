// Package client is a small APIv3 client that signs requests as a merchant and checks the
// signatures of responses, as an SDK does. The simulator's own tests and scenario runner use
// it; the real SDKs are tested against the simulator separately, as independent clients.
package client

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Client calls a simulator (or anything that speaks APIv3) as one merchant.
type Client struct {
	BaseURL string
	MchID   string
	Serial  string
	Key     *rsa.PrivateKey
	// Verify checks response signatures by Wechatpay-Serial; nil skips the check.
	Verify map[string]*rsa.PublicKey
	// WechatpaySerial is sent as the Wechatpay-Serial header when set.
	WechatpaySerial string
	HTTP            *http.Client
}

// Response is an answer, its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrorBody is WeChat's error shape.
type ErrorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Detail  map[string]any `json:"detail"`
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("client: decode %d response %s: %w", r.Status, r.Body, err)
	}
	return nil
}

// Err returns the body as an error body; it is empty for a body that is not one.
func (r *Response) Err() ErrorBody {
	var e ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return e
}

// Do sends a request signed for target (path and query, sent exactly as given). body is
// marshalled to JSON unless it is nil, a string or a []byte, which are sent as they are.
func (c *Client) Do(ctx context.Context, method, target string, body any) (*Response, error) {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	case string:
		payload = []byte(b)
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("client: encode body: %w", err)
		}
	}
	auth, err := wxcrypto.Authorize(c.MchID, c.Serial, c.Key, method, target, payload, time.Now())
	if err != nil {
		return nil, fmt.Errorf("client: sign: %w", err)
	}
	req, err := c.NewRequest(ctx, method, target, payload)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	return c.Send(req)
}

// NewRequest builds an unsigned request carrying the headers an SDK sends; tests that want to
// tamper with a request sign it themselves.
func (c *Client) NewRequest(ctx context.Context, method, target string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.WechatpaySerial != "" {
		req.Header.Set("Wechatpay-Serial", c.WechatpaySerial)
	}
	return req, nil
}

// Send sends req and checks the response's signature when Verify is set.
func (c *Client) Send(req *http.Request) (*Response, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("client: read response: %w", err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if c.Verify != nil {
		if err := c.VerifyResponse(r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// VerifyResponse checks r's Wechatpay-Signature with the key Verify holds for its
// Wechatpay-Serial. Send calls it when Verify is set; a caller that sent with Verify unset, to
// keep the check out of a timed loop, calls it afterwards.
func (c *Client) VerifyResponse(r *Response) error {
	serial := r.Header.Get("Wechatpay-Serial")
	key, ok := c.Verify[serial]
	if !ok {
		return fmt.Errorf("client: response signed under unknown serial %q", serial)
	}
	msg := wxcrypto.ResponseMessage(r.Header.Get("Wechatpay-Timestamp"), r.Header.Get("Wechatpay-Nonce"), r.Body)
	if err := wxcrypto.VerifySHA256WithRSA(key, msg, r.Header.Get("Wechatpay-Signature")); err != nil {
		return fmt.Errorf("client: response signature: %w", err)
	}
	return nil
}
