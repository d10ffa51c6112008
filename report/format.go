package report

import (
	"math"
	"strconv"
	"strings"
)

// num formats a measured value for prose: four significant digits, plain
// notation for the magnitudes a run produces.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case math.IsInf(x, 0):
		return strconv.FormatFloat(x, 'f', -1, 64)
	case x == 0:
		return "0"
	}
	a := math.Abs(x)
	switch {
	case a >= 1e9 || a < 1e-4:
		return strconv.FormatFloat(x, 'g', 4, 64)
	case a >= 1e4:
		return groupDigits(strconv.FormatFloat(x, 'f', 0, 64))
	}
	// At most four significant digits, no trailing zeros: 0.04853, 12.35,
	// 0.21, 1234.
	dec := 3 - int(math.Floor(math.Log10(a)))
	s := strconv.FormatFloat(x, 'f', max(dec, 0), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fixed formats x with d decimals (metric tables: columns line up).
func fixed(x float64, d int) string {
	if math.IsNaN(x) {
		return "—"
	}
	return strconv.FormatFloat(x, 'f', d, 64)
}

// pct formats a fraction as a percentage: one decimal, two below 1%.
func pct(f float64) string {
	if math.IsNaN(f) {
		return "—"
	}
	p := 100 * f
	d := 1
	if math.Abs(p) < 1 && p != 0 {
		d = 2
	}
	return strconv.FormatFloat(p, 'f', d, 64) + "%"
}

// count formats an integer with thousands separators: 100,000.
func count(n int) string { return groupDigits(strconv.Itoa(n)) }

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// seconds formats a duration in seconds: < 1 ms, 42.5 ms, 3.142 s,
// 2 min 05 s.
func seconds(s float64) string {
	switch {
	case math.IsNaN(s):
		return "—"
	case s < 0.001:
		return "< 1 ms"
	case s < 1:
		return num(1000*s) + " ms"
	case s < 60:
		return num(s) + " s"
	}
	m := int(s / 60)
	r := int(math.Round(s - float64(60*m)))
	if r == 60 {
		m, r = m+1, 0
	}
	return strconv.Itoa(m) + " min " + twoDigits(r) + " s"
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// pretty writes a metric name as people read it: rmse → RMSE,
// ndcg@10 → NDCG@10, rsquared → R²; other names (map_at_k@10) as given.
func pretty(name string) string {
	base, at, _ := strings.Cut(name, "@")
	suffix := ""
	if at != "" {
		suffix = "@" + at
	}
	switch strings.ToLower(base) {
	case "rmse", "mae", "mse", "ndcg", "map", "auc":
		return strings.ToUpper(base) + suffix
	case "rsquared", "r2", "r_squared":
		return "R²" + suffix
	case "exp_var", "explained_variance":
		return "explained variance" + suffix
	}
	return name
}
