package sqlite_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

func ptr[T any](v T) *T { return &v }

var created = time.Date(2025, 3, 14, 15, 9, 26, 535897932, simulator.ChinaTime)

// minimalOrder has every optional member absent: nil slices, pointers and RawMessage.
func minimalOrder(mchid, outOrderNo string) *simulator.Order {
	return &simulator.Order{
		MchID:      mchid,
		OutOrderNo: outOrderNo,
		State:      simulator.StateCreated,
		OrderID:    "order-" + mchid + "-" + outOrderNo,
	}
}

// fullOrder has every member set.
func fullOrder(mchid, outOrderNo string) *simulator.Order {
	return &simulator.Order{
		AppID:               "wxd678efh567hg6787",
		MchID:               mchid,
		OutOrderNo:          outOrderNo,
		ServiceID:           "500001",
		ServiceIntroduction: "某某酒店",
		State:               simulator.StateDoing,
		StateDescription:    simulator.MchComplete,
		PostPayments: []simulator.PostPayment{
			{Name: "就餐费用", Amount: ptr[int64](40000), Description: ptr("就餐人均100元"), Count: ptr[int64](4)},
			{Name: "只有名字"},
		},
		PostDiscounts: []simulator.PostDiscount{
			{Name: "满20减1元", Description: ptr("不与其他优惠叠加"), Amount: ptr[int64](100), Count: ptr[int64](2)},
		},
		RiskFund:       simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 10000, Description: ptr("就餐的预估费用")},
		TotalAmount:    39800,
		NeedCollection: true,
		Collection: &simulator.Collection{
			State: simulator.UserPaid, TotalAmount: 39800, PayingAmount: 0, PaidAmount: 39800,
			Details: []simulator.CollectionDetail{{
				Seq: 1, Amount: 39800, PaidType: simulator.PaidTypeNewton,
				PaidTime: "20091225091210", TransactionID: "15646546545165651651",
			}},
		},
		TimeRange: simulator.TimeRange{
			StartTime: "20091225091010", EndTime: "20091225121010",
			StartTimeRemark: ptr("备注1"), EndTimeRemark: ptr("备注2"),
		},
		Location:  &simulator.Location{StartLocation: ptr("嗨客时尚主题展餐厅"), EndLocation: ptr("嗨客时尚主题展餐厅")},
		Attach:    ptr("Easdfowealsdkjfnlaksjdlfkwqoi&wl3l2sald"),
		NotifyURL: "https://api.test.com",
		OpenID:    "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		OrderID:   "15646546545165651651" + mchid + outOrderNo,
		Device:    &simulator.Device{StartDeviceID: ptr("HG123456"), EndDeviceID: ptr("HG123456"), MaterielNo: ptr("example_materiel_no")},
		Sim: simulator.OrderRecord{
			NeedUserConfirm: true,
			Package:         "AAQTnZoAAAAB-" + mchid + "-" + outOrderNo,
			CreatedAt:       created,
			UpdatedAt:       created.Add(time.Hour + time.Nanosecond),
			CreateParams:    json.RawMessage(`{"out_order_no": "` + outOrderNo + `", "attach": "<a&b>"}`),
			CancelReason:    "用户取消",
			Warnings:        []string{"notify_url uses http"},
		},
	}
}

// emptyOrder has every optional member present but empty, as production echoes them: [], {}
// and "".
func emptyOrder(mchid, outOrderNo string) *simulator.Order {
	o := minimalOrder(mchid, outOrderNo)
	o.PostPayments = []simulator.PostPayment{{Name: "x", Description: ptr("")}}
	o.PostDiscounts = []simulator.PostDiscount{}
	o.RiskFund.Description = ptr("")
	o.Collection = &simulator.Collection{Details: []simulator.CollectionDetail{}}
	o.TimeRange.StartTimeRemark = ptr("")
	o.Location = &simulator.Location{}
	o.Attach = ptr("")
	o.Device = &simulator.Device{StartDeviceID: ptr("")}
	o.Sim.CreateParams = json.RawMessage(`{}`)
	o.Sim.Warnings = []string{}
	return o
}

// assertSameOrder fails unless got is want, see orderDiff.
func assertSameOrder(t *testing.T, got, want *simulator.Order) {
	t.Helper()
	if diff := orderDiff(got, want); diff != "" {
		t.Error(diff)
	}
}

