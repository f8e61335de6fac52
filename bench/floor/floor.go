// Package floor is the benchmarks' reference server: the least work a faithful simulator can do
// per call. It verifies one RSA-2048 request signature and signs one ~600-byte response, and
// keeps nothing. It imports no database, so its binary (bench/floorserver) is also the
// reference for start-up time and memory.
package floor

import (
	"crypto/rsa"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Handler is a bare net/http handler that does per call only what a faithful simulator cannot
// avoid: it verifies the request's SHA256-RSA2048 signature with the demo merchant's key and
// signs a fixed ~600-byte response with the platform certificate's key. It keeps nothing.
type Handler struct {
	merchantKey *rsa.PublicKey
	platformKey *rsa.PrivateKey
	serial      string
	body        []byte
}

// New parses the demo merchant's certificate and the platform key.
func New() (*Handler, error) {
	cert, err := wxcrypto.ParseCertificate(fixtures.DemoMerchantCertPEM)
	if err != nil {
		return nil, err
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.PlatformKeyPEM)
	if err != nil {
		return nil, err
	}
	return &Handler{
		merchantKey: cert.PublicKey.(*rsa.PublicKey),
		platformKey: key,
		serial:      fixtures.PlatformSerial,
		body:        Body,
	}, nil
}

// Body is the floor's answer: an order as a query returns it, about 600 bytes.
var Body = []byte(`{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_order_no":"BENCH-FLOOR-0000000001",` +
	`"service_id":"88888888000011","service_introduction":"共享充电宝","state":"CREATED","state_description":"",` +
	`"post_payments":[{"name":"租借费","amount":300,"description":"每小时3元","count":1}],` +
	`"post_discounts":[{"name":"新用户优惠","description":"首单减1元","amount":100}],` +
	`"risk_fund":{"name":"ESTIMATE_ORDER_COST","amount":9900,"description":"充电宝押金"},"total_amount":200,` +
	`"need_collection":true,"time_range":{"start_time":"20250101120000","end_time":"20250101140000"},` +
	`"attach":"bench","notify_url":"https://merchant.example.com/payscore/notify",` +
	`"order_id":"1000000000202501011200001234567","collection":{"state":"USER_PAYING","total_amount":200,"paying_amount":200,"paid_amount":0}}`)

// ServeHTTP verifies the request and answers Body, signed; /healthz answers ok.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		io.WriteString(w, "ok\n")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	auth, err := wxcrypto.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	msg := wxcrypto.RequestMessage(r.Method, r.RequestURI, auth.Timestamp, auth.NonceStr, body)
	if err := wxcrypto.VerifySHA256WithRSA(h.merchantKey, msg, auth.Signature); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := wxcrypto.NewNonce()
	sig, err := wxcrypto.SignSHA256WithRSA(h.platformKey, wxcrypto.ResponseMessage(ts, nonce, h.body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Wechatpay-Timestamp", ts)
	hdr.Set("Wechatpay-Nonce", nonce)
	hdr.Set("Wechatpay-Signature", sig)
	hdr.Set("Wechatpay-Serial", h.serial)
	hdr.Set("Wechatpay-Signature-Type", wxcrypto.AuthSchema)
	w.Write(h.body)
}

// Serve serves a Handler on a free loopback port until the returned stop is called.
func Serve() (baseURL string, stop func(), err error) {
	f, err := New()
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
