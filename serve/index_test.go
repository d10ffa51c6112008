package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/toplist"
)

var testMeta = toplist.Meta{Model: "als-test", K: 3, GeneratedAt: time.Date(2026, 11, 26, 6, 15, 0, 0, time.UTC)}

func testLists() []toplist.List {
	return []toplist.List{
		{User: "196", Items: []toplist.Item{{ID: "242", Score: 4.61}, {ID: "302", Score: 4.55}, {ID: "377", Score: 4.2}}},
		{User: "186", Items: []toplist.Item{{ID: "302", Score: 4.9}, {ID: "50", Score: 4.8}}},
		{User: `odd "<id>" \ é`, Items: []toplist.Item{{ID: "a&b", Score: -1e-7}, {ID: "x\u2028y", Score: 3e21}}},
		{User: "empty", Items: nil},
	}
}

// wantResponse is the response for l cut at k, encoded by encoding/json:
// the reference the pre-encoded bytes must equal.
func wantResponse(t *testing.T, meta toplist.Meta, l toplist.List, k int, fallback bool) string {
	t.Helper()
	items := l.Items
	if k < len(items) {
		items = items[:k]
	}
	if items == nil {
		items = []toplist.Item{}
	}
	v := struct {
		User        string         `json:"user"`
		Items       []toplist.Item `json:"items"`
		Model       string         `json:"model,omitempty"`
		GeneratedAt string         `json:"generatedAt,omitempty"`
		Fallback    bool           `json:"fallback,omitempty"`
	}{l.User, items, meta.Model, "", fallback}
	if !meta.GeneratedAt.IsZero() {
		v.GeneratedAt = meta.GeneratedAt.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func recordBytes(r Record, k int) string { return string(r.cut(k)) + string(r.tail) }

func TestIndexMatchesEncodingJSON(t *testing.T) {
	lists := testLists()
	idx, err := NewIndex(testMeta, lists)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != len(lists) || idx.MaxK() != 3 {
		t.Fatalf("Len %d MaxK %d, want %d and 3 (meta.K)", idx.Len(), idx.MaxK(), len(lists))
	}
	for _, l := range lists {
		r, ok := idx.Get(l.User)
		if !ok {
			t.Fatalf("user %q not found", l.User)
		}
		if r.Len() != len(l.Items) {
			t.Errorf("user %q: %d items, want %d", l.User, r.Len(), len(l.Items))
		}
		for k := 0; k <= 4; k++ {
			if got, want := recordBytes(r, k), wantResponse(t, testMeta, l, k, false); got != want {
				t.Errorf("user %q k=%d:\n got %s\nwant %s", l.User, k, got, want)
			}
		}
	}
	for _, u := range []string{"", "19", "1966", "unknown", "196 "} {
		if _, ok := idx.Get(u); ok {
			t.Errorf("Get(%q) found a record", u)
		}
	}
}

func TestIndexMaxKFromLongestList(t *testing.T) {
	// Without meta.K the longest list (3 items, user 196) sets MaxK.
	idx, err := NewIndex(toplist.Meta{}, testLists())
	if err != nil {
		t.Fatal(err)
	}
	if idx.MaxK() != 3 {
		t.Errorf("MaxK %d, want 3", idx.MaxK())
	}
	r, _ := idx.Get("186")
	// No model or time: the tail is just the closing of the array.
	if got := recordBytes(r, 1); got != `{"user":"186","items":[{"id":"302","score":4.9}]}`+"\n" {
		t.Errorf("got %s", got)
	}
}

func TestIndexRejects(t *testing.T) {
	cases := []struct {
		name string
		l    toplist.List
		want string
	}{
		{"empty id", toplist.List{User: ""}, "not valid"},
		{"control char", toplist.List{User: "a\nb"}, "not valid"},
		{"too long", toplist.List{User: strings.Repeat("x", MaxIDBytes+1)}, "not valid"},
		{"bad utf8", toplist.List{User: "a\xffb"}, "not valid"},
		{"duplicate", toplist.List{User: "196"}, "appears twice"},
		{"too many items", toplist.List{User: "n", Items: make([]toplist.Item, 4)}, "more than k = 3"},
		{"nan", toplist.List{User: "n", Items: []toplist.Item{{ID: "1", Score: float32(math.NaN())}}}, "score"},
		{"inf", toplist.List{User: "n", Items: []toplist.Item{{ID: "1", Score: float32(math.Inf(1))}}}, "score"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder(testMeta, 0)
			if err := b.Add(testLists()[0]); err != nil {
				t.Fatal(err)
			}
			err := b.Add(c.l)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Add: %v, want an error containing %q", err, c.want)
			}
			// The failed Add left the builder usable and unchanged.
			if err := b.Add(toplist.List{User: "after"}); err != nil {
				t.Fatal(err)
			}
			idx := b.Build()
			if idx.Len() != 2 {
				t.Errorf("Len %d after a rejected Add, want 2", idx.Len())
			}
			if _, ok := idx.Get(c.l.User); ok && c.name != "duplicate" {
				t.Errorf("rejected user %q is in the index", c.l.User)
			}
		})
	}
}

