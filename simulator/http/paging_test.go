package http_test

// Tests of paging on the /sim/v1 list endpoints (issue 15): each answers a page at a time with
// a "next" URL while items follow. Package-level names in this file start with paging.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// pagingField reads the string at path (object keys) in a listed item.
func pagingField(item any, path ...string) string {
	for _, k := range path {
		m, _ := item.(map[string]any)
		item = m[k]
	}
	s, _ := item.(string)
	return s
}

// pagingIDs lists the IDs of the items of one page, by path, and returns them with the page's next.
func pagingIDs(t *testing.T, sim *simtest.Sim, target string, path []string) ([]string, string) {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, target, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %v", target, status, v)
	}
	data, ok := v["data"].([]any)
	if !ok {
		t.Fatalf("GET %s: no data array: %v", target, v)
	}
	ids := make([]string, len(data))
	for i, item := range data {
		if ids[i] = pagingField(item, path...); ids[i] == "" {
			t.Fatalf("GET %s: item %d has no %v: %v", target, i, path, item)
		}
	}
	next, _ := v["next"].(string)
	return ids, next
}

// TestListEndpointsPage fills every paging list endpoint with more items than a page holds,
// then follows next from the first page to the last: every item comes exactly once, in the
// order of the whole list, the pages keep the query's filter, and the last page has no next.
// A before that is not a cursor is refused.
func TestListEndpointsPage(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	for i := range 3 {
		tid := sim.PaidOrder(t, fmt.Sprintf("PAGING-%d", i), 300, sdkNotifyURL)
		permControl(t, c, http.MethodPost, "/v3/refund/domestic/refunds", map[string]any{
			"transaction_id": tid, "out_refund_no": fmt.Sprintf("PAGING-RF-%d", i),
			"amount": map[string]any{"refund": 100, "total": 300, "currency": "CNY"},
		}, http.StatusOK, nil)
		permSeed(t, c, fmt.Sprintf("paging-openid-%d", i), "", "")
	}
	endpoints := []struct {
		path string
		id   []string
	}{
		{"/sim/v1/orders", []string{"order", "order_id"}},
		{"/sim/v1/visits", []string{"visit_id"}},
		{"/sim/v1/notifications", []string{"id"}},
		{"/sim/v1/permissions", []string{"id"}},
		{"/sim/v1/refunds", []string{"refund", "refund_id"}},
	}
	filter := "mchid=" + url.QueryEscape(fixtures.DemoMchID)
	for _, e := range endpoints {
		t.Run(strings.TrimPrefix(e.path, "/sim/v1/"), func(t *testing.T) {
			all, next := pagingIDs(t, sim, e.path+"?"+filter+"&limit=1000", e.id)
			if len(all) < 3 || next != "" {
				t.Fatalf("whole list: %d items, next %q; want at least 3 and no next", len(all), next)
			}
			for _, n := range []int{1, len(all) - 1} {
				var seen []string
				pages := 0
				for next := fmt.Sprintf("%s?%s&limit=%d", e.path, filter, n); next != ""; pages++ {
					var ids []string
					page := next
					ids, next = pagingIDs(t, sim, page, e.id)
					if next != "" && (len(ids) != n || !strings.HasPrefix(next, e.path+"?") || !strings.Contains(next, filter)) {
						t.Fatalf("limit %d: GET %s: %d items, next %q", n, page, len(ids), next)
					}
					seen = append(seen, ids...)
					if pages > len(all) {
						t.Fatalf("limit %d: more pages than items: %v", n, seen)
					}
				}
				if !slices.Equal(seen, all) {
					t.Errorf("limit %d: pages list %v, want %v", n, seen, all)
				}
				if want := (len(all) + n - 1) / n; pages != want {
					t.Errorf("limit %d: %d pages, want %d", n, pages, want)
				}
			}
			for _, bad := range []string{"!!", "%20", "a"} {
				status, v := pageControl(t, sim, http.MethodGet, e.path+"?before="+bad, nil)
				if status != http.StatusBadRequest || v["code"] != "PARAM_ERROR" || !strings.Contains(fmt.Sprint(v), "before") {
					t.Errorf("before=%s: HTTP %d %v, want 400 PARAM_ERROR naming before", bad, status, v)
				}
			}
		})
	}
}
