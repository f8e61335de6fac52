package http_test

// These tests drive the simulator with a Node SDK, wechatpay-axios-plugin (pinned in
// testdata/nodesdk/package-lock.json), through testdata/nodesdk/payscore.js. The SDK runs
// unmodified: its documented baseURL option points it at the simulator, and it verifies every
// answer's signature against the platform certificate, as in production.
//
// wechatpay-axios-plugin rather than wechatpay-node-v3 (more downloads): wechatpay-node-v3 has
// no Pay Score methods, signs its URLs relative to a hard-coded api.mch.weixin.qq.com, and its
// request layer drops the response headers, so it never verifies an API answer; the axios
// plugin reaches any APIv3 path and refuses an answer whose signature does not verify.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// nodeSDKDir is the node project of the Node SDK tests; `npm ci` there installs the SDK.
var nodeSDKDir = filepath.Join("testdata", "nodesdk")

// nodeSDKVersion is the SDK version package.json pins, as its User-Agent names it.
const nodeSDKVersion = "wechatpay-axios-plugin/0.9.6"

// nodeCall is one SDK call as payscore.js reports it: the answer, with the headers the SDK
// set, or the error the SDK threw.
type nodeCall struct {
	Status int            `json:"status"`
	Data   wechatpayOrder `json:"data"`
	Sent   nodeHeaders    `json:"sent"`
	Error  *nodeCallError `json:"error"`
}

type nodeHeaders struct {
	Accept    string `json:"accept"`
	UserAgent string `json:"user_agent"`
}

// nodeCallError is an error the SDK threw: SDKCode names its own checks (such as
// EV3_RES_HEADER_SIGNATURE_DIGEST, a signature that did not verify), Data is the answer's body
// as the SDK held it (an object, or the text it could not verify).
type nodeCallError struct {
	SDKCode string          `json:"sdk_code"`
	Message string          `json:"message"`
	Status  int             `json:"status"`
	Data    json.RawMessage `json:"data"`
}

// wechatpayError is the WeChat-shaped error of the answer, when the SDK parsed one.
func (e *nodeCallError) wechatpayError() (code, message string) {
	var body struct{ Code, Message string }
	_ = json.Unmarshal(e.Data, &body) // the text of an unverified answer leaves both empty
	return body.Code, body.Message
}

// nodeResult is what payscore.js prints.
type nodeResult struct {
	Certificates struct {
		Status       int            `json:"status"`
		Error        *nodeCallError `json:"error"`
		Certificates []struct {
			SerialNo        string `json:"serial_no"`
			DecryptedSerial string `json:"decrypted_serial"`
		} `json:"certificates"`
	} `json:"certificates"`
	Create nodeCall `json:"create"`
	Query  nodeCall `json:"query"`
}

// nodeSDK returns the node binary, or skips the test when node or the SDK is not installed,
// unless PAYSCORE_SIM_REQUIRE_NODE_SDK=1 (as in scripts/test.sh), which makes it fail.
func nodeSDK(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	msg := ""
	switch {
	case err != nil:
		msg = "node is not on PATH: install Node.js (apt-get install -y nodejs)"
	default:
		if _, err := os.Stat(filepath.Join(nodeSDKDir, "node_modules", "wechatpay-axios-plugin", "package.json")); err != nil {
			msg = "the Node SDK is not installed: run `npm ci` in simulator/http/" + filepath.ToSlash(nodeSDKDir)
		}
	}
	if msg != "" {
		if os.Getenv("PAYSCORE_SIM_REQUIRE_NODE_SDK") == "1" {
			t.Fatal(msg + "; PAYSCORE_SIM_REQUIRE_NODE_SDK=1 requires the Node SDK tests to run")
		}
		t.Skip(msg)
	}
	return node
}

// nodeFront is a reverse proxy on loopback between the SDK and the simulator. It records the
// Accept and User-Agent of each APIv3 request as they arrived, and passes the requests on
// after edit (which may drop headers).
type nodeFront struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]nodeHeaders // by method and request target
}

func startNodeFront(t *testing.T, sim *simtest.Sim, edit func(http.Header)) *nodeFront {
	t.Helper()
	target, err := url.Parse(sim.URL)
	if err != nil {
		t.Fatalf("simulator URL: %v", err)
	}
	f := &nodeFront{seen: map[string]nodeHeaders{}}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		if strings.HasPrefix(r.In.URL.Path, "/v3/") {
			f.mu.Lock()
			f.seen[r.In.Method+" "+r.In.RequestURI] = nodeHeaders{Accept: r.In.Header.Get("Accept"), UserAgent: r.In.Header.Get("User-Agent")}
			f.mu.Unlock()
		}
		if edit != nil {
			edit(r.Out.Header)
		}
	}}
	f.Server = httptest.NewServer(proxy)
	t.Cleanup(f.Close)
	return f
}

func (f *nodeFront) headers(methodTarget string) (nodeHeaders, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.seen[methodTarget]
	return h, ok
}

