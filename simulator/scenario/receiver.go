package scenario

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Receiver is the runner's notification endpoint: the merchant's notify_url in every scenario.
// It verifies each notification as a careful merchant does (the Wechatpay-* signature with the
// platform certificate or the WeChat Pay public key, the timestamp within five minutes), decrypts
// its resource with the merchant's APIv3 key, and answers 204, or a failure when the signature
// does not verify or a scenario asked it to fail.
type Receiver struct {
	ln   net.Listener
	srv  *http.Server
	base string
	keys map[string]*rsa.PublicKey

	mu      sync.Mutex
	inboxes map[string]*inbox
}

// StartReceiver listens on listen; simulators reach it by host. keys are the platform's public
// keys that notifications must be signed with, by serial or public key ID.
func StartReceiver(listen, host string, keys map[string]*rsa.PublicKey) (*Receiver, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("notification receiver: listen on %s: %w", listen, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	rc := &Receiver{ln: ln, keys: keys, inboxes: map[string]*inbox{},
		base: "http://" + net.JoinHostPort(host, strconv.Itoa(port))}
	rc.srv = &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rc.srv.Serve(ln) }()
	return rc, nil
}

// Close stops the receiver at once: every scenario has ended, and a graceful shutdown would wait
// for connections that a simulator dialed and never used.
func (rc *Receiver) Close() { _ = rc.srv.Close() }

// open makes an inbox for a scenario and returns its notify_url.
func (rc *Receiver) open(id string, apiV3Keys []string) (*inbox, string) {
	ib := &inbox{keys: apiV3Keys, byID: map[string]*note{}, changed: make(chan struct{})}
	rc.mu.Lock()
	rc.inboxes[id] = ib
	rc.mu.Unlock()
	return ib, rc.base + "/notify/" + id
}

func (rc *Receiver) closeInbox(id string) {
	rc.mu.Lock()
	delete(rc.inboxes, id)
	rc.mu.Unlock()
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/notify/")
	rc.mu.Lock()
	ib := rc.inboxes[id]
	rc.mu.Unlock()
	if !ok || ib == nil || r.Method != http.MethodPost {
		fail(w, http.StatusNotFound, "no scenario is waiting at "+r.URL.Path)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	status, msg := ib.deliver(r.Header, body, rc.verify(r.Header, body))
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	fail(w, status, msg)
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"code": "FAIL", "message": msg})
	_, _ = w.Write(b)
}

// verify checks a notification's signature headers as a merchant must.
func (rc *Receiver) verify(h http.Header, body []byte) error {
	serial, sig := h.Get("Wechatpay-Serial"), h.Get("Wechatpay-Signature")
	ts, nonce := h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce")
	for name, v := range map[string]string{"Wechatpay-Serial": serial, "Wechatpay-Signature": sig, "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce} {
		if v == "" {
			return fmt.Errorf("the %s header is missing", name)
		}
	}
	if strings.HasPrefix(sig, "WECHATPAY/SIGNTEST/") {
		return errors.New("a signature probe (WECHATPAY/SIGNTEST/), refused as a verifying merchant refuses it")
	}
	key := rc.keys[serial]
	if key == nil {
		return fmt.Errorf("Wechatpay-Serial %s is neither the platform certificate's serial nor the WeChat Pay public key ID (known: %s)", serial, strings.Join(keys(rc.keys), ", "))
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("Wechatpay-Timestamp %q is not Unix seconds", ts)
	}
	if skew := time.Since(time.Unix(sec, 0)); skew > 5*time.Minute || skew < -5*time.Minute {
		return fmt.Errorf("Wechatpay-Timestamp %s is %s from now; a merchant refuses more than 5 minutes", ts, skew.Round(time.Second))
	}
	if err := wxcrypto.VerifySHA256WithRSA(key, wxcrypto.ResponseMessage(ts, nonce, body), sig); err != nil {
		return fmt.Errorf("the signature does not verify with the key of %s: %v", serial, err)
	}
	return nil
}

// inbox holds what one scenario's notify_url received.
type inbox struct {
	keys []string // APIv3 keys to decrypt with, the scenario's merchant's first

	mu       sync.Mutex
	changed  chan struct{} // closed at each delivery
	notes    []*note       // in the order of their first delivery
	byID     map[string]*note
	failLeft int
	failWith int
}

// note is one notification (by id) and its deliveries.
type note struct {
	ID        string
	EventType string
	Envelope  map[string]any
	Resource  any
	Header    http.Header
	Attempts  int
	// Err is why the receiver refused the last delivery ("" when it did not).
	Err string
	// acked counts the deliveries answered with success; consumed those an expectation used.
	acked, consumed int
}

