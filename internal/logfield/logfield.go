// Package logfield holds the conventions of recs' log lines, shared by the
// commands (cli) and the pipeline so that every command writes the same
// fields the same way: durations are "seconds" (or "<what>_seconds"), JSON
// numbers to the millisecond; losses and other large sums carry 7
// significant digits.
package logfield

import (
	"math"
	"time"
)

// Seconds is d in seconds, rounded to the millisecond.
func Seconds(d time.Duration) float64 { return Round3(d.Seconds()) }

// Round3 rounds seconds (or any quantity) to three decimals.
func Round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Sig rounds x to 7 significant digits (a loss of 367322.36063364823 is
// logged as 367322.4). Zero, NaN and infinities are returned as they are.
func Sig(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, 6-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}
