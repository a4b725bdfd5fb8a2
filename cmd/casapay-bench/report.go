package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// report is everything one run measured; its JSON is what --json writes.
type report struct {
	Clients  int           `json:"clients"`
	Duration string        `json:"duration"`       // per operation
	Deep     int           `json:"deep"`           // customers in the account list-deep pages through
	Soak     string        `json:"soak,omitempty"` // set in soak mode, which measures nothing else
	Machine  machine       `json:"machine"`
	Stores   []storeReport `json:"stores"`
}

// machine describes where the run happened.
type machine struct {
	CPUs        int    `json:"cpus"`
	MemoryBytes int64  `json:"memory_bytes,omitempty"` // MemTotal, on Linux
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	Go          string `json:"go"`
}

// storeReport is one store's table.
type storeReport struct {
	Store   string   `json:"store"` // sqlite or postgres
	Results []result `json:"results"`

	// ListDeepP99Ratio is list-deep's p99 over list-deep-1000's: the same page request with --deep
	// customers in the account and with 1,000.
	ListDeepP99Ratio float64 `json:"list_deep_p99_ratio,omitempty"`
	// TwoServerCreateRatio is create's req/s with two serve processes on one database over one's.
	TwoServerCreateRatio float64 `json:"two_server_create_ratio,omitempty"`
	// LimiterCPURatio is retrieve-limited's server CPU per request over the mean of retrieve's and
	// retrieve-again's, and LimiterRPSRatio its req/s over theirs: what the rate limiter costs a request.
	LimiterCPURatio float64 `json:"limiter_cpu_ratio,omitempty"`
	LimiterRPSRatio float64 `json:"limiter_rps_ratio,omitempty"`

	Soak    *soakReport    `json:"soak,omitempty"`
	Webhook *webhookReport `json:"webhook,omitempty"`
}

// soakReport is the server's memory over a soak.
type soakReport struct {
	Seconds  float64 `json:"seconds"`
	StartRSS int64   `json:"start_rss_bytes"` // after the warm-up
	EndRSS   int64   `json:"end_rss_bytes"`
	PeakRSS  int64   `json:"peak_rss_bytes"` // of the samples taken each second
	LimitRSS int64   `json:"limit_rss_bytes"`
	OK       bool    `json:"ok"` // EndRSS ≤ LimitRSS
}

