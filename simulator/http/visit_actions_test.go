package http_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// actionsOf reads the action names of a visit's JSON.
func actionsOf(t *testing.T, v map[string]any) []string {
	t.Helper()
	list, ok := v["actions"].([]any)
	if !ok {
		t.Fatalf("the visit has no actions list: %v", v)
	}
	names := []string{}
	for _, a := range list {
		names = append(names, a.(map[string]any)["name"].(string))
	}
	return names
}

// formActions lists the actions that forms of a page post to under prefix (the visit's page or
// the dashboard's visit row), in page order.
func formActions(t *testing.T, target, prefix string) []string {
	t.Helper()
	resp, body := pageGet(t, http.MethodGet, target)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, body)
	}
	re := regexp.MustCompile(`action="` + regexp.QuoteMeta(prefix) + `/([a-z_]+)"`)
	names := []string{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}

// pageOrder sorts names as the visit lists them: the page's own buttons, then WeChat's back
// icon (which the navigation bar shows above them) and the phone's back button (under them).
func pageOrder(names []string) []string {
	chrome := []string{"back", "android_back"}
	out := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(chrome, n) })
	for _, n := range chrome {
		if slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestVisitActionsAgree: at every step of a wxpayScoreUse and a wxpayScoreEnable visit, the
// visit's JSON, its page and (for an order's visit) the dashboard offer the same actions, and
// each step taken through one of them is accepted.
func TestVisitActionsAgree(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	get := func(id string) map[string]any {
		t.Helper()
		resp, body := pageGet(t, http.MethodGet, sim.URL+"/sim/v1/visits/"+id)
		var v map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("GET visit %s: %d %s", id, resp.StatusCode, body)
		}
		return v
	}
	agree := func(step, id string, v map[string]any, order string, want []string) {
		t.Helper()
		if got := actionsOf(t, v); !slices.Equal(got, want) {
			t.Errorf("%s: the visit's JSON offers %v, want %v", step, got, want)
		}
		if got := actionsOf(t, get(id)); !slices.Equal(got, want) {
			t.Errorf("%s: GET /sim/v1/visits/{id} offers %v, want %v", step, got, want)
		}
		if got := pageOrder(formActions(t, sim.URL+"/sim/visits/"+id, "/sim/visits/"+id)); !slices.Equal(got, want) {
			t.Errorf("%s: the page offers %v, want %v", step, got, want)
		}
		if order == "" {
			return
		}
		if got := formActions(t, sim.URL+dashOrderPath(order), "/dashboard/visits/"+id); !slices.Equal(got, want) {
			t.Errorf("%s: the dashboard offers %v, want %v", step, got, want)
		}
	}

	_, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": visitCreate(t, c, "agree-use")}})
	id := v["visit_id"].(string)
	agree("use, opened", id, v, "agree-use", []string{"confirm", "decline", "not_eligible", "back", "android_back"})
	if st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/confirm", nil); st != http.StatusOK {
		t.Fatalf("confirm: %d %v", st, v)
	} else {
		agree("use, confirmed", id, v, "agree-use", []string{"return", "back", "android_back"})
	}
	if st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/return", nil); st != http.StatusOK {
		t.Fatalf("return: %d %v", st, v)
	}
	agree("use, returned", id, get(id), "agree-use", []string{})

	_, v = visitPost(t, sim, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": visitCreate(t, c, "agree-inelig")}})
	id = v["visit_id"].(string)
	if st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/not_eligible", nil); st != http.StatusOK {
		t.Fatalf("not_eligible: %d %v", st, v)
	} else {
		agree("use, not eligible", id, v, "agree-inelig", []string{"return", "back", "android_back"})
	}

	v = visitOpenEnable(t, sim, c, "AGREE-AUTH")
	id = v["visit_id"].(string)
	agree("enable, opened", id, v, "", []string{"authorize", "return", "back", "android_back"})
	if st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/authorize", nil); st != http.StatusOK {
		t.Fatalf("authorize: %d %v", st, v)
	} else {
		agree("enable, authorized", id, v, "", []string{"return", "back", "android_back"})
	}
	if st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/back", nil); st != http.StatusOK {
		t.Fatalf("back: %d %v", st, v)
	}
	if got := actionsOf(t, get(id)); len(got) != 0 {
		t.Errorf("enable, back: offers %v after the user left", got)
	}
	if _, body := pageGet(t, http.MethodGet, sim.URL+"/sim/visits/"+id); strings.Contains(body, `id="back-button"`) {
		t.Error("the page of an ended visit still shows the back icon")
	}
}
