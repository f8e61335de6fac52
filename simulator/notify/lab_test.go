package notify_test

// The notification lab: each fault variant reaches a merchant endpoint built on the SDKs'
// handlers, in certificate mode and in public-key mode, and the tests record what each SDK
// really does with it. The endpoint acknowledges (200) only what both wechatpay-go and gopay
// (VerifySignByPK, then DecryptScoreCipherText) accept, as a correct merchant would.

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
)

// notifyLabRun delivers a USER_CONFIRM notification normally, then once more through the lab
// with variant, and returns the lab request as the endpoint saw it and the first one.
func notifyLabRun(t *testing.T, publicKeyMode bool, variant string) (lab, first *notifyReceived) {
	t.Helper()
	sim := notifyStart(t, app.Options{}, publicKeyMode)
	e := notifyNewEndpoint(t, publicKeyMode)
	no := notifyConfirmedOrder(t, sim, "lab", e.URL)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	notifyWaitState(t, sim, id, "DELIVERED", 1, 5*time.Second)
	first = e.all()[0]
	if first.WechatpayGo != nil || first.GoPay != nil || first.GoPayMap != nil {
		t.Fatalf("the regular delivery was refused: wechatpay-go %v, gopay %v, gopay map %v", first.WechatpayGo, first.GoPay, first.GoPayMap)
	}

	status, a := notifyPost(t, sim, "/sim/v1/notifications/"+id+"/lab", map[string]any{"variant": variant})
	if status != http.StatusOK {
		t.Fatalf("lab %s: HTTP %d %v", variant, status, a)
	}
	got := e.waitCount(t, 2, 5*time.Second)
	lab = got[1]
	if lab.envelopeID(t) != id || string(lab.Body) != string(first.Body) {
		t.Errorf("lab %s: sent %s, want the notification's own body %s", variant, lab.Body, first.Body)
	}
	wantSuccess := variant == "duplicate"
	if a["lab"] != variant || a["success"] != wantSuccess || a["status"] != float64(lab.Status) || a["notification_id"] != id {
		t.Errorf("lab %s: attempt %v, want lab %s, success %v, status %d", variant, a, variant, wantSuccess, lab.Status)
	}

	// The lab changes neither the state nor the schedule; its attempt is listed with the others.
	v := notifyGet(t, sim, id)
	if v.State != "DELIVERED" || v.AttemptCount != 1 || len(v.Attempts) != 2 || string(v.Attempts[1].Lab) != variant || v.Attempts[0].Lab != "" {
		t.Errorf("after lab %s: state %s, attempt_count %d, attempts %s; want DELIVERED, 1, the regular one then the lab one",
			variant, v.State, v.AttemptCount, notifyDescribe(v.Attempts))
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(e.all()); n != 2 {
		t.Errorf("after lab %s: the endpoint received %d requests, want 2", variant, n)
	}
	return lab, first
}

// notifyModes runs f in certificate mode and in public-key mode.
func notifyModes(t *testing.T, f func(t *testing.T, publicKeyMode bool)) {
	for _, pk := range []bool{false, true} {
		name := "certificate"
		if pk {
			name = "public_key"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, pk)
		})
	}
}

func notifyWantRefused(t *testing.T, what string, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s accepted it, want a refusal", what)
	} else if !strings.Contains(err.Error(), contains) {
		t.Errorf("%s refused it with %q, want %q in the error", what, err, contains)
	}
}

func TestLabBadSignature(t *testing.T) {
	t.Parallel()
	notifyModes(t, func(t *testing.T, pk bool) {
		r, first := notifyLabRun(t, pk, "bad_signature")
		if r.Header.Get("Wechatpay-Serial") != first.Header.Get("Wechatpay-Serial") {
			t.Errorf("Wechatpay-Serial %q, want the regular one", r.Header.Get("Wechatpay-Serial"))
		}
		notifyWantRefused(t, "wechatpay-go", r.WechatpayGo, "verify")
		notifyWantRefused(t, "gopay VerifySignByPK", r.GoPay, "verification error")
		notifyWantRefused(t, "gopay VerifySignByPKMap", r.GoPayMap, "verification error")
		if r.Status != http.StatusUnauthorized {
			t.Errorf("the endpoint answered %d", r.Status)
		}
	})
}

func TestLabSignTest(t *testing.T) {
	t.Parallel()
	notifyModes(t, func(t *testing.T, pk bool) {
		r, _ := notifyLabRun(t, pk, "signtest")
		if sig := r.Header.Get("Wechatpay-Signature"); !strings.HasPrefix(sig, "WECHATPAY/SIGNTEST/") {
			t.Errorf("Wechatpay-Signature = %q, want the WECHATPAY/SIGNTEST/ probe prefix", sig)
		}
		notifyWantRefused(t, "wechatpay-go", r.WechatpayGo, "verify")
		notifyWantRefused(t, "gopay VerifySignByPK", r.GoPay, "verification error")
		notifyWantRefused(t, "gopay VerifySignByPKMap", r.GoPayMap, "verification error")
	})
}