// orderDiff compares orders exactly, telling nil from empty, and their wire forms byte for
// byte. Times are compared as instants, since a time's monotonic reading and *Location cannot
// survive storage.
func orderDiff(got, want *simulator.Order) string {
	if got == nil {
		return "got a nil order"
	}
	gotWire, err := json.Marshal(got)
	if err != nil {
		return err.Error()
	}
	wantWire, err := json.Marshal(want)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(gotWire, wantWire) {
		return fmt.Sprintf("wire form changed:\n got %s\nwant %s", gotWire, wantWire)
	}
	if !got.Sim.CreatedAt.Equal(want.Sim.CreatedAt) || !got.Sim.UpdatedAt.Equal(want.Sim.UpdatedAt) {
		return fmt.Sprintf("times changed: got %v/%v, want %v/%v", got.Sim.CreatedAt, got.Sim.UpdatedAt, want.Sim.CreatedAt, want.Sim.UpdatedAt)
	}
	g := *got
	g.Sim.CreatedAt, g.Sim.UpdatedAt = want.Sim.CreatedAt, want.Sim.UpdatedAt
	if !reflect.DeepEqual(&g, want) {
		return fmt.Sprintf("order changed:\n got %s\nwant %s", dump(&g), dump(want))
	}
	return ""
}

// dump shows an order with nil told apart from empty, which %+v does not do for slices.
func dump(o *simulator.Order) string {
	return fmt.Sprintf("%#v\nsim %#v", *o, o.Sim)
}

func TestOrderRoundTrip(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		for name, want := range map[string]*simulator.Order{
			"full":    fullOrder("m1", "full"),
			"empty":   emptyOrder("m1", "empty"),
			"minimal": minimalOrder("m1", "minimal"),
		} {
			t.Run(name, func(t *testing.T) {
				stored, created, err := db.CreateOrder(ctx, want)
				if err != nil || !created {
					t.Fatalf("CreateOrder: created %v, err %v", created, err)
				}
				assertSameOrder(t, stored, want)

				got, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: want.OutOrderNo})
				if err != nil {
					t.Fatal(err)
				}
				assertSameOrder(t, got, want)

				got, err = db.UpdateOrder(ctx, "m1", want.OutOrderNo, func(*simulator.Order) error { return nil })
				if err != nil {
					t.Fatal(err)
				}
				assertSameOrder(t, got, want)
				got, err = db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: want.OutOrderNo})
				if err != nil {
					t.Fatal(err)
				}
				assertSameOrder(t, got, want)

				if want.Sim.Package != "" {
					got, err = db.FindOrderByPackage(ctx, want.Sim.Package)
					if err != nil {
						t.Fatal(err)
					}
					assertSameOrder(t, got, want)
				}
			})
		}
	})
	// The comparison must be able to fail on what a store could lose.
	for name, change := range map[string]func(*simulator.Order){
		"[] to nil":         func(o *simulator.Order) { o.PostDiscounts = nil },
		"{} to nil":         func(o *simulator.Order) { o.Location = nil },
		`"" to nil`:         func(o *simulator.Order) { o.Attach = nil },
		"sim [] to nil":     func(o *simulator.Order) { o.Sim.Warnings = nil },
		"sim raw to null":   func(o *simulator.Order) { o.Sim.CreateParams = json.RawMessage("null") },
		"sim raw compacted": func(o *simulator.Order) { o.Sim.CreateParams = json.RawMessage("{ }") },
		"updated_at moved":  func(o *simulator.Order) { o.Sim.UpdatedAt = o.Sim.UpdatedAt.Add(1) },
		"cancel_reason set": func(o *simulator.Order) { o.Sim.CancelReason = "x" },
	} {
		o := emptyOrder("m", "o")
		change(o)
		if orderDiff(o, emptyOrder("m", "o")) == "" {
			t.Errorf("orderDiff misses %s", name)
		}
	}
}

