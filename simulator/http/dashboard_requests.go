package http

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard's request log (/dashboard/requests): every API request with its diagnostic.

type dashRequestsPage struct {
	MchID     string
	Failed    bool
	Limit     int
	Merchants []string
	Requests  []dashRequest
}

// dashRequest is a logged API request as the dashboard shows it.
type dashRequest struct {
	ID                              int64
	Time, MchID, Method, Target     string
	Status                          int
	Failed                          bool
	Code, Message, Duration         string
	RequestBody, ResponseBody       string
	Warnings                        []string
	Diagnostic                      []dashDiag
	SignedString, WouldMatch, Issue string
	OrderURL                        string
	// Fault marks an answer a fault rule made, so nobody takes it for a bug.
	Fault *simulator.InjectedFault
}

// dashDiag is one member of a request's diagnostic.
type dashDiag struct {
	Key, Value string
	// Block is set for a value that reads better on lines of its own.
	Block bool
}

// dashDiagFirst are the diagnostic members shown first, in this order; the rest follow by name.
var dashDiagFirst = []string{"issue", "field", "value", "location", "would_match", "key_tried", "serial_no",
	"expected_serials", "timestamp_skew_seconds", "mchid"}

func dashRequests(records []*simulator.RequestRecord) []dashRequest {
	out := make([]dashRequest, 0, len(records))
	for _, r := range records {
		out = append(out, dashRequestOf(r))
	}
	return out
}

func dashRequestOf(r *simulator.RequestRecord) dashRequest {
	d := dashRequest{
		ID: r.ID, Time: web.Time(r.Time), MchID: r.MchID, Method: r.Method, Target: r.Target,
		// Status 0: a reset fault closed the connection without an answer.
		Status: r.Status, Failed: r.Status >= 400 || r.Status == 0, Code: r.Code, Message: r.Message,
		Duration: web.Latency(r.Duration), Warnings: r.Warnings, Fault: r.Fault,
		RequestBody: web.PrettyJSON(r.RequestBody), ResponseBody: web.PrettyJSON(r.ResponseBody),
	}
	if no := requestOrderNo(r); no != "" && r.MchID != "" {
		d.OrderURL = orderPath(r.MchID, no)
	}
	keys := slices.Sorted(maps.Keys(r.Diagnostic))
	slices.SortStableFunc(keys, func(a, b string) int { return dashRank(a) - dashRank(b) })
	for _, k := range keys {
		v := detailText(r.Diagnostic[k])
		switch k {
		case "signed_string":
			d.SignedString = v
			continue
		case "would_match":
			d.WouldMatch = v
		case "issue":
			d.Issue = v
		}
		d.Diagnostic = append(d.Diagnostic, dashDiag{Key: k, Value: v, Block: strings.Contains(v, "\n")})
	}
	return d
}

// requestOrderNo is the out_order_no a request names, in its path, its query or its body; ""
// when it names none.
func requestOrderNo(r *simulator.RequestRecord) string {
	path, rawQuery, _ := strings.Cut(r.Target, "?")
	if rest, ok := strings.CutPrefix(path, "/v3/payscore/serviceorder/"); ok {
		if seg, _, _ := strings.Cut(rest, "/"); seg != "direct-complete" {
			if u, err := url.PathUnescape(seg); err == nil {
				return u
			}
			return seg
		}
	}
	q, _ := url.ParseQuery(rawQuery)
	if no := q.Get("out_order_no"); no != "" {
		return no
	}
	var body struct {
		OutOrderNo string `json:"out_order_no"`
	}
	if json.Unmarshal([]byte(r.RequestBody), &body) == nil {
		return body.OutOrderNo
	}
	return ""
}

func dashRank(key string) int {
	if i := slices.Index(dashDiagFirst, key); i >= 0 {
		return i
	}
	return len(dashDiagFirst)
}

func (s *Server) handleDashRequests(c echo.Context) error {
	q, err := queryParams(c, "mchid", "failed", "limit")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	rp := &dashRequestsPage{MchID: q["mchid"], Limit: dashRequestsDefault}
	switch q["failed"] {
	case "", "0", "false":
	case "1", "true", "on":
		rp.Failed = true
	default:
		return s.renderError(c, simulator.ParamError("failed", q["failed"], "must be 1 or true to keep only failed requests").With("location", "query"), nil, nil)
	}
	if q["limit"] != "" {
		if rp.Limit, err = limitParam(q["limit"]); err != nil {
			return s.renderError(c, err, nil, nil)
		}
	}
	rp.Merchants = s.Merchants.IDs()
	records, err := s.Requests.ListRequests(c.Request().Context(), simulator.RequestFilter{MchID: rp.MchID, Failed: rp.Failed, Limit: rp.Limit})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	rp.Requests = dashRequests(records)
	p := s.dashPage("Requests", "requests")
	p.Requests = rp
	return s.render(c, http.StatusOK, "dashboard-requests.html", p)
}
