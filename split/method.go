package split

import (
	"fmt"

	"github.com/recs-dev/recs/ratings"
)

// The methods, as flags and configuration files name them.
const (
	MethodRandom     = "random"     // Random, after MinRatings
	MethodStratified = "stratified" // Stratified
	MethodChrono     = "chrono"     // Chrono
	MethodLeaveLast  = "leave-last" // LeaveLast, after MinRatings by user
)

// RatioMethods are the methods that cut by ratios, in the order help texts
// list them.
var RatioMethods = []string{MethodRandom, MethodStratified, MethodChrono}

// Spec says how to split a table.
type Spec struct {
	Method string    // one of the Method constants
	Ratios []float64 // the parts' shares, as Cuts takes them (not for leave-last)
	// By groups the rows of the stratified and chronological splits and of
	// the minimum-ratings filter; leave-last always groups by user.
	By By
	// MinRatings drops the rows of groups with fewer rows before the split
	// (≤ 1 keeps all).
	MinRatings int
	Seed       int64 // random and stratified
	LeaveLast  int   // leave-last: the k most recent ratings of each user go to test
}

// Apply splits t as s says and returns the parts (for leave-last, [train,
// test]). The rows dropped by MinRatings are those of t missing from every
// part. Errors: an unknown method, and those of the method's function.
func Apply(t *ratings.Table, s Spec) ([]*ratings.Table, error) {
	switch s.Method {
	case MethodRandom:
		return Random(MinRatings(t, s.MinRatings, s.By), s.Ratios, s.Seed)
	case MethodStratified:
		return Stratified(t, s.Ratios, s.MinRatings, s.By, s.Seed)
	case MethodChrono:
		return Chrono(t, s.Ratios, s.MinRatings, s.By)
	case MethodLeaveLast:
		return LeaveLast(MinRatings(t, s.MinRatings, ByUser), s.LeaveLast)
	}
	return nil, fmt.Errorf("split: method %q: want random, stratified, chrono or leave-last", s.Method)
}