func TestCreateOrderTwiceReturnsTheFirst(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		first := fullOrder("m1", "o1")
		if _, created, err := db.CreateOrder(ctx, first); err != nil || !created {
			t.Fatalf("first CreateOrder: created %v, err %v", created, err)
		}
		second := fullOrder("m1", "o1")
		second.OrderID, second.Sim.Package, second.ServiceIntroduction = "other", "other", "other"
		stored, created, err := db.CreateOrder(ctx, second)
		if err != nil || created {
			t.Fatalf("second CreateOrder: created %v, err %v", created, err)
		}
		assertSameOrder(t, stored, first)
		if orders, _ := db.ListOrders(ctx, simulator.OrderFilter{}); len(orders) != 1 {
			t.Fatalf("%d orders stored, want 1", len(orders))
		}

		// Another merchant may use the same out_order_no.
		if _, created, err := db.CreateOrder(ctx, fullOrder("m2", "o1")); err != nil || !created {
			t.Fatalf("other merchant's CreateOrder: created %v, err %v", created, err)
		}
		// Orders without a package do not collide with one another.
		for _, no := range []string{"np1", "np2"} {
			if _, created, err := db.CreateOrder(ctx, minimalOrder("m1", no)); err != nil || !created {
				t.Fatalf("CreateOrder without package: created %v, err %v", created, err)
			}
		}
	})
}

func TestCreateOrderCollisions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		if _, _, err := db.CreateOrder(ctx, fullOrder("m1", "o1")); err != nil {
			t.Fatal(err)
		}
		sameOrderID := fullOrder("m1", "o2")
		sameOrderID.OrderID = fullOrder("m1", "o1").OrderID
		samePackage := fullOrder("m1", "o3")
		samePackage.Sim.Package = fullOrder("m1", "o1").Sim.Package
		for name, o := range map[string]*simulator.Order{"order_id": sameOrderID, "package": samePackage} {
			stored, created, err := db.CreateOrder(ctx, o)
			if err == nil || created || stored != nil {
				t.Errorf("%s collision: stored %v, created %v, err %v", name, stored != nil, created, err)
			}
			if code := simulator.ErrorCode(err); code != simulator.CodeSystemError {
				t.Errorf("%s collision reported as %s, want an internal error", name, code)
			}
		}
		if orders, _ := db.ListOrders(ctx, simulator.OrderFilter{}); len(orders) != 1 {
			t.Fatalf("%d orders stored, want 1", len(orders))
		}
	})
}

func TestConcurrentCreateOrderCreatesOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		const n = 20
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			creates int
		)
		for i := range n {
			wg.Go(func() {
				o := fullOrder("m1", "o1")
				o.OrderID, o.Sim.Package = fmt.Sprint("id", i), fmt.Sprint("pkg", i)
				_, created, err := db.CreateOrder(t.Context(), o)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if created {
					creates++
				}
			})
		}
		wg.Wait()
		if creates != 1 {
			t.Fatalf("%d concurrent creates reported created, want 1", creates)
		}
	})
}

func assertNotExist(t *testing.T, err error, key, value string) {
	t.Helper()
	e, ok := err.(*simulator.Error)
	if !ok {
		t.Fatalf("err = %v (%T), want a *simulator.Error", err, err)
	}
	want := map[string]any{key: value}
	if e.Code != simulator.CodeOrderNotExist || e.Message != "订单不存在" || !reflect.DeepEqual(e.Detail, want) {
		t.Fatalf("err = %s %s %v, want ORDER_NOT_EXIST 订单不存在 %v", e.Code, e.Message, e.Detail, want)
	}
}

func TestFindOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		want := fullOrder("m1", "o1")
		if _, _, err := db.CreateOrder(ctx, want); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.CreateOrder(ctx, fullOrder("m2", "o2")); err != nil {
			t.Fatal(err)
		}
		addQueryIDs(t, db, want, "q1", "q2")

		for _, key := range []simulator.OrderKey{{OutOrderNo: "o1"}, {QueryID: "q1"}, {QueryID: "q2"}} {
			got, err := db.FindOrder(ctx, "m1", key)
			if err != nil {
				t.Fatalf("FindOrder(%+v): %v", key, err)
			}
			assertSameOrder(t, got, want)
		}

		_, err := db.FindOrder(ctx, "m2", simulator.OrderKey{QueryID: "q1"})
		assertNotExist(t, err, "query_id", "q1")
		_, err = db.FindOrder(ctx, "m2", simulator.OrderKey{OutOrderNo: "o1"})
		assertNotExist(t, err, "out_order_no", "o1")
		_, err = db.FindOrder(ctx, "m1", simulator.OrderKey{QueryID: "nope"})
		assertNotExist(t, err, "query_id", "nope")
		_, err = db.FindOrderByPackage(ctx, "nope")
		assertNotExist(t, err, "package", "nope")
		_, err = db.FindOrderByPackage(ctx, "")
		assertNotExist(t, err, "package", "")

		for _, key := range []simulator.OrderKey{{}, {OutOrderNo: "o1", QueryID: "q1"}} {
			if _, err := db.FindOrder(ctx, "m1", key); err == nil {
				t.Errorf("FindOrder(%+v) succeeded, want an error", key)
			}
		}
	})
}

