package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/webhook"
)

// shutdownTimeout bounds how long serve waits for in-flight requests after a signal.
const shutdownTimeout = 30 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := dbFlag(flags, getenv)
	addr := flags.String("addr", cmp.Or(getenv("CASAPAY_ADDR"), "localhost:8080"), "listen address (env CASAPAY_ADDR)")
	logFormat := flags.String("log-format", cmp.Or(getenv("CASAPAY_LOG_FORMAT"), "text"), "log format: text or json (env CASAPAY_LOG_FORMAT)")
	metricsDefault, err := envBool(getenv, "CASAPAY_METRICS")
	if err != nil {
		return err
	}
	metricsOn := flags.Bool("metrics", metricsDefault, "serve Prometheus metrics at /metrics on the API address (env CASAPAY_METRICS)")
	metricsAddr := flags.String("metrics-addr", getenv("CASAPAY_METRICS_ADDR"),
		"serve /metrics on this `HOST:PORT` instead of the API address (env CASAPAY_METRICS_ADDR)")
	pprofAddr := flags.String("pprof-addr", getenv("CASAPAY_PPROF_ADDR"),
		"serve the Go profiler at /debug/pprof/ on this `HOST:PORT` (env CASAPAY_PPROF_ADDR)")
	allowPrivateDefault, err := envBool(getenv, "CASAPAY_WEBHOOK_ALLOW_PRIVATE")
	if err != nil {
		return err
	}
	allowPrivate := flags.Bool("webhook-allow-private", allowPrivateDefault,
		"let live-mode webhook endpoints use loopback, private and link-local addresses (env CASAPAY_WEBHOOK_ALLOW_PRIVATE)")
	webhookTimeout := flags.Duration("webhook-timeout", webhook.DefaultTimeout,
		"how long one webhook delivery may take; a claimed delivery is held for ten times this")
	retryScale := flags.Float64("webhook-retry-scale", 1,
		"multiply the webhook retry schedule's delays by this, e.g. 0.001 to retry within seconds while developing")
	rateLimits := flags.String("rate-limits", cmp.Or(getenv("CASAPAY_RATE_LIMITS"), casapay.DefaultRateLimits.String()),
		"requests per second each account may make, reads and writes each: LIVE/TEST, or off (env CASAPAY_RATE_LIMITS)")
	apiCap, otherCap := defaultConnectionCaps()
	maxConns := flags.Int("max-connections", apiCap,
		"connections the API keeps open at once; at the cap a new one replaces the one idle longest, or is closed at once if all are busy (default: most of the process's file limit)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	limits, err := casapay.ParseRateLimits(*rateLimits)
	if err != nil {
		return fmt.Errorf("--rate-limits: %w", err)
	}
	if *maxConns < 1 {
		return fmt.Errorf("--max-connections must be positive, not %d", *maxConns)
	}
	if *retryScale <= 0 {
		return fmt.Errorf("--webhook-retry-scale must be positive, not %v", *retryScale)
	}
	if *webhookTimeout <= 0 {
		return fmt.Errorf("--webhook-timeout must be positive, not %v", *webhookTimeout)
	}
	var handler slog.Handler
	logOut := newLogWriter(stderr)
	defer logOut.Close() // deferred first, so it runs last: after the last line is logged
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(logOut, nil)
	case "json":
		handler = slog.NewJSONHandler(logOut, nil)
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", *logFormat)
	}
	logger := slog.New(flushingHandler{handler, logOut})
	errorLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)

	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := bootstrap(ctx, store, stdout); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if s, ok := store.(interface{ Collectors() []prometheus.Collector }); ok {
		for _, c := range s.Collectors() {
			if err := reg.Register(c); err != nil {
				return fmt.Errorf("register store metrics: %w", err)
			}
		}
	}
	var metrics *httpapi.Metrics
	// --metrics-addr turns metrics on by itself, and wins over --metrics: /metrics is served in one place.
	if *metricsOn || *metricsAddr != "" {
		metrics = httpapi.NewMetrics(reg)
	}
	// A failed collection leaves its metrics out of the answer and goes to the log, instead of
	// promhttp's default 500, which is plain text with the error's internals: on the API address
	// every answer must be JSON or the document the OpenAPI file describes.
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	if *metricsOn && *metricsAddr == "" {
		metrics.Handler = metricsHandler
	}

	// Bind every listener before serving, so each address printed below already accepts connections.
	ln, err := listenCapped(*addr, *maxConns)
	if err != nil {
		return err
	}
	api := httpapi.NewServer(logger, store, time.Now, metrics, serverOptions(*allowPrivate, limits)...)
	servers := []*http.Server{{
		Handler: api,
		// OPTIONS * then reaches the API, which answers it in JSON, not with net/http's empty 200.
		DisableGeneralOptionsHandler: true,
		ReadHeaderTimeout:            5 * time.Second,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ConnState:                    ln.ConnState,
		ErrorLog:                     errorLog,
	}}
	listeners := []net.Listener{ln}
	// sideServer serves h on its own address, capped at otherCap connections, with shorter timeouts than
	// the API's, and a write timeout unless writeTimeout is 0.
	sideServer := func(address, what string, h http.Handler, writeTimeout time.Duration) (*capListener, error) {
		l, err := listenCapped(address, otherCap)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		listeners = append(listeners, l)
		servers = append(servers, &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       60 * time.Second,
			ConnState:         l.ConnState,
			ErrorLog:          errorLog,
		})
		return l, nil
	}
	defer func() {
		// Closing a listener twice only returns an error, so this also covers the ones served below.
		for _, l := range listeners {
			l.Close()
		}
	}()
	if *metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		l, err := sideServer(*metricsAddr, "metrics", mux, 30*time.Second)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", l.Addr())
	} else if metrics != nil {
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
	}
	if *pprofAddr != "" {
		// No write timeout: /debug/pprof/profile and /trace answer only after the ?seconds= asked for.
		l, err := sideServer(*pprofAddr, "pprof", pprofHandler(), 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pprof on http://%s/debug/pprof/\n", l.Addr())
	}
	fmt.Fprintf(stdout, "CasaPay is listening on http://%s\n", ln.Addr())
	logger.Info("serving", "addr", ln.Addr().String())

	var wg sync.WaitGroup
	background, stopBackground := context.WithCancel(ctx) // pruning and webhook delivery
	wg.Go(func() { prune(background, logger, store, time.Now) })
	deliverer := &webhook.Deliverer{Store: store, Logger: logger, AllowPrivate: *allowPrivate, RetryScale: *retryScale,
		Timeout: *webhookTimeout}
	wg.Go(func() { deliverer.Run(background) })
	defer func() {
		stopBackground()
		wg.Wait()
	}()

	// Every server reports here when it stops; servers[0] is the API.
	serveErr := make(chan error, len(servers))
	var serving sync.WaitGroup
	for i, srv := range servers {
		serving.Go(func() { serveErr <- srv.Serve(listeners[i]) })
	}
	defer func() {
		// Serve returns at once after Close, so this wait is short; it keeps any server from
		// outliving run. The API has already drained unless another server failed first.
		for _, srv := range servers {
			srv.Close()
		}
		serving.Wait()
		// Before the store closes: what this process holds of shared rate budgets goes back to them.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := api.Close(closeCtx); err != nil {
			logger.Warn("hand back rate budgets", "err", err)
		}
	}()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	// Only the API drains gracefully; metrics and pprof stay up while it does, so a slow drain can be
	// watched, and are closed afterwards by the deferred Close.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := servers[0].Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// serverOptions returns the API's options for serve's flags.