// result is one row of a table: an operation or a baseline.
type result struct {
	Operation string  `json:"operation"`
	Requests  int     `json:"requests"` // failed ones included
	Errors    int     `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
	Seconds   float64 `json:"seconds"`
	RPS       float64 `json:"req_per_s"` // successful requests per second
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	P999      float64 `json:"p99_9_ms"`
	Ratio     float64 `json:"ratio,omitempty"`    // RPS over the baseline's
	RatioTo   string  `json:"ratio_to,omitempty"` // bare, bare-list or bare-post
	// ServerCPU and DatabaseCPU are the CPU time, in microseconds, that the serve process and the
	// PostgreSQL processes used per successful request (see cpuMeter); zero when not measured.
	ServerCPU   float64 `json:"server_cpu_us_per_req,omitempty"`
	DatabaseCPU float64 `json:"database_cpu_us_per_req,omitempty"`
}

func newResult(operation string, s sample) *result {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &result{
		Operation: operation,
		Requests:  s.Requests,
		Errors:    s.Errors,
		FirstErr:  s.FirstErr,
		Seconds:   s.Elapsed.Seconds(),
		RPS:       s.rate(),
		P50:       ms(percentile(s.Latencies, 0.50)),
		P99:       ms(percentile(s.Latencies, 0.99)),
		P999:      ms(percentile(s.Latencies, 0.999)),
	}
}

// ratioTo sets r's ratio to the baseline's req/s; a missing baseline leaves it unset.
func (r *result) ratioTo(name string, baseline *result) {
	if baseline == nil || baseline.RPS == 0 {
		return
	}
	r.Ratio = r.RPS / baseline.RPS
	r.RatioTo = name
}

func newReport(cfg config) *report {
	return &report{
		Clients:  cfg.clients,
		Duration: cfg.duration.String(),
		Deep:     cfg.deep,
		Soak:     soakString(cfg.soak),
		Machine: machine{
			CPUs:        runtime.NumCPU(),
			MemoryBytes: memTotal(),
			OS:          runtime.GOOS,
			Arch:        runtime.GOARCH,
			Go:          runtime.Version(),
		},
	}
}

func soakString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// memTotal returns the machine's memory from /proc/meminfo, or 0 where there is none.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// failedRequests counts the failures in every table.
func (r *report) failedRequests() int {
	n := 0
	for _, s := range r.Stores {
		for _, res := range s.Results {
			n += res.Errors
		}
	}
	return n
}

// writeTable prints the report as one table per store.
func writeTable(w io.Writer, r *report) error {
	m := r.Machine
	if r.Soak != "" {
		fmt.Fprintf(w, "CasaPay soak: %d clients, %s of mixed load; %d CPUs", r.Clients, r.Soak, m.CPUs)
	} else {
		fmt.Fprintf(w, "CasaPay benchmark: %d clients, %s per operation; %d CPUs", r.Clients, r.Duration, m.CPUs)
	}
	if m.MemoryBytes > 0 {
		fmt.Fprintf(w, ", %.1f GiB memory", float64(m.MemoryBytes)/(1<<30))
	}
	fmt.Fprintf(w, ", %s/%s, %s\n", m.OS, m.Arch, m.Go)
	for _, s := range r.Stores {
		fmt.Fprintf(w, "\n%s\n", s.Store)
		width := len("operation")
		for _, res := range s.Results {
			width = max(width, len(res.Operation))
		}
		row := "%-*s %9s %9s %9s %9s %7s %7s %9s %9s  %s\n"
		fmt.Fprintf(w, row, width, "operation", "req/s", "p50", "p99", "p99.9", "p99/p50", "errors", "cpu/req", "db cpu", "ratio")
		for _, res := range s.Results {
			ratio := "-"
			if res.RatioTo != "" {
				ratio = fmt.Sprintf("%.2f× %s", res.Ratio, res.RatioTo)
			}
			spread := "-"
			if res.P50 > 0 {
				spread = fmt.Sprintf("%.1f×", res.P99/res.P50)
			}
			fmt.Fprintf(w, row, width, res.Operation, fmt.Sprintf("%.0f", res.RPS),
				fmtMS(res.P50), fmtMS(res.P99), fmtMS(res.P999), spread, strconv.Itoa(res.Errors),
				fmtMicros(res.ServerCPU), fmtMicros(res.DatabaseCPU), ratio)
		}
		for _, res := range s.Results {
			if res.Errors > 0 {
				fmt.Fprintf(w, "%s: %d of %d requests failed; the first: %s\n", res.Operation, res.Errors, res.Requests, res.FirstErr)
			}
		}
		if s.ListDeepP99Ratio > 0 {
			fmt.Fprintf(w, "list-deep p99 with %d customers ÷ with 1000: %.2f×\n", r.Deep, s.ListDeepP99Ratio)
		}
		if s.LimiterRPSRatio > 0 {
			fmt.Fprintf(w, "retrieve with rate limits on ÷ off: req/s %.2f×, server CPU per request %.2f×\n", s.LimiterRPSRatio, s.LimiterCPURatio)
		}
		if s.TwoServerCreateRatio > 0 {
			fmt.Fprintf(w, "create req/s, two servers ÷ one: %.2f×\n", s.TwoServerCreateRatio)
		}
		if h := s.Webhook; h != nil {
			fmt.Fprintf(w, "webhook: %d of %d events delivered, %.0f/s during the creates; create's 200 to delivery p50 %s, p99 %s; %.1fs to drain",
				h.Delivered, h.Created, h.PerSecond, fmtMS(h.DelayP50), fmtMS(h.DelayP99), h.DrainSeconds)
			if h.Backlog > 0 {
				fmt.Fprintf(w, "; %d UNDELIVERED after a minute", h.Backlog)
			}
			fmt.Fprintln(w)
		}
		if k := s.Soak; k != nil {
			verdict := "ok"
			if !k.OK {
				verdict = "GREW: over the limit of " + mib(k.LimitRSS) + " (2× start + 50 MiB)"
			}
			fmt.Fprintf(w, "server RSS over a %.0fs soak: start %s, end %s, peak %s: %s\n",
				k.Seconds, mib(k.StartRSS), mib(k.EndRSS), mib(k.PeakRSS), verdict)
		}
	}
	return nil
}

// fmtMicros formats a CPU time per request, or "-" when it was not measured.
func fmtMicros(us float64) string {
	if us == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fµs", us)
}

// fmtMS formats milliseconds with three significant digits or so: 0.412ms, 4.12ms, 41.2ms, 412ms.
func fmtMS(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3fms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.0fms", ms)
	}
}

// mib formats a byte count in mebibytes.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// writeJSON writes the report to file as indented JSON.
func writeJSON(file string, r *report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write --json: %w", err)
	}
	return nil
}
