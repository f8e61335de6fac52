// Package bench measures the simulator against a floor (package floor), over loopback, with
// signed requests as an SDK sends them. The benchmarks (go test -bench . ./bench) and the load
// generator (go run ./bench/load) share what is here: the signing client, the request bodies
// and the populate helper. Nothing here runs in a plain go test ./...
//
// Every figure is reported beside the floor's, measured in the same run, because the machines
// this runs on are shared and noisy.
package bench

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// NewClient returns a client that signs as the demo merchant and verifies every response's
// signature, as an SDK does, over a transport that keeps up to conns connections alive (the
// default keeps 2, which would make every client beyond the second dial per call).
func NewClient(baseURL string, conns int) (*client.Client, error) {
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		return nil, err
	}
	platform, err := wxcrypto.ParseCertificate(fixtures.PlatformCertPEM)
	if err != nil {
		return nil, err
	}
	pub, err := wxcrypto.ParsePublicKey(fixtures.PublicKeyModePublicPEM)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns + 4
	tr.MaxIdleConnsPerHost = conns + 4
	return &client.Client{
		BaseURL: baseURL, MchID: fixtures.DemoMchID, Serial: fixtures.DemoMerchantSerial, Key: key,
		Verify: map[string]*rsa.PublicKey{
			fixtures.PlatformSerial: platform.PublicKey.(*rsa.PublicKey),
			fixtures.PublicKeyID:    pub,
		},
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}, nil
}

// CreatePath is the path of create and of query.
const CreatePath = "/v3/payscore/serviceorder"

// CreateRequest is a valid create of the demo merchant, the shape of the documentation's
// example (post payments and discounts, risk fund, time range, attach).
func CreateRequest(outOrderNo string, now time.Time) simulator.CreateOrderRequest {
	return simulator.CreateOrderRequest{
		OutOrderNo: outOrderNo, AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID,
		ServiceIntroduction: "共享充电宝",
		PostPayments:        []simulator.PostPayment{{Name: "租借费", Amount: ptr[int64](300), Description: ptr("每小时3元"), Count: ptr[int64](1)}},
		PostDiscounts:       []simulator.PostDiscount{{Name: "新用户优惠", Description: ptr("首单减1元")}},
		TimeRange:           &simulator.TimeRange{StartTime: "OnAccept", EndTime: simulator.FormatCompact(now.Add(2 * time.Hour))},
		RiskFund:            &simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 9900, Description: ptr("充电宝押金")},
		Attach:              ptr("bench"),
		NotifyURL:           "https://merchant.example.com/payscore/notify",
		NeedUserConfirm:     ptr(true),
	}
}

func ptr[T any](v T) *T { return &v }

// CreateBody is CreateRequest as JSON.
func CreateBody(outOrderNo string, now time.Time) []byte {
	b, err := json.Marshal(CreateRequest(outOrderNo, now))
	if err != nil {
		panic(err) // a fixed struct of strings and numbers always encodes
	}
	return b
}

// QueryTarget is the signed target of a query of the demo merchant's order outOrderNo.
func QueryTarget(outOrderNo string) string {
	return CreatePath + "?" + url.Values{
		"out_order_no": {outOrderNo}, "service_id": {fixtures.DemoServiceID}, "appid": {fixtures.DemoAppID},
	}.Encode()
}

// OrderNo is the out_order_no of the i-th order of a run named prefix.
func OrderNo(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// Create sends one signed create and checks it succeeded.
func Create(ctx context.Context, c *client.Client, outOrderNo string) error {
	return expectOK(c.Do(ctx, http.MethodPost, CreatePath, CreateBody(outOrderNo, time.Now())))
}

// Query sends one signed query and checks it succeeded.
func Query(ctx context.Context, c *client.Client, outOrderNo string) error {
	return expectOK(c.Do(ctx, http.MethodGet, QueryTarget(outOrderNo), nil))
}

func expectOK(r *client.Response, err error) error {
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("status %d: %s", r.Status, r.Body)
	}
	return nil
}

