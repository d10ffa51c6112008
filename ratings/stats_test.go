package ratings

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	// Five rows by hand: users 1, 2, 3; items a, b; ratings 1, 4, 4, 5, 3.5.
	tab := mustTable(t, true,
		[4]string{"1", "a", "1", "100"},
		[4]string{"1", "b", "4", "50"},
		[4]string{"2", "a", "4", "300"},
		[4]string{"3", "b", "5", "200"},
		[4]string{"3", "a", "3.5", "250"})
	s := tab.Summary()
	want := Summary{
		Ratings: 5, Users: 3, Items: 2,
		Density:   5.0 / 6.0,
		RatingMin: 1, RatingMax: 5, RatingMean: 17.5 / 5,
		Histogram: []Bin{{1, 1, 1}, {3.5, 3.5, 1}, {4, 4, 2}, {5, 5, 1}},
		HasTimes:  true, TimeMin: 50, TimeMax: 300,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", s, want)
	}

	// The JSON keys that `recs ingest --json` prints, time range present.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ratings", "users", "items", "density", "histogram", "time_min", "time_max", "rating_mean"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
	if m["time_min"] != 50.0 || m["ratings"] != 5.0 {
		t.Errorf("JSON %s: time_min %v ratings %v", b, m["time_min"], m["ratings"])
	}

	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"ratings  5", "users    3", "density  83.33%", "1970-01-01T00:00:50Z .. 1970-01-01T00:05:00Z",
		"    4  2   40.0%  ########################################"} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("text output lacks %q:\n%s", line, text.String())
		}
	}
}

// A split shares its parent's dictionaries: only users and items with rows
// count.
func TestSummarySubset(t *testing.T) {
	tab := mustTable(t, false, [4]string{"1", "a", "1"}, [4]string{"2", "b", "2"}, [4]string{"3", "c", "3"})
	s := tab.Subset([]int{1}).Summary()
	if s.Users != 1 || s.Items != 1 || s.Density != 1 || s.Ratings != 1 {
		t.Errorf("subset summary %+v", s)
	}
	b, _ := json.Marshal(s)
	if strings.Contains(string(b), "time_min") {
		t.Errorf("JSON of a table without times has time_min: %s", b)
	}
}

func TestSummaryEmpty(t *testing.T) {
	s := mustTable(t, true).Summary()
	if s.Ratings != 0 || s.Users != 0 || s.Density != 0 || len(s.Histogram) != 0 {
		t.Errorf("empty summary %+v", s)
	}
	b, _ := json.Marshal(s)
	if !strings.Contains(string(b), `"histogram":[]`) || strings.Contains(string(b), "time_min") {
		t.Errorf("empty JSON %s", b)
	}
	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil || !strings.Contains(text.String(), "ratings  0") {
		t.Errorf("text %q, err %v", text.String(), err)
	}
}

// More than MaxDistinctRatings values: ten equal-width bins over [min, max].
func TestSummaryContinuousHistogram(t *testing.T) {
	b := NewBuilder(false)
	// Ratings 0.01, 0.02, ..., 1.00: 100 distinct values.
	for i := 1; i <= 100; i++ {
		b.Add("u", string(rune('a'+i%26))+string(rune('a'+i/26)), float32(i)/100, 0)
	}
	s := b.Table().Summary()
	if len(s.Histogram) != HistogramBins {
		t.Fatalf("%d bins", len(s.Histogram))
	}
	var total int64
	for _, bin := range s.Histogram {
		total += bin.Count
	}
	if total != 100 {
		t.Errorf("bins hold %d ratings, want 100", total)
	}
	// Width (1.00-0.01)/10 = 0.099: 0.01..0.10 fall in bin 0 (0.10 < 0.109)
	// → 10 values; the last bin [0.901, 1.00] holds 0.91..1.00 → 10 values.
	if s.Histogram[0].Count != 10 || s.Histogram[9].Count != 10 {
		t.Errorf("first/last bins %+v %+v", s.Histogram[0], s.Histogram[9])
	}
	if math.Abs(s.Histogram[0].Lo-0.01) > 1e-7 || math.Abs(s.Histogram[9].Hi-1) > 1e-7 {
		t.Errorf("range %v..%v", s.Histogram[0].Lo, s.Histogram[9].Hi)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 25000095: "25,000,095", -1234567: "-1,234,567"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
