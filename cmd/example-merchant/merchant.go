package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"
)

// Config configures the example merchant.
type Config struct {
	// SimulatorURL is where WeChat Pay is: the simulator (gopay's proxy host).
	SimulatorURL string
	// PublicURL is this service's base URL as the simulator reaches it; the orders' notify_url
	// is PublicURL + "/payscore/notify".
	PublicURL string
	// ControlToken is the simulator's --control-token, sent on its control API calls (the
	// demo credentials); empty when the simulator has none.
	ControlToken string
	// RetryEvery is the wait between attempts to fetch the credentials while the simulator is
	// not answering yet; zero means one second.
	RetryEvery time.Duration
	Logger     *slog.Logger
}

// credentials are the part of GET /sim/v1/demo-credentials the merchant uses.
type credentials struct {
	MchID                 string `json:"mchid"`
	AppID                 string `json:"appid"`
	ServiceID             string `json:"service_id"`
	APIv3Key              string `json:"api_v3_key"`
	MerchantSerialNo      string `json:"merchant_serial_no"`
	MerchantPrivateKeyPEM string `json:"merchant_private_key_pem"`
}

// Merchant is the example merchant's back end: an HTTP API for its own front end, and the
// notify_url WeChat Pay calls. It keeps what it learns in memory.
type Merchant struct {
	cfg    Config
	creds  credentials
	client *wechat.ClientV3
	mux    *http.ServeMux

	mu            sync.Mutex
	orders        map[string]*order
	notifications []*notification
}

// order is what the merchant remembers of an order it created.
type order struct {
	OutOrderNo string    `json:"out_order_no"`
	OrderID    string    `json:"order_id"`
	Amount     int       `json:"amount"`
	Package    string    `json:"package"`
	CreatedAt  time.Time `json:"created_at"`
	// PaidAt is when a verified PAYSCORE.USER_PAID said the user paid. Complete's answer never
	// says so: Pay Score deducts after it, so the rental is paid only once USER_PAID arrives
	// (or a query shows collection.state USER_PAID).
	PaidAt *time.Time `json:"paid_at,omitempty"`
}

// notification is one request at the notify_url and what the merchant made of it.
type notification struct {
	ID         string    `json:"id,omitempty"`
	EventType  string    `json:"event_type,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Verified says the signature verified and the resource decrypted; Error says why not.
	Verified  bool   `json:"verified"`
	Error     string `json:"error,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	// What the decrypted resource says.
	OutOrderNo       string `json:"out_order_no,omitempty"`
	State            string `json:"state,omitempty"`
	StateDescription string `json:"state_description,omitempty"`
	TotalAmount      int    `json:"total_amount,omitempty"`
	CollectionState  string `json:"collection_state,omitempty"`
	// Resource is the decrypted resource as it came.
	Resource json.RawMessage `json:"resource,omitempty"`
}

// New connects the merchant to WeChat Pay (the simulator): it fetches the demo credentials,
// retrying until the simulator answers or ctx ends, then lets gopay download the platform
// certificates so that every response and notification is verified.
func New(ctx context.Context, cfg Config) (*Merchant, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = time.Second
	}
	cfg.SimulatorURL = strings.TrimSuffix(cfg.SimulatorURL, "/")
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	creds, err := fetchCredentials(ctx, cfg)
	if err != nil {
		return nil, err
	}
	client, err := wechat.NewClientV3(creds.MchID, creds.MerchantSerialNo, creds.APIv3Key, creds.MerchantPrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("gopay client: %w", err)
	}
	client.SetProxyHost(cfg.SimulatorURL) // instead of https://api.mch.weixin.qq.com
	// Downloads /v3/certificates and verifies every response from then on; false: no refresh
	// goroutine.
	if err := client.AutoVerifySign(false); err != nil {
		return nil, fmt.Errorf("gopay AutoVerifySign (GET /v3/certificates): %w", err)
	}
	m := &Merchant{cfg: cfg, creds: creds, client: client, mux: http.NewServeMux(), orders: map[string]*order{}}
	m.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	m.mux.HandleFunc("POST /orders", m.handleCreate)
	m.mux.HandleFunc("GET /orders/{no}", m.handleGet)
	m.mux.HandleFunc("POST /orders/{no}/complete", m.handleComplete)
	m.mux.HandleFunc("POST /payscore/notify", m.handleNotify)
	m.mux.HandleFunc("GET /notifications", m.handleNotifications)
	return m, nil
}