// Populate adds orders OrderNo(prefix, from) to OrderNo(prefix, to-1) of the demo merchant to
// the database file at path. Each order is made by simulator.Service.CreateOrder, the API's own
// path minus HTTP, signing and the request log, whose store call is caught and the orders
// saved by sqlite.DB.ImportOrders, batchSize to a transaction, from workers goroutines.
// progress, when not nil, is called after each batch with the count done.
func Populate(ctx context.Context, path, prefix string, from, to, workers int, progress func(done int)) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		return err
	}
	merchants := &simulator.Merchants{}
	merchants.Add(demo)
	const batchSize = 500
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		errOnce    sync.Once
		firstErr   error
	)
	next.Store(int64(from))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) { errOnce.Do(func() { firstErr = err; cancel() }) }
	for range max(workers, 1) {
		wg.Go(func() {
			batch := &batchStore{DB: db}
			svc, err := simulator.NewService(simulator.Stores{
				Orders: batch, Visits: db, Permissions: db, Notifications: db, ClockStore: db, MerchantStore: db,
			}, merchants)
			if err != nil {
				fail(err)
				return
			}
			for ctx.Err() == nil {
				first := int(next.Add(batchSize) - batchSize)
				if first >= to {
					return
				}
				batch.orders = batch.orders[:0]
				for i := first; i < min(first+batchSize, to); i++ {
					if _, err := svc.CreateOrder(ctx, demo, CreateRequest(OrderNo(prefix, i), time.Now())); err != nil {
						fail(err)
						return
					}
				}
				if err := db.ImportOrders(ctx, batch.orders); err != nil {
					fail(err)
					return
				}
				if d := done.Add(int64(len(batch.orders))); progress != nil {
					progress(int(d))
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// batchStore collects the orders a Service creates instead of storing them one by one.
type batchStore struct {
	*sqlite.DB
	orders []*simulator.Order
}

func (b *batchStore) CreateOrder(_ context.Context, o *simulator.Order) (*simulator.Order, bool, error) {
	b.orders = append(b.orders, o)
	return o, true, nil
}

// Result is a measured series of calls.
type Result struct {
	Calls int
	Wall  time.Duration   // summed over the series' blocks
	Lat   []time.Duration // sorted, one per call
}

// Rate is calls per second of wall time.
func (r Result) Rate() float64 { return float64(r.Calls) / r.Wall.Seconds() }

// Pct returns the latency at quantile q (0.5 for the median, 0.99 for p99).
func (r Result) Pct(q float64) time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	return r.Lat[min(len(r.Lat)-1, int(float64(len(r.Lat))*q))]
}

// Add appends o to r.
func (r *Result) Add(o Result) {
	r.Calls += o.Calls
	r.Wall += o.Wall
	r.Lat = append(r.Lat, o.Lat...)
	slices.Sort(r.Lat)
}

// Drive makes n calls from conc goroutines, call(i) for i in 0..n-1, and times each.
func Drive(ctx context.Context, conc, n int, call func(i int) error) (Result, error) {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		all     = make([]time.Duration, 0, n)
		errOnce sync.Once
		first   error
	)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			lat := make([]time.Duration, 0, n/conc+1)
			defer func() {
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				if err := call(i); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				lat = append(lat, time.Since(t))
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if first != nil {
		return Result{}, first
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	slices.Sort(all)
	return Result{Calls: n, Wall: wall, Lat: all}, nil
}

// Compare makes n calls to each of ref and subject from conc goroutines, in alternating
// blocks of block calls (the first block of each pair alternating too), so that a busy moment
// of a shared machine falls on both alike. Each block starts with no call in flight.
func Compare(ctx context.Context, conc, n, block int, ref, subject func(i int) error) (refResult, subjectResult Result, err error) {
	block = max(block, conc)
	for done, k := 0, 0; done < n; k++ {
		m := min(block, n-done)
		pair := []struct {
			call func(int) error
			into *Result
		}{{ref, &refResult}, {subject, &subjectResult}}
		if k%2 == 1 {
			pair[0], pair[1] = pair[1], pair[0]
		}
		for _, p := range pair {
			r, err := Drive(ctx, conc, m, func(i int) error { return p.call(done + i) })
			if err != nil {
				return refResult, subjectResult, err
			}
			p.into.Add(r)
		}
		done += m
	}
	return refResult, subjectResult, nil
}
