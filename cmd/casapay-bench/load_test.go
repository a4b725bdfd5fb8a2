package main

import (
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(float64(i + 1)) // 1ms … 100ms
	}
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = ms(float64(i + 1))
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"none", nil, 0.99, 0},
		{"one value", []time.Duration{ms(7)}, 0.5, ms(7)},
		{"one value p99.9", []time.Duration{ms(7)}, 0.999, ms(7)},
		{"median of two is the lower", []time.Duration{ms(1), ms(2)}, 0.5, ms(1)},
		{"p50 of 100", hundred, 0.5, ms(50)},
		{"p99 of 100", hundred, 0.99, ms(99)},
		{"p99.9 of 100 is the maximum", hundred, 0.999, ms(100)},
		{"p99.9 of 1000", thousand, 0.999, ms(999)},
		{"p100", hundred, 1, ms(100)},
		{"tiny q is the minimum", hundred, 0.0001, ms(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.q, got, tt.want)
			}
		})
	}
}