// state says how the receiver answered the notification, for messages.
func (n *note) state() string {
	switch {
	case n.Err != "":
		return fmt.Sprintf("refused %d time(s): %s", n.Attempts, n.Err)
	case n.acked == 0:
		return fmt.Sprintf("answered with a failure %d time(s), as the receiver was told", n.Attempts)
	case n.consumed >= n.acked:
		return "acknowledged, and matched by an earlier expect_notification"
	}
	return "acknowledged"
}

func (n *note) doc() map[string]any {
	d := map[string]any{}
	for k, v := range n.Envelope {
		d[k] = v
	}
	d["envelope"] = n.Envelope
	d["resource"] = n.Resource
	d["attempts"] = json.Number(strconv.Itoa(n.Attempts))
	return d
}

func (ib *inbox) failNext(n, status int) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	ib.failLeft, ib.failWith = n, status
}

// deliver records a delivery and decides the answer.
func (ib *inbox) deliver(h http.Header, body []byte, verr error) (int, string) {
	var envelope map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&envelope); err != nil && verr == nil {
		verr = fmt.Errorf("the body is not a JSON envelope: %v", err)
	}
	id, _ := envelope["id"].(string)
	event, _ := envelope["event_type"].(string)
	var resource any
	if verr == nil {
		var err error
		if resource, err = ib.decrypt(envelope); err != nil {
			verr = err
		}
	}
	ib.mu.Lock()
	defer func() {
		close(ib.changed)
		ib.changed = make(chan struct{})
		ib.mu.Unlock()
	}()
	n := ib.byID[id]
	if n == nil || id == "" {
		n = &note{ID: id, EventType: event}
		ib.notes = append(ib.notes, n)
		if id != "" {
			ib.byID[id] = n
		}
	}
	n.Attempts++
	n.Header = h.Clone()
	if envelope != nil {
		n.Envelope = envelope
	}
	if verr != nil {
		n.Err = verr.Error()
		return http.StatusUnauthorized, "payscore-sim scenario receiver: " + n.Err
	}
	n.Err, n.Resource = "", resource
	if ib.failLeft > 0 {
		ib.failLeft--
		return ib.failWith, fmt.Sprintf("payscore-sim scenario receiver: failing on purpose (%d more to fail)", ib.failLeft)
	}
	n.acked++
	return http.StatusNoContent, ""
}

// decrypt opens the envelope's resource with the first APIv3 key that fits.
func (ib *inbox) decrypt(envelope map[string]any) (any, error) {
	res, _ := envelope["resource"].(map[string]any)
	if res == nil {
		return nil, errors.New("the envelope has no resource")
	}
	if alg, _ := res["algorithm"].(string); alg != "AEAD_AES_256_GCM" {
		return nil, fmt.Errorf("resource.algorithm is %q, not AEAD_AES_256_GCM", alg)
	}
	nonce, _ := res["nonce"].(string)
	ad, _ := res["associated_data"].(string)
	ct, _ := res["ciphertext"].(string)
	var lastErr error
	for _, k := range ib.keys {
		plain, err := wxcrypto.DecryptAEAD(k, nonce, ad, ct)
		if err == nil {
			return decodeJSON(plain), nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("the resource does not decrypt with the APIv3 key of any merchant of the scenario: %v", lastErr)
}

// wait returns the first acknowledged delivery match accepts that no expectation used yet, and
// marks it used; nil when none comes within d.
func (ib *inbox) wait(ctx context.Context, match func(*note) bool, d time.Duration) (*note, error) {
	return ib.await(ctx, d, func() *note {
		for _, n := range ib.notes {
			if match(n) && n.acked > n.consumed {
				n.consumed++
				c := *n
				return &c
			}
		}
		return nil
	})
}

// waitAny returns the first delivery match accepts, acknowledged or not, that no expectation
// used yet; nil when none comes within d.
func (ib *inbox) waitAny(ctx context.Context, match func(*note) bool, d time.Duration) (*note, error) {
	return ib.await(ctx, d, func() *note {
		for _, n := range ib.notes {
			if match(n) && (n.acked > n.consumed || n.acked == 0) {
				c := *n
				return &c
			}
		}
		return nil
	})
}

func (ib *inbox) await(ctx context.Context, d time.Duration, find func() *note) (*note, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		ib.mu.Lock()
		n := find()
		changed := ib.changed
		ib.mu.Unlock()
		if n != nil {
			return n, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a notification: %w", ctx.Err())
		}
	}
}

// snapshot copies the notes, for messages.
func (ib *inbox) snapshot() []*note {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	out := make([]*note, len(ib.notes))
	for i, n := range ib.notes {
		c := *n
		out[i] = &c
	}
	return out
}