// TestIndexManyUsers grows the hash table many times over and checks every
// user is found with its own record (seeded random ids and scores).
func TestIndexManyUsers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 50_000
	b := NewBuilder(toplist.Meta{K: 10}, 0) // no size hint: forces growth
	lists := make([]toplist.List, n)
	for i := range lists {
		l := toplist.List{User: fmt.Sprintf("u%d-%x", i, rng.Uint32())}
		for j := 0; j < 1+rng.IntN(10); j++ {
			l.Items = append(l.Items, toplist.Item{ID: fmt.Sprint(j), Score: rng.Float32()})
		}
		lists[i] = l
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	idx := b.Build()
	for _, l := range lists {
		r, ok := idx.Get(l.User)
		if !ok {
			t.Fatalf("user %q missing", l.User)
		}
		if got, want := recordBytes(r, 10), wantResponse(t, toplist.Meta{}, l, 10, false); got != want {
			t.Fatalf("user %q: got %s want %s", l.User, got, want)
		}
	}
}

func TestIndexGetAllocatesNothing(t *testing.T) {
	idx, err := NewIndex(testMeta, testLists())
	if err != nil {
		t.Fatal(err)
	}
	user := strings.Clone("196")
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := idx.Get(user); !ok {
			t.Fatal("missing")
		}
		if _, ok := idx.Get("nobody"); ok {
			t.Fatal("found")
		}
	})
	if allocs != 0 {
		t.Errorf("Get allocates %v times per call, want 0", allocs)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `q"b\s`, "\x00\x01\b\f\n\r\t\x1f", "<a&b>", "é✓", "\u2028\u2029", "bad\xff\xfeutf8", "\x7f"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := toplist.AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
	}
	floats := []float32{0, 1, -1, 4.61, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 3.4e38, -2.5e-10, math.SmallestNonzeroFloat32, 0.1}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		if got := toplist.AppendScore(nil, f); string(got) != string(want) {
			t.Errorf("%v: got %s want %s", f, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("196", float32(4.61))
	f.Add("a\"<\u2028\xff", float32(1e-9))
	f.Fuzz(func(t *testing.T, s string, x float32) {
		want, _ := json.Marshal(s)
		if got := toplist.AppendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return
		}
		want, _ = json.Marshal(x)
		if got := toplist.AppendScore(nil, x); string(got) != string(want) {
			t.Fatalf("%v: got %s want %s", x, got, want)
		}
	})
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"196": true, "A3R5OBKS7OM2IR": true, "a b": true, "é": true, "a/b": true,
		"": false, "a\tb": false, "\x7f": false, "\u0085": false, "\xff": false,
		strings.Repeat("x", MaxIDBytes): true, strings.Repeat("x", MaxIDBytes+1): false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestPopularFromLists(t *testing.T) {
	p := NewPopular([]toplist.Item{{ID: "50", Score: 583}, {ID: "258", Score: 509}})
	if p.Len() != 2 {
		t.Fatalf("Len %d", p.Len())
	}
	if got := string(p.cut(1)); got != `{"id":"50","score":583}` {
		t.Errorf("cut(1) = %s", got)
	}
	if got := string(p.cut(5)); got != `{"id":"50","score":583},{"id":"258","score":509}` {
		t.Errorf("cut(5) = %s", got)
	}
}
