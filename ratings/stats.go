package ratings

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary describes a table: what `recs ingest` and `recs split` print.
// Users and Items count only ids with at least one row (a split shares its
// parent's dictionaries, so its dictionaries may be larger).
type Summary struct {
	Ratings    int64   `json:"ratings"`     // rows
	Users      int     `json:"users"`       // users with at least one row
	Items      int     `json:"items"`       // items with at least one row
	Density    float64 `json:"density"`     // Ratings / (Users × Items); 0 when empty
	RatingMin  float64 `json:"rating_min"`  // 0 when empty
	RatingMax  float64 `json:"rating_max"`  // 0 when empty
	RatingMean float64 `json:"rating_mean"` // 0 when empty
	Histogram  []Bin   `json:"histogram"`   // see Bin; empty when the table is
	HasTimes   bool    `json:"has_times"`
	TimeMin    int64   `json:"time_min"` // Unix seconds; in JSON only when HasTimes and rows exist
	TimeMax    int64   `json:"time_max"`
}

// Bin is one bar of the rating histogram. When the table holds at most
// MaxDistinctRatings distinct rating values (any explicit-rating data set),
// there is one bin per value with Lo == Hi == the value. Otherwise the range
// [RatingMin, RatingMax] is cut into HistogramBins bins of equal width,
// each [Lo, Hi) except the last, which is [Lo, Hi].
type Bin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int64   `json:"count"`
}

// MaxDistinctRatings is the largest number of distinct rating values for
// which the histogram has one bin per value.
const MaxDistinctRatings = 32

// HistogramBins is the number of bins of a histogram of continuous ratings.
const HistogramBins = 10

// MarshalJSON writes the summary with time_min and time_max only when the
// table has times and at least one row.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	out := struct {
		plain
		TimeMin *int64 `json:"time_min,omitempty"`
		TimeMax *int64 `json:"time_max,omitempty"`
	}{plain: plain(s)}
	if out.Histogram == nil {
		out.Histogram = []Bin{}
	}
	if s.HasTimes && s.Ratings > 0 {
		out.TimeMin, out.TimeMax = &s.TimeMin, &s.TimeMax
	}
	return json.Marshal(out)
}

// Summary computes the statistics of the table in one pass over its rows
// (two when ratings take more than MaxDistinctRatings values): O(rows +
// dictionary sizes) time, O(dictionary sizes) memory.
func (t *Table) Summary() Summary {
	s := Summary{Ratings: int64(t.Len()), HasTimes: t.HasTimes()}
	s.Users = t.ActiveUsers()
	s.Items = t.ActiveItems()
	if s.Ratings == 0 {
		return s
	}
	s.Density = float64(s.Ratings) / (float64(s.Users) * float64(s.Items))

	lo, hi := math.Inf(1), math.Inf(-1)
	var sum float64
	// Most rating scales are half steps in [0, 10]: count those in an
	// array, and other values in a short list while there are few.
	var halves [21]int64
	var others []Bin
	tooMany := false
	for _, r := range t.Ratings {
		v := float64(r)
		sum += v
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		// A half step in [0, 10]: 2v converts to an integer 0..20 and back
		// (a conversion, where math.Trunc is a call without SSE4.1).
		if h := v * 2; uint64(int64(h)) <= 20 && float64(int64(h)) == h {
			halves[int64(h)]++
			continue
		}
		if tooMany {
			continue
		}
		found := false
		for i := range others {
			if others[i].Lo == v {
				others[i].Count++
				found = true
				break
			}
		}
		if !found {
			others = append(others, Bin{Lo: v, Hi: v, Count: 1})
			tooMany = len(others) > MaxDistinctRatings
		}
	}
	s.RatingMin, s.RatingMax, s.RatingMean = lo, hi, sum/float64(s.Ratings)
	for h, c := range halves {
		if c > 0 {
			others = append(others, Bin{Lo: float64(h) / 2, Hi: float64(h) / 2, Count: c})
		}
	}
	if !tooMany && len(others) <= MaxDistinctRatings {
		slices.SortFunc(others, func(a, b Bin) int { return cmp.Compare(a.Lo, b.Lo) })
		s.Histogram = others
	} else {
		s.Histogram = equalWidthHistogram(t.Ratings, lo, hi)
	}
	if t.HasTimes() {
		s.TimeMin, s.TimeMax = t.Times[0], t.Times[0]
		for _, ts := range t.Times {
			s.TimeMin, s.TimeMax = min(s.TimeMin, ts), max(s.TimeMax, ts)
		}
	}
	return s
}

func equalWidthHistogram(ratings []float32, lo, hi float64) []Bin {
	bins := make([]Bin, HistogramBins)
	w := (hi - lo) / HistogramBins
	for i := range bins {
		bins[i].Lo = lo + float64(i)*w
		bins[i].Hi = lo + float64(i+1)*w
	}
	bins[HistogramBins-1].Hi = hi
	for _, r := range ratings {
		k := int((float64(r) - lo) / w)
		k = min(max(k, 0), HistogramBins-1)
		bins[k].Count++
	}
	return bins
}

// WriteText writes the summary for people: aligned "name value" lines and
// the histogram with bars.
func (s Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ratings\t%s\n", Thousands(s.Ratings))
	fmt.Fprintf(tw, "users\t%s\n", Thousands(int64(s.Users)))
	fmt.Fprintf(tw, "items\t%s\n", Thousands(int64(s.Items)))
	fmt.Fprintf(tw, "density\t%.4g%%\n", 100*s.Density)
	if s.Ratings > 0 {
		fmt.Fprintf(tw, "rating\tmin %s, max %s, mean %.4f\n", fmtRating(s.RatingMin), fmtRating(s.RatingMax), s.RatingMean)
	}
	if s.HasTimes && s.Ratings > 0 {
		fmt.Fprintf(tw, "time\t%s .. %s\n", fmtTime(s.TimeMin), fmtTime(s.TimeMax))
	} else if !s.HasTimes {
		fmt.Fprintf(tw, "time\tnone\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Histogram) == 0 {
		return nil
	}
	var top int64
	for _, b := range s.Histogram {
		top = max(top, b.Count)
	}
	labels := make([]string, len(s.Histogram))
	lw, cw := 0, 0
	for i, b := range s.Histogram {
		labels[i] = fmtRating(b.Lo)
		if b.Hi != b.Lo {
			labels[i] = fmt.Sprintf("%.4g-%.4g", b.Lo, b.Hi)
		}
		lw, cw = max(lw, len(labels[i])), max(cw, len(Thousands(b.Count)))
	}
	if _, err := fmt.Fprintln(w, "histogram"); err != nil {
		return err
	}
	for i, b := range s.Histogram {
		bar := strings.Repeat("#", int(math.Round(40*float64(b.Count)/float64(max(top, 1)))))
		if _, err := fmt.Fprintf(w, "  %*s  %*s  %5.1f%%  %s\n", lw, labels[i], cw, Thousands(b.Count),
			100*float64(b.Count)/float64(s.Ratings), bar); err != nil {
			return err
		}
	}
	return nil
}

func fmtRating(v float64) string { return strconv.FormatFloat(v, 'g', -1, 32) }

func fmtTime(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }

// Thousands formats n with commas between groups of three digits:
// 25000095 → "25,000,095".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
