package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
)

// TestNotifyRefusesMetadataAddresses: with its own client, the worker refuses to connect to
// link-local and cloud metadata addresses (the SSRF of issue 15: a notify_url at
// 169.254.169.254, whose answer the simulator would show), before any packet is sent, and
// still delivers to a loopback receiver. The refused addresses are never dialled, so the test
// sends nothing off the machine.
func TestNotifyRefusesMetadataAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	refused := map[string]string{
		"aws":       "http://169.254.169.254/latest/meta-data/",
		"ipv6":      "http://[fe80::1]:8080/notify",
		"alibaba":   "http://100.100.100.200/latest/meta-data/",
		"aws-ipv6":  "http://[fd00:ec2::254]/latest/meta-data/",
		"v4-mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
	}
	pending := notifyPending("loopback", fixtures.DemoMchID, srv.URL+"/notify")
	store := notifyNewMemStore(pending)
	for id, u := range refused {
		store.ns[id] = notifyPending(id, fixtures.DemoMchID, u)
	}
	w := notifyWorker(t, store)
	w.Client = nil // the worker's own client, as the simulator runs it
	w.Start(context.Background())
	defer w.Close(context.Background())
	notifyWaitSaved(t, store, len(refused)+1)
	for _, a := range store.all() {
		_, bad := refused[a.NotificationID]
		switch {
		case bad && (a.Success || !strings.Contains(a.Error, "refused to connect") || !strings.Contains(a.Error, "--notify-allow-link-local")):
			t.Errorf("%s (%s): attempt %+v, want a refusal naming --notify-allow-link-local", a.NotificationID, refused[a.NotificationID], a)
		case !bad && !a.Success:
			t.Errorf("the loopback receiver: attempt %+v, want a success", a)
		}
	}
}