func (m *Merchant) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// NotifyURL is where the merchant's orders ask WeChat Pay to notify it.
func (m *Merchant) NotifyURL() string { return m.cfg.PublicURL + "/payscore/notify" }

// errRefused is an answer that asking again cannot change: the simulator refused the control
// token (or its absence).
var errRefused = errors.New("refused")

// fetchCredentials gets the demo credentials, retrying until the simulator answers; a refusal
// of the control token ends it at once.
func fetchCredentials(ctx context.Context, cfg Config) (credentials, error) {
	url := cfg.SimulatorURL + "/sim/v1/demo-credentials"
	for {
		creds, err := getCredentials(ctx, url, cfg.ControlToken)
		if err == nil {
			return creds, nil
		}
		if errors.Is(err, errRefused) {
			return credentials{}, fmt.Errorf("fetch credentials from %s: %w", url, err)
		}
		cfg.Logger.Info("waiting for the simulator", "url", url, "err", err)
		select {
		case <-ctx.Done():
			return credentials{}, fmt.Errorf("fetch credentials from %s: %w (last error: %v)", url, ctx.Err(), err)
		case <-time.After(cfg.RetryEvery):
		}
	}
}

func getCredentials(ctx context.Context, url, token string) (credentials, error) {
	var creds credentials
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return creds, err
	}
	if token != "" {
		req.Header.Set("X-Payscore-Sim-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return creds, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// The simulator's answer says why ("requires its control token", "not this
		// simulator's"): pass it on.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		hint := "set --control-token (EXAMPLE_MERCHANT_CONTROL_TOKEN) to the simulator's --control-token"
		return creds, fmt.Errorf("%w: %s %s; %s", errRefused, resp.Status, strings.TrimSpace(string(body)), hint)
	}
	if resp.StatusCode != http.StatusOK {
		return creds, errors.New(resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&creds); err != nil {
		return creds, err
	}
	if creds.MchID == "" || creds.MerchantPrivateKeyPEM == "" || creds.APIv3Key == "" {
		return creds, errors.New("incomplete credentials")
	}
	return creds, nil
}

// ---- the merchant's own API ----

// createRequest is POST /orders: every field is optional.
type createRequest struct {
	OutOrderNo string `json:"out_order_no"`
	Amount     int    `json:"amount"` // fen; default 300
	// ServiceIntroduction is what the user sees; default 共享充电宝.
	ServiceIntroduction string `json:"service_introduction"`
}

// handleCreate creates a confirm-mode Pay Score order and answers what the front end passes to
// wx.openBusinessView.
func (m *Merchant) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	if req.Amount == 0 {
		req.Amount = 300
	}
	if req.Amount < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "amount must be positive (fen)"})
		return
	}
	if req.OutOrderNo == "" {
		req.OutOrderNo = newOutOrderNo()
	}
	if req.ServiceIntroduction == "" {
		req.ServiceIntroduction = "共享充电宝"
	}
	rsp, err := m.client.V3ScoreOrderCreate(r.Context(), gopay.BodyMap{
		"out_order_no":         req.OutOrderNo,
		"appid":                m.creds.AppID,
		"service_id":           m.creds.ServiceID,
		"service_introduction": req.ServiceIntroduction,
		"post_payments":        []map[string]any{{"name": "服务费", "amount": req.Amount, "count": 1}},
		"time_range":           map[string]any{"start_time": "OnAccept"},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": max(req.Amount, 9900)},
		"notify_url":           m.NotifyURL(),
		"need_user_confirm":    true,
	})
	if !m.wechatOK(w, "create", err, func() (int, string) { return rsp.Code, rsp.Error }) {
		return
	}
	o := &order{OutOrderNo: req.OutOrderNo, OrderID: rsp.Response.OrderId, Amount: req.Amount, Package: rsp.Response.Package, CreatedAt: time.Now()}
	m.mu.Lock()
	m.orders[o.OutOrderNo] = o
	m.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"out_order_no": o.OutOrderNo,
		"order_id":     o.OrderID,
		"state":        rsp.Response.State,
		"package":      o.Package,
		// What the mini-program passes to wx.openBusinessView (and the simulator's
		// POST /sim/v1/visits takes as it is).
		"open_business_view": map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": o.Package}},
	})
}