// addQueryIDs names want by more query_ids, saving them the way the visit's return does.
func addQueryIDs(t *testing.T, db *sqlite.DB, want *simulator.Order, qs ...string) {
	t.Helper()
	want.Sim.QueryIDs = append(want.Sim.QueryIDs, qs...)
	if _, err := db.UpdateOrder(t.Context(), want.MchID, want.OutOrderNo, func(o *simulator.Order) error {
		o.Sim.QueryIDs = want.Sim.QueryIDs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestQueryIDsSavedWithOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		want := fullOrder("m1", "o1")
		if _, _, err := db.CreateOrder(ctx, want); err != nil {
			t.Fatal(err)
		}
		addQueryIDs(t, db, want, "q1")
		// Saving again keeps the query_ids saved before.
		addQueryIDs(t, db, want, "q2")
		for _, q := range []string{"q1", "q2"} {
			got, err := db.FindOrder(ctx, "m1", simulator.OrderKey{QueryID: q})
			if err != nil {
				t.Fatalf("FindOrder(query_id %s): %v", q, err)
			}
			assertSameOrder(t, got, want)
		}
		_, err := db.FindOrder(ctx, "m2", simulator.OrderKey{QueryID: "q1"})
		assertNotExist(t, err, "query_id", "q1")
	})
}

func TestUpdateOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		before := fullOrder("m1", "o1")
		if _, _, err := db.CreateOrder(ctx, before); err != nil {
			t.Fatal(err)
		}
		later := created.Add(24 * time.Hour)
		saved, err := db.UpdateOrder(ctx, "m1", "o1", func(o *simulator.Order) error {
			o.State = simulator.StateRevoked
			o.Sim.CancelReason = "changed my mind"
			o.Sim.Package = "new-package"
			o.Sim.UpdatedAt = later
			o.Attach = nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := fullOrder("m1", "o1")
		want.State, want.Sim.CancelReason, want.Sim.Package, want.Sim.UpdatedAt, want.Attach =
			simulator.StateRevoked, "changed my mind", "new-package", later, nil
		assertSameOrder(t, saved, want)
		got, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"})
		if err != nil {
			t.Fatal(err)
		}
		assertSameOrder(t, got, want)

		// The columns follow the data.
		if got, err := db.FindOrderByPackage(ctx, "new-package"); err != nil || got.OutOrderNo != "o1" {
			t.Fatalf("FindOrderByPackage(new package): %v", err)
		}
		_, err = db.FindOrderByPackage(ctx, before.Sim.Package)
		assertNotExist(t, err, "package", before.Sim.Package)
		for state, n := range map[simulator.OrderState]int{simulator.StateRevoked: 1, simulator.StateDoing: 0} {
			if orders, err := db.ListOrders(ctx, simulator.OrderFilter{State: state}); err != nil || len(orders) != n {
				t.Errorf("ListOrders(%s) = %d orders, err %v; want %d", state, len(orders), err, n)
			}
		}
	})
}

func TestUpdateOrderErrorSavesNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		want := fullOrder("m1", "o1")
		if _, _, err := db.CreateOrder(ctx, want); err != nil {
			t.Fatal(err)
		}
		refusal := simulator.Errorf(simulator.CodeInvalidOrderState, "订单状态错误")
		got, err := db.UpdateOrder(ctx, "m1", "o1", func(o *simulator.Order) error {
			o.State = simulator.StateDone
			o.Sim.Package = "changed"
			o.TotalAmount = 1
			return refusal
		})
		if err != refusal || got != nil {
			t.Fatalf("UpdateOrder returned %v, %v; want nil and fn's error unchanged", got, err)
		}
		stored, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"})
		if err != nil {
			t.Fatal(err)
		}
		assertSameOrder(t, stored, want)
		if orders, _ := db.ListOrders(ctx, simulator.OrderFilter{State: simulator.StateDone}); len(orders) != 0 {
			t.Fatal("the state column changed although fn failed")
		}

		// A failed update must not leave the write lock behind.
		if _, err := db.UpdateOrder(ctx, "m1", "o1", func(*simulator.Order) error { return nil }); err != nil {
			t.Fatalf("update after a refused one: %v", err)
		}
	})
}

