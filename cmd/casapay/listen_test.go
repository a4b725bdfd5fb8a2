package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"
)

// TestListen runs `casapay listen` against a server and a local receiver: it forwards the events it is
// asked for, and only those, each signed with the secret it printed, which stripe-go verifies.
func TestListen(t *testing.T) {
	s := startServe(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "casapay.db"))
	var (
		mu     sync.Mutex
		secret string
		got    []string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
		if err != nil {
			t.Errorf("stripe-go rejected a forwarded event: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got = append(got, string(ev.Type))
	}))
	t.Cleanup(receiver.Close)

	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--api-key", s.TestKey, "--api-url", s.URL, "--forward-to", receiver.URL,
			"--events", "payment_method.*", "--poll", "20ms"}, func(string) string { return "" }, pw, t.Output())
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listen returned %v", err)
		}
	})
	lines := bufio.NewScanner(pr)
	secretLine := regexp.MustCompile(`secret is (whsec_\S+)`)
	forwarded := make(chan string, 16)
	for lines.Scan() {
		if m := secretLine.FindStringSubmatch(lines.Text()); m != nil {
			mu.Lock()
			secret = m[1]
			mu.Unlock()
			break
		}
	}
	go func() {
		for lines.Scan() {
			forwarded <- lines.Text()
		}
	}()

	if code, body := call(t, "POST", s.URL+"/v1/customers", s.TestKey, "application/x-www-form-urlencoded", "name=Jane&payment_method=pm_card_visa"); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	// Two lines per event: the event, then the receiver's answer.
	for _, want := range []*regexp.Regexp{regexp.MustCompile(`--> payment_method.attached \[evt_`), regexp.MustCompile(`<--  \[200\] POST `)} {
		select {
		case line := <-forwarded:
			if !want.MatchString(line) {
				t.Errorf("listen printed %q, want %s", line, want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("listen printed nothing more")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "payment_method.attached" {
		t.Errorf("receiver got %v, want only payment_method.attached (customer.created is filtered out)", got)
	}
}
