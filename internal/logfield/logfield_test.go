package logfield

import (
	"testing"
	"time"
)

// The expected values are the inputs rounded by hand.
func TestRounding(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{367322.36063364823, 367322.4},
		{0.000123456789, 0.0001234568},
		{-2.5, -2.5},
		{0, 0},
	} {
		if got := Sig(c.in); got != c.want {
			t.Errorf("Sig(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := Seconds(1234567 * time.Microsecond); got != 1.235 {
		t.Errorf("Seconds(1.234567 s) = %v, want 1.235", got)
	}
}