// nodeRun runs payscore.js against baseURL for outOrderNo and returns what it printed.
func nodeRun(t *testing.T, node, baseURL, outOrderNo string) nodeResult {
	t.Helper()
	// A bound so that a hung SDK fails the test instead of the whole run; no assertion on time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "payscore.js", baseURL, outOrderNo, sdkNotifyURL)
	cmd.Dir = nodeSDKDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node payscore.js: %v\n%s", err, stderr.String())
	}
	var res nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node payscore.js printed %q: %v", out, err)
	}
	return res
}

// TestNodeSDKPayScore creates a Pay Score order with the Node SDK and queries it: the SDK
// downloads and decrypts the platform certificate, its calls are accepted (their Accept and
// User-Agent satisfy the header rule) and every answer passes its signature check.
func TestNodeSDKPayScore(t *testing.T) {
	node := nodeSDK(t)
	sim := simtest.Start(t, app.Options{})
	front := startNodeFront(t, sim, nil)
	const outOrderNo = "NODE-SDK-1"
	res := nodeRun(t, node, front.URL, outOrderNo)

	certs := res.Certificates
	if certs.Error != nil || len(certs.Certificates) == 0 {
		t.Fatalf("GET /v3/certificates through the SDK: HTTP %d, %d certificates, error %s", certs.Status, len(certs.Certificates), nodeDescribe(certs.Error))
	}
	for _, c := range certs.Certificates {
		if c.SerialNo != c.DecryptedSerial {
			t.Errorf("certificate %s decrypts (AEAD_AES_256_GCM, APIv3 key) to a certificate of serial %s", c.SerialNo, c.DecryptedSerial)
		}
	}
	for name, call := range map[string]nodeCall{"create": res.Create, "query": res.Query} {
		if call.Error != nil || call.Status != http.StatusOK {
			t.Fatalf("%s through the SDK: HTTP %d, error %s", name, call.Status, nodeDescribe(call.Error))
		}
		if o := call.Data; o.OutOrderNo != outOrderNo || o.State != "CREATED" || o.MchID != fixtures.DemoMchID || o.OrderID == "" {
			t.Errorf("%s answered (out_order_no, state, mchid, order_id) = (%q, %q, %q, %q), want (%s, CREATED, %s, set)",
				name, o.OutOrderNo, o.State, o.MchID, o.OrderID, outOrderNo, fixtures.DemoMchID)
		}
	}
	if res.Create.Data.Package == nil || *res.Create.Data.Package == "" {
		t.Error("create answered no package for a confirm-mode order")
	}
	if res.Query.Data.OrderID != res.Create.Data.OrderID {
		t.Errorf("query answered order_id %q, create %q", res.Query.Data.OrderID, res.Create.Data.OrderID)
	}

	query := "/v3/payscore/serviceorder?out_order_no=" + outOrderNo + "&service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID
	nodeCheckHeaders(t, front, map[string]nodeHeaders{
		"POST /v3/payscore/serviceorder": res.Create.Sent,
		"GET " + query:                   res.Query.Sent,
	})
	sdkCheckRequestLog(t, sim, []sdkLogged{
		{http.MethodGet, "/v3/certificates", http.StatusOK, ""},
		{http.MethodPost, "/v3/payscore/serviceorder", http.StatusOK, ""},
		{http.MethodGet, query, http.StatusOK, ""},
	})
}

// nodeCheckHeaders checks that each call reached the simulator with the Accept and
// User-Agent the SDK set, and that these are the SDK's own.
func nodeCheckHeaders(t *testing.T, front *nodeFront, sent map[string]nodeHeaders) {
	t.Helper()
	for call, want := range sent {
		got, ok := front.headers(call)
		if !ok {
			t.Errorf("%s never reached the simulator", call)
			continue
		}
		if got != want {
			t.Errorf("%s arrived with %+v; the SDK set %+v", call, got, want)
		}
		if !strings.HasPrefix(got.UserAgent, nodeSDKVersion+" ") || !strings.Contains(got.Accept, "application/json") {
			t.Errorf("%s: User-Agent %q, Accept %q; want the SDK's (%s ..., application/json)", call, got.UserAgent, got.Accept, nodeSDKVersion)
		}
	}
}

// TestNodeSDKWithoutAccept shows what the SDK passes for: the same calls, their Accept
// removed on the way, are refused with production's error, which the SDK reports.
func TestNodeSDKWithoutAccept(t *testing.T) {
	node := nodeSDK(t)
	sim := simtest.Start(t, app.Options{})
	front := startNodeFront(t, sim, func(h http.Header) { h.Del("Accept") })
	res := nodeRun(t, node, front.URL, "NODE-SDK-NO-ACCEPT")
	e := res.Create.Error
	if e == nil {
		t.Fatalf("create without Accept through the SDK: HTTP %d, no error; want 400 INVALID_REQUEST", res.Create.Status)
	}
	if code, msg := e.wechatpayError(); e.Status != http.StatusBadRequest || code != "INVALID_REQUEST" || msg != "Http头缺少Accept或User-Agent" {
		t.Errorf("create without Accept through the SDK: HTTP %d %s %s (%s), want 400 INVALID_REQUEST Http头缺少Accept或User-Agent", e.Status, code, msg, e.Message)
	}
}

// nodeDescribe describes an SDK error for a failure message.
func nodeDescribe(e *nodeCallError) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%s: %s (HTTP %d %s)", e.SDKCode, e.Message, e.Status, e.Data)
}
