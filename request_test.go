package casapay

import (
	"errors"
	"testing"
	"time"
)

func TestIdempotencyMatch(t *testing.T) {
	idem := &Idempotency{Key: "k1", Fingerprint: "f1", Created: time.Unix(1706140800, 0)}
	stored := &Response{Status: 201, Body: []byte(`{"id":"cus_1"}`)}

	got, err := idem.Match("f1", stored)
	if err != nil || got == nil || got.Status != 201 || string(got.Body) != string(stored.Body) || !got.Replayed {
		t.Errorf("Match(same fingerprint) = %+v, %v; want the stored response, replayed", got, err)
	}
	if stored.Replayed {
		t.Error("Match marked the stored response itself replayed; want a copy")
	}
	got, err = idem.Match("f2", stored)
	var e *Error
	if got != nil || !errors.As(err, &e) || e.Type != ErrorTypeIdempotency || e.Status != 400 {
		t.Errorf("Match(other fingerprint) = %v, %v; want a 400 idempotency_error", got, err)
	}
	if got, want := idem.Since(), time.Unix(1706140800-24*3600, 0); !got.Equal(want) {
		t.Errorf("Since() = %v, want %v", got, want)
	}
}
