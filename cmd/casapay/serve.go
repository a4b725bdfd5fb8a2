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
	"sync"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
)

// shutdownTimeout bounds how long serve waits for in-flight requests after a signal.
const shutdownTimeout = 30 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := dbFlag(flags, getenv)
	addr := flags.String("addr", cmp.Or(getenv("CASAPAY_ADDR"), "localhost:8080"), "listen address (env CASAPAY_ADDR)")
	logFormat := flags.String("log-format", cmp.Or(getenv("CASAPAY_LOG_FORMAT"), "text"), "log format: text or json (env CASAPAY_LOG_FORMAT)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", *logFormat)
	}

	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := bootstrap(ctx, store, stdout); err != nil {
		return err
	}

	// Bind before serving, so the address printed below already accepts connections.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           httpapi.NewServer(logger, store, time.Now),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "CasaPay is listening on http://%s\n", ln.Addr())
	logger.Info("serving", "addr", ln.Addr().String())

	var wg sync.WaitGroup
	pruneCtx, stopPrune := context.WithCancel(ctx)
	wg.Go(func() { pruneIdempotencyKeys(pruneCtx, logger, store, time.Now) })
	defer func() {
		stopPrune()
		wg.Wait()
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
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

// pruneIdempotencyKeys deletes expired idempotency records every hour until ctx ends. Expired records
// are already ignored; pruning only keeps the table small. Every process may prune: deletes are idempotent.
func pruneIdempotencyKeys(ctx context.Context, logger *slog.Logger, store casapay.Store, now func() time.Time) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		n, err := store.PruneIdempotencyKeys(ctx, now().Add(-casapay.IdempotencyWindow))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.ErrorContext(ctx, "prune idempotency keys", "err", err)
		case n > 0:
			logger.InfoContext(ctx, "pruned idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
