package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/casapay/casapay/storetest"
)

// stripeNode installs stripe-node, pinned by testdata/stripe-node/package-lock.json, once per lock into
// the user's cache directory, and returns the directory to run testdata's verify.js in. The machines
// CasaPay is built on have Node.js and npm and reach the npm registry.
var stripeNode = sync.OnceValues(func() (string, error) {
	src := filepath.Join("testdata", "stripe-node")
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return "", err
	}
	script, err := os.ReadFile(filepath.Join(src, "verify.js"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(lock, script...))
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "casapay-stripe-node-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "stripe", "package.json")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(cache, "casapay-stripe-node-*")
	if err != nil {
		return "", err
	}
	for _, name := range []string{"package.json", "package-lock.json", "verify.js"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, name), b, 0o644)
		}
		if err != nil {
			return "", err
		}
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.Error{Name: "npm ci: " + string(out), Err: err}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp) // another test process installed it first
	}
	return dir, nil
})

// TestStripeNodeVerifiesDeliveries hands a real delivery, as the receiver got it, to stripe-node's
// webhooks.constructEvent: it must accept it unchanged, and refuse it once the body is altered.
func TestStripeNodeVerifiesDeliveries(t *testing.T) {
	dir, err := stripeNode()
	if err != nil {
		t.Fatalf("install stripe-node (Node.js and npm are needed): %v", err)
	}
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		got := make(chan [2]string, 1)
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			select {
			case got <- [2]string{string(body), r.Header.Get("Stripe-Signature")}:
			default:
			}
		}))
		t.Cleanup(rc.Close)
		r := e.post(t, "/v1/webhook_endpoints", "url="+url.QueryEscape(rc.URL)+"&enabled_events[]=*")
		mustStatus(t, r, http.StatusOK)
		secret := r.JSON(t)["secret"].(string)
		mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		var delivery [2]string
		select {
		case delivery = <-got:
		case <-t.Context().Done():
			t.Fatal("no delivery arrived")
		}
		verify := func(body string) (string, error) {
			in, _ := json.Marshal(map[string]string{"body": body, "signature": delivery[1], "secret": secret})
			cmd := exec.Command("node", filepath.Join(dir, "verify.js"))
			cmd.Dir = dir
			cmd.Stdin = bytes.NewReader(in)
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := verify(delivery[0])
		var ev struct{ ID, Type string }
		if err != nil || json.Unmarshal([]byte(out), &ev) != nil || ev.Type != "customer.created" || ev.ID != e.listEvents(t, "")[0]["id"] {
			t.Errorf("stripe-node on the delivery: %v, %s", err, out)
		}
		if out, err := verify(delivery[0] + " "); err == nil {
			t.Errorf("stripe-node accepted an altered body: %s", out)
		}
	})
}
