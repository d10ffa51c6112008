package tune

import (
	"fmt"
	"slices"

	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/split"
)

// HoldoutSplit carves a validation set out of t with package split:
// "stratified" (split.Stratified: the same share of every user's or item's
// rows, h.By, as Microsoft Recommenders' python_stratified_split),
// "chrono" (split.Chrono: each group's latest rows) or "random"
// (split.Random). Method "" means stratified and By "" means item. Both
// parts share t's dictionaries.
func HoldoutSplit(t *ratings.Table, h Holdout) (fit, valid *ratings.Table, err error) {
	if !(h.Ratio > 0 && h.Ratio < 1) {
		return nil, nil, fmt.Errorf("tune: holdout ratio %v: want a share in (0, 1)", h.Ratio)
	}
	name := h.By
	if name == "" {
		name = "item"
	}
	by, err := split.ParseBy(name)
	if err != nil {
		return nil, nil, fmt.Errorf("tune: holdout: %w", err)
	}
	method := h.Method
	if method == "" {
		method = split.MethodStratified
	}
	if !slices.Contains(split.RatioMethods, method) {
		return nil, nil, fmt.Errorf("tune: holdout method %q: want stratified, chrono or random", h.Method)
	}
	parts, err := split.Apply(t, split.Spec{Method: method, Ratios: []float64{1 - h.Ratio, h.Ratio}, By: by,
		MinRatings: 1, Seed: h.Seed})
	if err != nil {
		return nil, nil, fmt.Errorf("tune: holdout: %w", err)
	}
	return parts[0], parts[1], nil
}
