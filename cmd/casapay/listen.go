package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casapay/casapay"
)

// listenWindow is how far back each poll of listen looks: an event committed late, after newer ones
// were already seen, is still found if it is no older than this.
const listenWindow = 10 * time.Second

// runListen follows a server's events with an API key and forwards each one, signed with a secret of
// its own, to a local URL, as `stripe listen --forward-to` does for Stripe.
func runListen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("listen", flag.ContinueOnError)
	flags.SetOutput(stderr)
	apiKey := flags.String("api-key", getenv("CASAPAY_API_KEY"), "the secret key whose events to follow (env CASAPAY_API_KEY)")
	apiURL := flags.String("api-url", cmp.Or(getenv("CASAPAY_API_URL"), "http://localhost:8080"), "the CasaPay server (env CASAPAY_API_URL)")
	forwardTo := flags.String("forward-to", "", "the `URL` to post each event to")
	events := flags.String("events", "*", "comma-separated event types or patterns to forward, e.g. customer.*,payment_method.attached")
	poll := flags.Duration("poll", 250*time.Millisecond, "how often to look for new events")
	if err := flags.Parse(args); err != nil {
		return err
	}
	switch {
	case *apiKey == "":
		return errors.New("--api-key is required")
	case *forwardTo == "":
		return errors.New("--forward-to is required")
	}
	if _, err := url.ParseRequestURI(*forwardTo); err != nil {
		return fmt.Errorf("--forward-to: %w", err)
	}
	var types []string
	for _, pattern := range strings.Split(*events, ",") {
		matched, err := casapay.EventTypesMatching("--events", strings.TrimSpace(pattern))
		if err != nil {
			return fmt.Errorf("--events: %s", err.(*casapay.Error).Message)
		}
		types = append(types, matched...)
	}
	l := &listener{
		api: strings.TrimSuffix(*apiURL, "/"), key: *apiKey, forwardTo: *forwardTo, types: types,
		secret: "whsec_" + rand.Text(), client: &http.Client{Timeout: 30 * time.Second},
		out: stdout, seen: map[string]time.Time{},
	}
	// Only events from now on are forwarded.
	start, err := l.serverTime(ctx)
	if err != nil {
		return err
	}
	l.since = start
	fmt.Fprintf(stdout, "Ready! Forwarding %s events to %s\nYour webhook signing secret is %s\n",
		*events, *forwardTo, l.secret)
	ticker := time.NewTicker(*poll)
	defer ticker.Stop()
	for {
		if err := l.pollOnce(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "listen: %v\n", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// listener is the state of `casapay listen`.
type listener struct {
	api, key, forwardTo, secret string
	types                       []string
	client                      *http.Client
	out                         io.Writer
	since                       int64                // Unix seconds: nothing older is forwarded
	seen                        map[string]time.Time // events forwarded, kept for listenWindow
}

// eventPage is a page of GET /v1/events, each event kept as the server sent it.
type eventPage struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
}

// serverTime returns the created time of the newest event, or now if there is none: where following
// starts. It also checks the key.
func (l *listener) serverTime(ctx context.Context) (int64, error) {
	var page eventPage
	if err := l.get(ctx, "/v1/events?limit=1", &page); err != nil {
		return 0, err
	}
	now := time.Now().Unix()
	if len(page.Data) == 1 {
		var e struct{ Created int64 }
		if err := json.Unmarshal(page.Data[0], &e); err == nil {
			now = max(now, e.Created+1)
		}
	}
	return now, nil
}

// pollOnce forwards, oldest first, the events of the last listenWindow not forwarded yet.
func (l *listener) pollOnce(ctx context.Context) error {
	from := max(l.since, time.Now().Add(-listenWindow).Unix())
	var fresh []json.RawMessage
	after := ""
	for {
		path := "/v1/events?limit=100&created[gte]=" + strconv.FormatInt(from, 10)
		if after != "" {
			path += "&starting_after=" + after
		}
		var page eventPage
		if err := l.get(ctx, path, &page); err != nil {
			return err
		}
		for _, raw := range page.Data {
			var e struct{ ID, Type string }
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			after = e.ID
			if _, ok := l.seen[e.ID]; !ok {
				l.seen[e.ID] = time.Now()
				if slices.Contains(l.types, e.Type) {
					fresh = append(fresh, raw)
				}
			}
		}
		if !page.HasMore {
			break
		}
	}
	for id, at := range l.seen {
		if time.Since(at) > 2*listenWindow {
			delete(l.seen, id)
		}
	}
	slices.Reverse(fresh)
	for _, raw := range fresh {
		l.forward(ctx, raw)
	}
	return nil
}

// forward posts one event, signed, and prints what happened.
func (l *listener) forward(ctx context.Context, raw json.RawMessage) {
	var e struct{ ID, Type string }
	_ = json.Unmarshal(raw, &e) // decoded once already by pollOnce
	now := time.Now()
	fmt.Fprintf(l.out, "%s   --> %s [%s]\n", now.Format(time.DateTime), e.Type, e.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.forwardTo, bytes.NewReader(raw))
	if err != nil {
		fmt.Fprintf(l.out, "%s  <--  error: %v\n", now.Format(time.DateTime), err)
		return
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "CasaPay/1.0 (casapay listen)")
	req.Header.Set("Stripe-Signature", casapay.SignWebhook(l.secret, now, raw))
	res, err := l.client.Do(req)
	if err != nil {
		fmt.Fprintf(l.out, "%s  <--  error: %v [%s]\n", time.Now().Format(time.DateTime), err, e.ID)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	fmt.Fprintf(l.out, "%s  <--  [%d] POST %s [%s]\n", time.Now().Format(time.DateTime), res.StatusCode, l.forwardTo, e.ID)
}

// get reads a JSON answer of the API into v.
func (l *listener) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.api+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	res, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct{ Error casapay.Error }
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("GET %s: status %d", path, res.StatusCode)
	}
	return json.Unmarshal(body, v)
}