// completeRequest is POST /orders/{no}/complete: the amount defaults to the created one.
type completeRequest struct {
	Amount int `json:"amount"`
}

// handleComplete ends the service and asks WeChat Pay to collect the amount.
func (m *Merchant) handleComplete(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	m.mu.Lock()
	o := m.orders[no]
	m.mu.Unlock()
	if o == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "this merchant created no order " + no})
		return
	}
	req := completeRequest{Amount: o.Amount}
	if !decodeOptional(w, r, &req) {
		return
	}
	rsp, err := m.client.V3ScoreOrderComplete(r.Context(), no, gopay.BodyMap{
		"appid":         m.creds.AppID,
		"service_id":    m.creds.ServiceID,
		"post_payments": []map[string]any{{"name": "服务费", "amount": req.Amount, "count": 1}},
		"total_amount":  req.Amount,
		"time_range":    map[string]any{"end_time": chinaTime(time.Now())},
	})
	if !m.wechatOK(w, "complete", err, func() (int, string) { return rsp.Code, rsp.Error }) {
		return
	}
	// DOING/MCH_COMPLETE: the amount is fixed, and Pay Score deducts it afterwards. Nothing is
	// paid yet; USER_PAID will say when it is.
	writeJSON(w, http.StatusOK, map[string]any{
		"out_order_no":      no,
		"state":             rsp.Response.State,
		"state_description": rsp.Response.StateDescription,
		"total_amount":      rsp.Response.TotalAmount,
		"paid":              false,
	})
}

// handleGet answers the order as WeChat Pay knows it, with the notifications received for it.
func (m *Merchant) handleGet(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	// Read before the query, so that a paid_at shown goes with a query made after it.
	paidAt := m.paidAt(no)
	rsp, err := m.client.V3ScoreOrderQuery(r.Context(), wechat.OutTradeNo, m.creds.AppID, no, m.creds.ServiceID)
	if !m.wechatOK(w, "query", err, func() (int, string) { return rsp.Code, rsp.Error }) {
		return
	}
	q := rsp.Response
	out := map[string]any{
		"out_order_no":      q.OutOrderNo,
		"order_id":          q.OrderId,
		"state":             q.State,
		"state_description": q.StateDescription,
		"total_amount":      q.TotalAmount,
		"collection":        q.Collection,
		"paid_at":           paidAt,
		"notifications":     m.notificationsOf(no),
	}
	writeJSON(w, http.StatusOK, out)
}

func (m *Merchant) handleNotifications(w http.ResponseWriter, r *http.Request) {
	if no := r.URL.Query().Get("out_order_no"); no != "" {
		writeJSON(w, http.StatusOK, map[string]any{"data": m.notificationsOf(no)})
		return
	}
	m.mu.Lock()
	list := append([]*notification{}, m.notifications...)
	m.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// paidAt is when USER_PAID told the merchant the order was paid, or nil.
func (m *Merchant) paidAt(no string) *time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.orders[no]; o != nil {
		return o.PaidAt
	}
	return nil
}

func (m *Merchant) notificationsOf(no string) []*notification {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := []*notification{}
	for _, n := range m.notifications {
		if n.OutOrderNo == no {
			list = append(list, n)
		}
	}
	return list
}

// ---- the notify_url ----

// handleNotify verifies a notification's signature with the platform key its
// Wechatpay-Serial names, decrypts its resource with the APIv3 key and records it. It answers
// 200 only when both succeed; WeChat Pay retries anything else.
func (m *Merchant) handleNotify(w http.ResponseWriter, r *http.Request) {
	n, err := m.readNotification(r)
	n.ReceivedAt = time.Now()
	if err != nil {
		n.Error = err.Error()
	}
	n.Verified = err == nil
	m.mu.Lock()
	for _, seen := range m.notifications {
		n.Duplicate = n.Duplicate || (n.Verified && seen.Verified && seen.ID == n.ID)
	}
	m.notifications = append(m.notifications, n)
	if o := m.orders[n.OutOrderNo]; o != nil && n.Verified && n.EventType == "PAYSCORE.USER_PAID" && o.PaidAt == nil {
		// The rental is paid: this is where a real back end releases the deposit, issues the
		// receipt, and so on.
		o.PaidAt = &n.ReceivedAt
	}
	m.mu.Unlock()
	if err != nil {
		m.cfg.Logger.Warn("notification refused", "err", err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "FAIL", "message": err.Error()})
		return
	}
	m.cfg.Logger.Info("notification", "id", n.ID, "event_type", n.EventType, "out_order_no", n.OutOrderNo, "state", n.State, "duplicate", n.Duplicate)
	writeJSON(w, http.StatusOK, map[string]string{"code": "SUCCESS", "message": "成功"})
}