// TestLabStaleTimestamp: a correctly signed notification whose Wechatpay-Timestamp is ten
// minutes old. wechatpay-go refuses it (it allows five minutes either way). gopay does not
// look at the timestamp at all: VerifySignByPK and VerifySignByPKMap accept it, so a gopay
// merchant must check the timestamp itself; the test asserts that, as gopay really behaves.
func TestLabStaleTimestamp(t *testing.T) {
	t.Parallel()
	notifyModes(t, func(t *testing.T, pk bool) {
		r, _ := notifyLabRun(t, pk, "stale_timestamp")
		ts, err := strconv.ParseInt(r.Header.Get("Wechatpay-Timestamp"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if age := r.At.Sub(time.Unix(ts, 0)); age < 9*time.Minute || age > 11*time.Minute {
			t.Errorf("Wechatpay-Timestamp is %s old, want 10 minutes", age)
		}
		notifyWantRefused(t, "wechatpay-go", r.WechatpayGo, "expires")
		if r.GoPay != nil || r.GoPayMap != nil {
			t.Errorf("gopay refused a stale but correctly signed notification (%v / %v); it has no timestamp check", r.GoPay, r.GoPayMap)
		}
		if r.Status != http.StatusUnauthorized {
			t.Errorf("the endpoint answered %d, want 401 (wechatpay-go refused)", r.Status)
		}
	})
}

// TestLabUnknownSerial: signed with the platform's key but naming a serial the merchant does not
// know. wechatpay-go refuses it (no certificate with that serial; in public-key mode the key ID
// does not match). gopay's VerifySignByPK takes one key and ignores Wechatpay-Serial, so it
// accepts the (valid) signature; VerifySignByPKMap, which picks the key by serial, finds none
// and refuses.
func TestLabUnknownSerial(t *testing.T) {
	t.Parallel()
	notifyModes(t, func(t *testing.T, pk bool) {
		r, _ := notifyLabRun(t, pk, "unknown_serial")
		serial := r.Header.Get("Wechatpay-Serial")
		if serial == "" || serial == fixtures.PlatformSerial || serial == fixtures.PublicKeyID {
			t.Errorf("Wechatpay-Serial = %q, want one that is neither the platform's nor the public key ID", serial)
		}
		if pk != strings.HasPrefix(serial, "PUB_KEY_ID_") {
			t.Errorf("Wechatpay-Serial = %q, want one of the merchant's mode's kind", serial)
		}
		want := "not found in verifier"
		if pk {
			want = "does not match serial number"
		}
		notifyWantRefused(t, "wechatpay-go", r.WechatpayGo, want)
		if r.GoPay != nil {
			t.Errorf("gopay VerifySignByPK refused it (%v); it ignores Wechatpay-Serial", r.GoPay)
		}
		notifyWantRefused(t, "gopay VerifySignByPKMap", r.GoPayMap, "wxPublicKey is nil")
	})
}

// TestLabDuplicate: the same notification, id and body, delivered correctly a second time;
// both SDKs accept it again, so only the merchant's own idempotency can tell.
func TestLabDuplicate(t *testing.T) {
	t.Parallel()
	notifyModes(t, func(t *testing.T, pk bool) {
		r, first := notifyLabRun(t, pk, "duplicate")
		if r.WechatpayGo != nil || r.GoPay != nil || r.GoPayMap != nil {
			t.Errorf("the SDKs refused the duplicate: %v / %v / %v", r.WechatpayGo, r.GoPay, r.GoPayMap)
		}
		if r.WechatpayGoRequest.ID != first.WechatpayGoRequest.ID || r.WechatpayGoContent.OutOrderNo != first.WechatpayGoContent.OutOrderNo {
			t.Errorf("duplicate carries id %s (%s), first %s (%s)", r.WechatpayGoRequest.ID, r.WechatpayGoContent.OutOrderNo,
				first.WechatpayGoRequest.ID, first.WechatpayGoContent.OutOrderNo)
		}
		if r.Status != http.StatusOK {
			t.Errorf("the endpoint answered %d, want 200", r.Status)
		}
	})
}

// TestLabKeepsStateAndSchedule: a lab delivery of a notification still waiting for a retry
// leaves its state, attempt count and next attempt as they were, and fixes its body for the
// retries to come.
func TestLabKeepsStateAndSchedule(t *testing.T) {
	t.Parallel()
	sim := notifyStart(t, app.Options{NotifySchedule: simulator.RetrySchedule{time.Hour}}, false)
	e := notifyNewEndpoint(t, false, func(e *notifyEndpoint) { e.reply = notifyFailFirst(1) })
	no := notifyConfirmedOrder(t, sim, "lk", e.URL)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	before := notifyWaitState(t, sim, id, "PENDING", 1, 5*time.Second)

	status, a := notifyPost(t, sim, "/sim/v1/notifications/"+id+"/lab", map[string]any{"variant": "duplicate"})
	if status != http.StatusOK || a["success"] != true {
		t.Fatalf("lab duplicate: HTTP %d %v, want an acknowledged delivery", status, a)
	}
	after := notifyGet(t, sim, id)
	if after.State != "PENDING" || after.AttemptCount != 1 || !after.NextAttemptAt.Equal(before.NextAttemptAt) || string(after.Body) != string(before.Body) {
		t.Errorf("after the lab: (state, attempt_count, next_attempt_at) = (%s, %d, %s), want (PENDING, 1, %s) and the same body",
			after.State, after.AttemptCount, after.NextAttemptAt, before.NextAttemptAt)
	}
}