func serverOptions(allowPrivateWebhooks bool, limits casapay.RateLimits) []httpapi.Option {
	opts := []httpapi.Option{httpapi.WithRateLimits(limits)}
	if allowPrivateWebhooks {
		opts = append(opts, httpapi.AllowPrivateWebhooks())
	}
	return opts
}

// envBool reads a boolean from the environment variable name: empty is false, and anything
// strconv.ParseBool does not accept is an error.
func envBool(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not a boolean: use true or false", name, v)
	}
	return b, nil
}

// pprofHandler serves the Go profiler at /debug/pprof/, as importing net/http/pprof would, but on a
// mux of its own: the profiler never reaches http.DefaultServeMux or the API address.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves the named profiles: heap, goroutine, allocs, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// bootstrap gives an empty database its first account and prints that account's keys, once, so the
// quick start needs nothing but serve.
func bootstrap(ctx context.Context, store casapay.Store, stdout io.Writer) error {
	a, keys, testSecret, liveSecret := casapay.NewAccount("Default account", time.Now())
	ok, err := store.BootstrapAccount(ctx, a, keys)
	if err != nil {
		return fmt.Errorf("create first account: %w", err)
	}
	if ok {
		printAccount(stdout, a, testSecret, liveSecret)
	}
	return nil
}

// prune deletes expired idempotency records, and events older than casapay.EventRetention, at start
// and then every hour until ctx ends. Expired records are already ignored; pruning keeps the tables
// small. The store deletes in bounded chunks, so other writes go on meanwhile. Every process may prune:
// deletes are idempotent.
func prune(ctx context.Context, logger *slog.Logger, store casapay.Pruner, now func() time.Time) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		pruneOnce(ctx, logger, store, now())
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// pruneOnce deletes, as of now, idempotency records older than casapay.IdempotencyWindow and events
// older than casapay.EventRetention, and logs what it did; a failure is logged and left for the next round.
func pruneOnce(ctx context.Context, logger *slog.Logger, store casapay.Pruner, now time.Time) {
	for _, p := range []struct {
		what  string
		prune func(context.Context, time.Time) (int64, error)
		keep  time.Duration
	}{
		{"idempotency keys", store.PruneIdempotencyKeys, casapay.IdempotencyWindow},
		{"events", store.PruneEvents, casapay.EventRetention},
		{"webhook deliveries", store.PruneWebhookDeliveries, casapay.WebhookRetention},
	} {
		n, err := p.prune(ctx, now.Add(-p.keep))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.ErrorContext(ctx, "prune "+p.what, "err", err)
		case n > 0:
			logger.InfoContext(ctx, "pruned "+p.what, "count", n)
		}
	}
}