func (m *Merchant) readNotification(r *http.Request) (*notification, error) {
	req, err := wechat.V3ParseNotify(r)
	if err != nil {
		return &notification{}, fmt.Errorf("parse: %w", err)
	}
	n := &notification{ID: req.Id, EventType: req.EventType}
	key, err := m.platformKey(req.SignInfo.HeaderSerial)
	if err != nil {
		return n, err
	}
	if err := req.VerifySignByPK(key); err != nil {
		return n, fmt.Errorf("signature: %w", err)
	}
	// gopay does not look at the time; a replayed old notification is refused here.
	ts, err := strconv.ParseInt(req.SignInfo.HeaderTimestamp, 10, 64)
	if skew := time.Since(time.Unix(ts, 0)); err != nil || skew > maxSkew || skew < -maxSkew {
		return n, fmt.Errorf("Wechatpay-Timestamp %q is more than %s away from now", req.SignInfo.HeaderTimestamp, maxSkew)
	}
	switch req.EventType {
	case "PAYSCORE.USER_OPEN_SERVICE", "PAYSCORE.USER_CLOSE_SERVICE":
		res, err := req.DecryptScorePermissionCipherText(m.creds.APIv3Key)
		if err != nil {
			return n, fmt.Errorf("decrypt: %w", err)
		}
		n.OutOrderNo, n.State = res.OutOrderNo, res.UserServiceStatus
		n.Resource, _ = json.Marshal(res)
	default: // PAYSCORE.USER_CONFIRM, PAYSCORE.USER_PAID
		res, err := req.DecryptScoreCipherText(m.creds.APIv3Key)
		if err != nil {
			return n, fmt.Errorf("decrypt: %w", err)
		}
		n.OutOrderNo, n.State, n.StateDescription, n.TotalAmount = res.OutOrderNo, res.State, res.StateDescription, res.TotalAmount
		if res.Collection != nil {
			n.CollectionState = res.Collection.State
		}
		n.Resource, _ = json.Marshal(res)
	}
	return n, nil
}

// maxSkew is how far a notification's Wechatpay-Timestamp may be from now, as WeChat Pay's own
// SDKs allow.
const maxSkew = 5 * time.Minute

// platformKey is the platform certificate's key that serial names, as gopay downloaded them.
func (m *Merchant) platformKey(serial string) (*rsa.PublicKey, error) {
	if key, ok := m.client.WxPublicKeyMap()[serial]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("signature: Wechatpay-Serial %q is not a platform certificate this merchant downloaded", serial)
}

// ---- helpers ----

// wechatOK answers a failed gopay call (a Go error, or WeChat's refusal passed on) and
// reports whether the call succeeded.
// outcome reads the fields every gopay response has: Code (0 for HTTP 200, else the HTTP
// status) and Error (the body of a refusal); it is called only when err is nil.
func (m *Merchant) wechatOK(w http.ResponseWriter, op string, err error, outcome func() (int, string)) bool {
	if err != nil {
		m.cfg.Logger.Error(op, "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": op + ": " + err.Error()})
		return false
	}
	code, body := outcome()
	if code == wechat.Success {
		return true
	}
	var refusal json.RawMessage
	if json.Valid([]byte(body)) {
		refusal = json.RawMessage(body)
	}
	writeJSON(w, http.StatusBadGateway, map[string]any{
		"error": fmt.Sprintf("%s: WeChat Pay answered HTTP %d", op, code), "wechat": refusal,
	})
	return false
}

func decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newOutOrderNo is a fresh out_order_no: EXM, the time, and random hex.
func newOutOrderNo() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "EXM" + chinaTime(time.Now()) + hex.EncodeToString(b)
}

// chinaTime formats t as WeChat's yyyyMMddHHmmss, which is China Standard Time.
func chinaTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*60*60)).Format("20060102150405")
}
