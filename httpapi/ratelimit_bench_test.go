package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/sqlite"
)

// BenchmarkRetrieveRateLimited measures what the rate limiter adds to a retrieve: the same retrieve
// over real HTTP on one SQLite store, with limits off and with limits on at a rate no request reaches,
// in one run, so the two can be compared.
//
//	go test -run '^$' -bench RetrieveRateLimited -benchtime 20000x ./httpapi
func BenchmarkRetrieveRateLimited(b *testing.B) {
	store, err := sqlite.Open(b.Context(), b.TempDir()+"/casapay.db")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	a, keys, key, _ := casapay.NewAccount("Bench", time.Now())
	if err := store.CreateAccount(b.Context(), a, keys); err != nil {
		b.Fatal(err)
	}
	scope := casapay.Scope{AccountID: a.ID}
	c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{Name: new("Jane")}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.CreateCustomer(b.Context(), scope, c, casapay.Request{}); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		name   string
		limits casapay.RateLimits
	}{{"off", casapay.RateLimits{Off: true}}, {"on", casapay.RateLimits{Live: 1_000_000_000, Test: 1_000_000_000}}} {
		b.Run(tt.name, func(b *testing.B) {
			srv := httptest.NewServer(httpapi.NewServer(logger, store, time.Now, nil, httpapi.WithRateLimits(tt.limits)))
			defer srv.Close()
			b.RunParallel(func(pb *testing.PB) {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				for pb.Next() {
					req, _ := http.NewRequest("GET", srv.URL+"/v1/customers/"+c.ID, nil)
					req.Header.Set("Authorization", "Bearer "+key)
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
		})
	}
}
