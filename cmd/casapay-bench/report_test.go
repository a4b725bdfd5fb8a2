package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewResult(t *testing.T) {
	s := sample{
		Requests:  4,
		Errors:    1,
		FirstErr:  "POST /v1/customers: 500 Internal Server Error",
		Elapsed:   2 * time.Second,
		Latencies: []time.Duration{ms(1), ms(2), ms(3), ms(4)},
	}
	got := newResult("create", s)
	got.ratioTo("commit", &result{RPS: 0.5})
	want := &result{
		Operation: "create", Requests: 4, Errors: 1, FirstErr: s.FirstErr, Seconds: 2,
		RPS: 1.5, // three successes in two seconds
		P50: 2, P99: 4, P999: 4,
		Ratio: 3, RatioTo: "commit",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("newResult (-want +got):\n%s", diff)
	}

	got.ratioTo("bare", nil)
	if got.RatioTo != "commit" {
		t.Errorf("ratioTo with no baseline changed the ratio to %q", got.RatioTo)
	}
}

func TestFmtMS(t *testing.T) {
	for _, tt := range []struct {
		ms   float64
		want string
	}{
		{0, "0.000ms"},
		{0.4123, "0.412ms"},
		{4.123, "4.12ms"},
		{41.23, "41.2ms"},
		{412.3, "412ms"},
		{4123, "4123ms"},
	} {
		if got := fmtMS(tt.ms); got != tt.want {
			t.Errorf("fmtMS(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	r := &report{
		Clients: 32, Duration: "10s", Deep: 1000000,
		Machine: machine{CPUs: 2, MemoryBytes: 8 << 30, OS: "linux", Arch: "amd64", Go: "go1.26.8"},
		Stores: []storeReport{
			{
				Store: "sqlite",
				Results: []result{
					{Operation: "bare", RPS: 20000, P50: 1.2, P99: 4.5, P999: 9.87},
					{Operation: "commit", RPS: 500, P50: 60, P99: 120, P999: 250},
					{Operation: "retrieve", RPS: 12000.4, P50: 2.1, P99: 8, P999: 15, Ratio: 0.60002, RatioTo: "bare", ServerCPU: 151.4},
					{Operation: "create", Requests: 30000, Errors: 2, FirstErr: "POST /v1/customers: 500 Internal Server Error",
						RPS: 3000, P50: 9.5, P99: 31, P999: 104, Ratio: 6, RatioTo: "commit"},
					{Operation: "list-deep", RPS: 5000, P50: 5, P99: 12.4, P999: 20, Ratio: 0.25, RatioTo: "bare"},
					{Operation: "list-deep-1000", RPS: 5100, P50: 5, P99: 11.5, P999: 19, Ratio: 0.255, RatioTo: "bare"},
				},
				ListDeepP99Ratio: 1.078,
			},
			{
				Store:                "postgres",
				Results:              []result{{Operation: "mixed", RPS: 800, P50: 30, P99: 90, P999: 150, ServerCPU: 310, DatabaseCPU: 1250.6}},
				TwoServerCreateRatio: 1.62,
				Soak:                 &soakReport{Seconds: 60, StartRSS: 40 << 20, EndRSS: 200 << 20, PeakRSS: 210 << 20, LimitRSS: 130 << 20},
			},
		},
	}
	var b bytes.Buffer
	if err := writeTable(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `CasaPay benchmark: 32 clients, 10s per operation; 2 CPUs, 8.0 GiB memory, linux/amd64, go1.26.8

sqlite
operation          req/s       p50       p99     p99.9 p99/p50  errors   cpu/req    db cpu  ratio
bare               20000    1.20ms    4.50ms    9.87ms    3.8×       0         -         -  -
commit               500    60.0ms     120ms     250ms    2.0×       0         -         -  -
retrieve           12000    2.10ms    8.00ms    15.0ms    3.8×       0     151µs         -  0.60× bare
create              3000    9.50ms    31.0ms     104ms    3.3×       2         -         -  6.00× commit
list-deep           5000    5.00ms    12.4ms    20.0ms    2.5×       0         -         -  0.25× bare
list-deep-1000      5100    5.00ms    11.5ms    19.0ms    2.3×       0         -         -  0.26× bare
create: 2 of 30000 requests failed; the first: POST /v1/customers: 500 Internal Server Error
list-deep p99 with 1000000 customers ÷ with 1000: 1.08×

postgres
operation     req/s       p50       p99     p99.9 p99/p50  errors   cpu/req    db cpu  ratio
mixed           800    30.0ms    90.0ms     150ms    3.0×       0     310µs    1251µs  -
create req/s, two servers ÷ one: 1.62×
server RSS over a 60s soak: start 40.0 MiB, end 200.0 MiB, peak 210.0 MiB: GREW: over the limit of 130.0 MiB (2× start + 50 MiB)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("writeTable (-want +got):\n%s", diff)
	}
}

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses; the fields are counted from its last ')'.
	line := []byte("4242 (post gres) (x)) S 1 4242 4242 0 -1 4194560 3000 0 0 0 120 30 7 3 20 0 1 0 100 0 0\n")
	for _, tt := range []struct {
		children bool
		want     time.Duration
	}{
		{false, 150 * clockTick},
		{true, 160 * clockTick},
	} {
		got, err := parseStat(line, tt.children)
		if err != nil || got != tt.want {
			t.Errorf("parseStat(children %t) = %v, %v, want %v", tt.children, got, err, tt.want)
		}
	}
	if _, err := parseStat([]byte("4242 (casapay) S 1 2"), false); err == nil {
		t.Error("parseStat of a short line succeeded, want an error")
	}
}
