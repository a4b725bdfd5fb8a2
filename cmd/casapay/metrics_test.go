package main

import (
	"io"
	"net"
	"strings"
	"testing"
)

// freeAddr returns a loopback address that was free a moment ago, for a listener whose address
// startServe does not report. Another process could take the port in between; on loopback with
// ports the kernel hands out, that does not happen in practice.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return addr
}

// TestServeMetrics checks that --metrics serves /metrics on the API address without a key, and that
// it counts the API's requests.
func TestServeMetrics(t *testing.T) {
	s := startServe(t, "--db", databases(t)["sqlite"](t), "--metrics")
	if code, body := call(t, "GET", s.URL+"/v1/customers", s.TestKey, "", ""); code != 200 {
		t.Fatalf("list = %d %s", code, body)
	}
	code, body := call(t, "GET", s.URL+"/metrics", "", "", "")
	if code != 200 {
		t.Fatalf("/metrics = %d %s", code, body)
	}
	for _, want := range []string{
		`casapay_http_requests_total{method="GET",route="GET /v1/customers",status="200"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if code, _ := call(t, "GET", s.URL+"/debug/pprof/", "", "", ""); code != 404 {
		t.Errorf("/debug/pprof/ on the API address = %d, want 404", code)
	}
}

// TestServeMetricsAddr checks that --metrics-addr moves /metrics off the API address.
func TestServeMetricsAddr(t *testing.T) {
	addr := freeAddr(t)
	s := startServe(t, "--db", databases(t)["sqlite"](t), "--metrics-addr", addr)
	if code, body := call(t, "GET", s.URL+"/healthz", "", "", ""); code != 200 {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	if code, _ := call(t, "GET", s.URL+"/metrics", "", "", ""); code != 404 {
		t.Errorf("/metrics on the API address = %d, want 404", code)
	}
	code, body := call(t, "GET", "http://"+addr+"/metrics", "", "", "")
	if code != 200 || !strings.Contains(string(body), `casapay_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`) {
		t.Errorf("/metrics on --metrics-addr = %d:\n%s", code, body)
	}
}

// TestServePprof checks that --pprof-addr serves the profiler on its own address only.
func TestServePprof(t *testing.T) {
	addr := freeAddr(t)
	s := startServe(t, "--db", databases(t)["sqlite"](t), "--pprof-addr", addr)
	if code, body := call(t, "GET", "http://"+addr+"/debug/pprof/cmdline", "", "", ""); code != 200 || len(body) == 0 {
		t.Errorf("/debug/pprof/cmdline on --pprof-addr = %d %q, want 200 and the command line", code, body)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/metrics"} {
		if code, _ := call(t, "GET", s.URL+path, "", "", ""); code != 404 {
			t.Errorf("%s on the API address = %d, want 404", path, code)
		}
	}
}

// TestServeMetricsEnvInvalid checks that a CASAPAY_METRICS that is not a boolean stops serve before
// it opens anything.
func TestServeMetricsEnvInvalid(t *testing.T) {
	getenv := func(k string) string {
		if k == "CASAPAY_METRICS" {
			return "sometimes"
		}
		return ""
	}
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--db", databases(t)["sqlite"](t)}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CASAPAY_METRICS") {
		t.Errorf("serve with CASAPAY_METRICS=sometimes returned %v, want an error naming the variable", err)
	}
}
