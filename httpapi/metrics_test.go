package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/openapi/openapitest"
	"github.com/casapay/casapay/storetest"
)

// metricsServer serves CasaPay over real HTTP on a fresh SQLite store with its metrics on reg, and
// returns its URL and a test-mode key. With expose, GET /metrics is served on the API address too.
func metricsServer(t *testing.T, reg *prometheus.Registry, expose bool) (url, key string) {
	t.Helper()
	store := storetest.OpenSQLite(t)
	metrics := httpapi.NewMetrics(reg)
	if expose {
		metrics.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now, metrics))
	t.Cleanup(srv.Close)
	key, _ = createAccount(t, store, "Metrics")
	return srv.URL, key
}

// send makes one request and returns its status and body.
func send(t *testing.T, method, url, key, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res.StatusCode, res.Header, b
}

// requestCounts gathers reg and returns casapay_http_requests_total as "route method status" → count,
// and the number of observations in casapay_http_request_duration_seconds by route.
func requestCounts(t *testing.T, reg prometheus.Gatherer) (requests map[string]float64, durations map[string]uint64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	requests, durations = map[string]float64{}, map[string]uint64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "casapay_http_requests_total":
				requests[labels["route"]+" "+labels["method"]+" "+labels["status"]] = m.GetCounter().GetValue()
			case "casapay_http_request_duration_seconds":
				durations[labels["route"]] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	return requests, durations
}

// counterValues gathers reg and returns the counter name by its label values, in the order of the
// label names, joined with "/" (casapay_rate_limit_decisions_total: "refused/global-rate").
func counterValues(t *testing.T, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var values []string
			for _, l := range m.GetLabel() {
				values = append(values, l.GetValue())
			}
			counts[strings.Join(values, "/")] += m.GetCounter().GetValue()
		}
	}
	return counts
}

// TestMetrics sends requests to known and unknown routes and reads the counters back: each request
// is labelled with the pattern that matched, never its path.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	url, key := metricsServer(t, reg, true)

	status, _, body := send(t, "POST", url+"/v1/customers", key, "name=Jane")
	if status != http.StatusOK {
		t.Fatalf("create = %d %s", status, body)
	}
	var c struct{ ID string }
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("decode customer: %v", err)
	}
	for _, r := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/customers/" + c.ID, http.StatusOK},
		{"GET", "/v1/customers/cus_missing", http.StatusNotFound},
		{"GET", "/v1/charges", http.StatusNotFound},
		{"GET", "/no/such/path", http.StatusNotFound},
		{"BREW", "/v1/customers", http.StatusMethodNotAllowed},
	} {
		if status, _, body := send(t, r.method, url+r.path, key, ""); status != r.want {
			t.Errorf("%s %s = %d %s, want %d", r.method, r.path, status, body, r.want)
		}
	}

	requests, durations := requestCounts(t, reg)
	wantRequests := map[string]float64{
		"POST /v1/customers POST 200":    1,
		"GET /v1/customers/{id} GET 200": 1,
		"GET /v1/customers/{id} GET 404": 1,
		"unmatched GET 404":              2,
		"/v1/customers other 405":        1, // a made-up method does not become a label value
	}
	if diff := cmp.Diff(wantRequests, requests); diff != "" {
		t.Errorf("casapay_http_requests_total (-want +got):\n%s", diff)
	}
	wantDurations := map[string]uint64{
		"POST /v1/customers":     1,
		"GET /v1/customers/{id}": 2,
		"unmatched":              2,
		"/v1/customers":          1,
	}
	if diff := cmp.Diff(wantDurations, durations); diff != "" {
		t.Errorf("casapay_http_request_duration_seconds sample counts (-want +got):\n%s", diff)
	}

	// GET /metrics needs no key, and its answer is what openapi.yaml describes.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/metrics", nil)
	status, header, body := send(t, "GET", url+"/metrics", "", "")
	openapitest.New(t).Check(t, req, status, header, body)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s", status, body)
	}
	want := `casapay_http_requests_total{method="GET",route="GET /v1/customers/{id}",status="404"} 1`
	if !strings.Contains(string(body), want) {
		t.Errorf("GET /metrics lacks %s:\n%s", want, body)
	}
	for _, path := range []string{"cus_missing", "/v1/charges", "/no/such/path", c.ID} {
		if strings.Contains(string(body), path) {
			t.Errorf("GET /metrics names the path %q: a label holds a raw path", path)
		}
	}
}

// TestMetricsNotExposed counts requests without serving GET /metrics on the API address, as when the
// metrics have a listener of their own.
func TestMetricsNotExposed(t *testing.T) {
	reg := prometheus.NewRegistry()
	url, _ := metricsServer(t, reg, false)
	if status, _, body := send(t, "GET", url+"/metrics", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /metrics = %d %s, want 404", status, body)
	}
	requests, _ := requestCounts(t, reg)
	if diff := cmp.Diff(map[string]float64{"unmatched GET 404": 1}, requests); diff != "" {
		t.Errorf("casapay_http_requests_total (-want +got):\n%s", diff)
	}
}

// TestRateLimitDecisionsCounted: the limiter's decisions are counted in the metrics, refusals by reason.
func TestRateLimitDecisionsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	store := storetest.OpenSQLite(t)
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now,
		httpapi.NewMetrics(reg), httpapi.WithRateLimits(casapay.RateLimits{Live: 100, Test: 1})))
	t.Cleanup(srv.Close)
	key, _ := createAccount(t, store, "Limited")
	refused := 0
	for range 1 + casapay.RateBurst + 5 {
		if code, _, _ := send(t, "GET", srv.URL+"/v1/customers", key, ""); code == http.StatusTooManyRequests {
			refused++
		}
	}
	counts := counterValues(t, reg, "casapay_rate_limit_decisions_total")
	if refused == 0 || counts["refused/global-rate"] != float64(refused) || counts["admitted/"] != float64(1+casapay.RateBurst+5-refused) {
		t.Errorf("decisions counted %v, want %d refused for global-rate and the rest admitted", counts, refused)
	}
}