func TestUpdateOrderNotFoundAndKeyChange(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		called := false
		_, err := db.UpdateOrder(ctx, "m1", "nope", func(*simulator.Order) error { called = true; return nil })
		assertNotExist(t, err, "out_order_no", "nope")
		if called {
			t.Error("fn called for a missing order")
		}

		if _, _, err := db.CreateOrder(ctx, fullOrder("m1", "o1")); err != nil {
			t.Fatal(err)
		}
		_, err = db.UpdateOrder(ctx, "m1", "o1", func(o *simulator.Order) error { o.OutOrderNo = "o2"; return nil })
		if err == nil {
			t.Fatal("UpdateOrder let fn rename the order")
		}
		if _, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"}); err != nil {
			t.Fatalf("order lost after a refused rename: %v", err)
		}
	})
}

func TestConcurrentUpdatesQueue(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		if _, _, err := db.CreateOrder(ctx, minimalOrder("m1", "o1")); err != nil {
			t.Fatal(err)
		}
		const n = 50
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := db.UpdateOrder(ctx, "m1", "o1", func(o *simulator.Order) error {
					o.TotalAmount++
					return nil
				})
				if err != nil {
					t.Errorf("concurrent UpdateOrder: %v", err)
				}
			})
		}
		wg.Wait()
		o, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"})
		if err != nil {
			t.Fatal(err)
		}
		if o.TotalAmount != n {
			t.Fatalf("total_amount = %d after %d increments: updates were lost", o.TotalAmount, n)
		}
	})
}

func TestListOrders(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		add := func(mchid, no string, state simulator.OrderState, at time.Time) {
			o := minimalOrder(mchid, no)
			o.State, o.Sim.CreatedAt, o.Sim.UpdatedAt = state, at, at
			if _, _, err := db.CreateOrder(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		add("m1", "a", simulator.StateCreated, created)
		add("m1", "b", simulator.StateDoing, created.Add(2*time.Second))
		add("m2", "c", simulator.StateCreated, created.Add(time.Second))
		add("m1", "d", simulator.StateCreated, created.Add(time.Second)) // same time as c, inserted later

		for _, tc := range []struct {
			f    simulator.OrderFilter
			want []string
		}{
			{simulator.OrderFilter{}, []string{"b", "d", "c", "a"}},
			{simulator.OrderFilter{MchID: "m1"}, []string{"b", "d", "a"}},
			{simulator.OrderFilter{State: simulator.StateCreated}, []string{"d", "c", "a"}},
			{simulator.OrderFilter{MchID: "m1", State: simulator.StateCreated}, []string{"d", "a"}},
			{simulator.OrderFilter{MchID: "m3"}, nil},
			{simulator.OrderFilter{Limit: 2}, []string{"b", "d"}},
		} {
			orders, err := db.ListOrders(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range orders {
				got = append(got, o.OutOrderNo)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ListOrders(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		}
	})
}

func TestListLimits(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, ":memory:")
	for i := range 1001 {
		if _, _, err := db.CreateOrder(ctx, minimalOrder("m1", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if err := db.LogRequest(ctx, &simulator.RequestRecord{Method: "GET", Target: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	for limit, want := range map[int]int{0: 100, -1: 100, 7: 7, 1000: 1000, 5000: 1000} {
		orders, err := db.ListOrders(ctx, simulator.OrderFilter{Limit: limit})
		if err != nil || len(orders) != want {
			t.Errorf("ListOrders(Limit %d) = %d orders, err %v; want %d", limit, len(orders), err, want)
		}
		records, err := db.ListRequests(ctx, simulator.RequestFilter{Limit: limit})
		if err != nil || len(records) != want {
			t.Errorf("ListRequests(Limit %d) = %d records, err %v; want %d", limit, len(records), err, want)
		}
	}
}
