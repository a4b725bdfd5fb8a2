// Command casapay-soak holds many idle and many non-reading connections against a running CasaPay
// server, and reports the server's memory and whether new clients are still answered. It is run on
// demand, not in CI:
//
//	go run ./cmd/casapay-soak --url http://127.0.0.1:8080 --key sk_test_… --pid $(pgrep -f 'casapay serve')
//
// Idle connections connect and send nothing: --idle of them to the API, and as many to each address in
// --idle-at (the server's metrics and pprof listeners). Hoarders pipeline list requests (limit=100) and never
// read an answer, so the server has answers it cannot send.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "casapay-soak:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("casapay-soak", flag.ContinueOnError)
	target := flags.String("url", "http://127.0.0.1:8080", "the server")
	key := flags.String("key", "", "a secret key, for the hoarders' list requests")
	pid := flags.Int("pid", 0, "the server's process ID, to read its memory from /proc")
	idle := flags.Int("idle", 2000, "idle connections to hold against the API, and against each --idle-at address")
	idleAt := flags.String("idle-at", "", "more addresses to hold idle connections against, HOST:PORT, comma-separated (the metrics and pprof listeners)")
	hoarders := flags.Int("hoarders", 1000, "connections that pipeline requests and never read")
	pipelined := flags.Int("pipelined", 50, "requests each hoarder sends")
	duration := flags.Duration("duration", 30*time.Second, "how long to hold them")
	if err := flags.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || *key == "" {
		return fmt.Errorf("--url and --key are required")
	}
	hosts := []string{u.Host}
	if *idleAt != "" {
		hosts = append(hosts, strings.Split(*idleAt, ",")...)
	}
	raiseFileLimit(len(hosts)**idle + *hoarders + 100)
	rssStart := rss(*pid)

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	refused := 0
	for _, host := range hosts {
		for range *idle {
			c, err := net.DialTimeout("tcp", host, 5*time.Second)
			if err != nil {
				refused++
				continue
			}
			conns = append(conns, c)
		}
	}
	req := "GET /v1/customers?limit=100 HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + *key + "\r\n\r\n"
	batch := strings.Repeat(req, *pipelined)
	for range *hoarders {
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			refused++
			continue
		}
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte(batch)) // a full socket buffer is fine: the point is not to read
		conns = append(conns, c)
	}
	// A connection the server closed at once, over its cap, still counts here: the kernel completed the
	// handshake before the server saw it. Only a connection the kernel refused is counted as refused.
	fmt.Fprintf(out, "opened %d connections (%d refused by the kernel); server RSS at start %s\n", len(conns), refused, mib(rssStart))

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	peak, answered, failed := rssStart, 0, 0
	deadline := time.Now().Add(*duration)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		peak = max(peak, rss(*pid))
		r, err := http.NewRequestWithContext(ctx, "GET", *target+"/v1/customers?limit=1", nil)
		if err != nil {
			return err
		}
		r.Header.Set("Authorization", "Bearer "+*key)
		res, err := client.Do(r)
		if err == nil && res.StatusCode == http.StatusOK {
			answered++
		} else {
			failed++
		}
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		time.Sleep(time.Second)
	}
	fmt.Fprintf(out, "server RSS: start %s, peak %s, end %s; new clients answered %d, not %d\n",
		mib(rssStart), mib(peak), mib(rss(*pid)), answered, failed)
	return nil
}

// rss reads a process's resident set size in bytes from /proc, 0 if it cannot.
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// raiseFileLimit lets this process hold n sockets, as far as the hard limit allows.
func raiseFileLimit(n int) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < uint64(n) {
		rl.Cur = min(uint64(n), rl.Max)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}
