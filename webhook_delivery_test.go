package casapay

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"
)

func TestSignWebhookIsStripes(t *testing.T) {
	at := time.Unix(1796360000, 0)
	body := []byte(`{"id":"evt_1","object":"event"}`)
	got := SignWebhook("whsec_test", at, body)
	want := "t=1796360000,v1=" + hex.EncodeToString(webhook.ComputeSignature(at, body, "whsec_test"))
	if got != want {
		t.Errorf("SignWebhook = %s, want %s", got, want)
	}
}

func TestNextRetry(t *testing.T) {
	for _, mode := range []struct {
		live     bool
		schedule []time.Duration
		total    time.Duration // about
	}{{true, LiveRetries, 72 * time.Hour}, {false, TestRetries, 2*time.Hour + 36*time.Minute}} {
		var sum time.Duration
		for i, base := range mode.schedule {
			d, ok := NextRetry(mode.live, i+1, 1)
			if !ok || d < base*8/10 || d > base*12/10 {
				t.Errorf("live %t, after attempt %d: %v, %t; want %v ±20%%", mode.live, i+1, d, ok, base)
			}
			sum += base
		}
		if _, ok := NextRetry(mode.live, len(mode.schedule)+1, 1); ok {
			t.Errorf("live %t: a retry after the last", mode.live)
		}
		if sum < mode.total*9/10 || sum > mode.total*11/10 {
			t.Errorf("live %t: retries span %v, want about %v", mode.live, sum, mode.total)
		}
		if d, _ := NextRetry(mode.live, 1, 0.001); d > time.Second {
			t.Errorf("scaled retry %v", d)
		}
	}
}

func TestPublicAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"0.0.0.0": false, "100.64.0.1": false, "::1": false, "fd00::1": false, "fe80::1": false, "::": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "224.0.0.1": false, "64:ff9b::a00:1": false,
		"::7f00:1": false, "::ffff:0:7f00:1": false, "2002:7f00:1::1": false, "2002:a9fe:a9fe::1": false,
		"2001:0:4136:e378::1": false, "fec0::1": false, "100::1": false, "2001:db8::1": false, "192.88.99.1": false,
	} {
		if got := PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %t, want %t", addr, got, want)
		}
	}
}
