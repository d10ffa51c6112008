package tune

import (
	"fmt"

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
	ratios := []float64{1 - h.Ratio, h.Ratio}
	var parts []*ratings.Table
	switch h.Method {
	case "stratified", "":
		parts, err = split.Stratified(t, ratios, 1, by, h.Seed)
	case "chrono":
		parts, err = split.Chrono(t, ratios, 1, by)
	case "random":
		parts, err = split.Random(t, ratios, h.Seed)
	default:
		return nil, nil, fmt.Errorf("tune: holdout method %q: want stratified, chrono or random", h.Method)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tune: holdout: %w", err)
	}
	return parts[0], parts[1], nil
}
