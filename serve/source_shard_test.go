package serve

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/toplist"
)

// TestFileSourceShardedPublication: a directory publication finalized from
// three shard parts loads as one Index holding every user's list once,
// each as published.
func TestFileSourceShardedPublication(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	meta := toplist.Meta{Model: "als-s", K: 2, GeneratedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	var lists []toplist.List
	for u := 0; u < 90; u++ {
		lists = append(lists, toplist.List{User: fmt.Sprint("u", u), Items: []toplist.Item{{ID: fmt.Sprint("i", u%7), Score: float32(u)}}})
	}
	for i := 0; i < 3; i++ {
		s := &export.DirSink{Dir: dir, Shard: toplist.Shard{Index: i, Count: 3}, Publication: "p1"}
		if _, err := s.Publish(ctx, meta, export.Lists(lists)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (&export.DirSink{Dir: dir}).Finalize(ctx, "p1", 3); err != nil {
		t.Fatal(err)
	}
	idx, _, err := (&FileSource{Path: dir}).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != 90 {
		t.Fatalf("%d lists, want 90", idx.Len())
	}
	for _, l := range lists {
		r, ok := idx.Get(l.User)
		if want := fmt.Sprintf(`"id":"%s"`, l.Items[0].ID); !ok || r.Len() != 1 || !strings.Contains(string(r.cut(1)), want) {
			t.Errorf("user %s: %q, want an item %s", l.User, r.cut(1), want)
		}
	}
}
