package ingest

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// refParse is a slow, obviously correct reader for the inputs the fuzz
// targets generate (no quotes, no BOM, no header): split on lines and the
// separator with package strings, parse numbers with strconv, keep the
// last rating of each (user, item) by (timestamp, line). It returns the
// rows in table order, or the 1-based line of the first bad line.
func refParse(data, sep string, hasTime bool) (rows []row, badLine int) {
	type key struct{ u, i string }
	pos := map[key]int{}
	need := 3
	if hasTime {
		need = 4
	}
	for n, line := range strings.Split(data, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		f := strings.Split(line, sep)
		if len(f) < need || f[0] == "" || f[1] == "" {
			return nil, n + 1
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(f[2]), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, n + 1
		}
		r := row{u: f[0], i: f[1], r: float32(v)}
		if hasTime {
			s := strings.TrimSpace(f[3])
			digits := strings.TrimPrefix(s, "-")
			if digits == "" || len(digits) > 18 || strings.TrimLeft(digits, "0123456789") != "" {
				return nil, n + 1
			}
			r.t, _ = strconv.ParseInt(s, 10, 64)
		}
		k := key{r.u, r.i}
		if p, ok := pos[k]; ok {
			if r.t >= rows[p].t {
				rows[p].u = "" // dropped
				pos[k] = len(rows)
				rows = append(rows, r)
			} else {
				rows = append(rows, row{}) // placeholder for a dropped row
			}
			continue
		}
		pos[k] = len(rows)
		rows = append(rows, r)
	}
	out := rows[:0]
	for _, r := range rows {
		if r.u != "" {
			out = append(out, r)
		}
	}
	return out, 0
}

// fuzzFormat checks Read of data forced to format against refParse, and
// that the result does not depend on chunk size or workers.
func fuzzFormat(t *testing.T, data []byte, format Format, sep string, hasTime bool) {
	if bytes.ContainsAny(data, "\"") || bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) ||
		bytes.HasPrefix(data, magicGzip) || bytes.HasPrefix(data, magicZip) || bytes.HasPrefix(data, magicParquet) {
		// Quotes, BOMs and containers are beyond refParse; still no panic.
		ReadFrom(context.Background(), "fuzz", bytes.NewReader(data), Options{Format: format, Sep: sep, Header: HeaderNo})
		return
	}
	opts := Options{Format: format, Sep: sep, Header: HeaderNo}
	opts.TimeCol = "3"
	if !hasTime {
		opts.TimeCol = NoColumn
	}
	want, badLine := refParse(string(data), sep, hasTime)
	defer func(n int) { chunkSize = n }(chunkSize)
	for _, cs := range []int{5, 1 << 20} {
		chunkSize = cs
		for _, workers := range []int{1, 3} {
			opts.Workers = workers
			tab, _, err := ReadFrom(context.Background(), "fuzz", bytes.NewReader(data), opts)
			switch {
			case badLine > 0:
				if err == nil {
					t.Fatalf("chunk %d workers %d: accepted, refParse rejects line %d", cs, workers, badLine)
				}
				if wantPrefix := "fuzz:" + strconv.Itoa(badLine) + ":"; !strings.HasPrefix(err.Error(), wantPrefix) {
					t.Fatalf("chunk %d workers %d: error %q, want one about line %d", cs, workers, err, badLine)
				}
			case len(want) == 0:
				if err == nil {
					t.Fatalf("accepted an input without rows")
				}
			default:
				if err != nil {
					t.Fatalf("chunk %d workers %d: %v; refParse gives %d rows", cs, workers, err, len(want))
				}
				got := rowsOf(tab)
				if !hasTime {
					for k := range got {
						got[k].t = 0
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("chunk %d workers %d:\n got %v\nwant %v", cs, workers, got, want)
				}
			}
		}
	}
}

func FuzzUData(f *testing.F) {
	f.Add([]byte(uData))
	f.Add([]byte("1\t2\t3\t4\r\n1\t2\t5\t4\n\n007\t7\t-1.5\t-3\n"))
	f.Add([]byte("1\t2\t3\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzFormat(t, data, FormatUData, "\t", true) })
}

func FuzzDat(f *testing.F) {
	f.Add([]byte(dat))
	f.Add([]byte("1::2::3.5::4\n1:::2::3::4\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzFormat(t, data, FormatDat, "::", true) })
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(strings.SplitN(csv, "\n", 2)[1]))
	f.Add([]byte("1,2,1e0,4\r\na,b,.5,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzFormat(t, data, FormatCSV, ",", true) })
}

func FuzzDelimited(f *testing.F) {
	f.Add([]byte("u1|i1|5\nu2|i1|1\n"), "|")
	f.Add([]byte("a;;b;;3\n"), ";;")
	f.Fuzz(func(t *testing.T, data []byte, sep string) {
		if sep == "" || strings.ContainsAny(sep, "\r\n\"") || len(sep) > 4 {
			return
		}
		fuzzFormat(t, data, FormatDelimited, sep, false)
	})
}

// FuzzDetect feeds arbitrary bytes through detection with nothing forced:
// it must not panic, and any accepted table must be well formed.
func FuzzDetect(f *testing.F) {
	f.Add([]byte(csv))
	f.Add([]byte("\ufeffuser;item;rating\n\"a;b\";c;1\n"))
	f.Add(gz(f, uData))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, rep, err := ReadFrom(context.Background(), "fuzz", bytes.NewReader(data), Options{SkipBad: true})
		if err != nil {
			return
		}
		if int64(tab.Len()) != rep.Rows || tab.Len() == 0 {
			t.Fatalf("table of %d rows, report %+v", tab.Len(), rep)
		}
		for k := range tab.Ratings {
			if v := float64(tab.Ratings[k]); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("row %d: rating %v", k, v)
			}
		}
	})
}

// FuzzRating checks the fast rating path against strconv.ParseFloat(s, 32).
func FuzzRating(f *testing.F) {
	for _, s := range []string{"3", "3.5", "-0.5", "1234567", "0.1234567", "12345678", "1e3", "nan", " 4 ", ".5", "5.", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, msg := parseRating([]byte(s))
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
		ok := err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
		if (msg == "") != ok {
			t.Fatalf("parseRating(%q) msg %q; ParseFloat %v, %v", s, msg, v, err)
		}
		if ok && got != float32(v) {
			t.Fatalf("parseRating(%q) = %v, ParseFloat = %v", s, got, float32(v))
		}
	})
}

// FuzzCanonicalDecimal checks that exactly the canonical decimal forms take
// the integer path, so "007" and "7" stay different ids.
func FuzzCanonicalDecimal(f *testing.F) {
	for _, s := range []string{"0", "7", "007", "-7", "+7", "999999999999999999", "1000000000000000000", "1a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := canonicalDecimal([]byte(s))
		want := len(s) <= 18 && len(s) > 0 && strconv.FormatUint(v, 10) == s
		if ok != want || (ok && formatDecimal(v) != s) {
			t.Fatalf("canonicalDecimal(%q) = %d, %v", s, v, ok)
		}
	})
}
