package export

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// Sink publishes a set of top-k lists.
type Sink interface {
	// Publish reads src to the end and publishes every list, described by
	// meta. It returns what it did; on error the publication is not
	// visible as complete (see the package documentation).
	Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error)
}

var (
	_ Sink = (*DirSink)(nil)
	_ Sink = (*BlobSink)(nil)
	_ Sink = (*CosmosSink)(nil)

	_ Finalizer = (*DirSink)(nil)
	_ Finalizer = (*BlobSink)(nil)
)

// Finalizer completes a sharded publication (see the package
// documentation): once every one of the n shards of publication id has
// written its part, Finalize checks them all and switches the manifest to
// them; otherwise it fails with an *IncompleteError (wrapped in an
// errs.ServiceError) and switches nothing. Finalizing a publication the
// manifest already shows is a no-op that returns that manifest.
type Finalizer interface {
	Finalize(ctx context.Context, id string, n int) (Stats, error)
}

// ListSource yields lists one at a time; Next returns io.EOF after the
// last. *toplist.Reader is one.
type ListSource interface {
	Next() (toplist.List, error)
}

var _ ListSource = (*toplist.Reader)(nil)

// Lists returns a ListSource over lists in memory.
func Lists(lists []toplist.List) ListSource { return &sliceSource{lists: lists} }

type sliceSource struct {
	lists []toplist.List
	i     int
}

func (s *sliceSource) Next() (toplist.List, error) {
	if s.i >= len(s.lists) {
		return toplist.List{}, io.EOF
	}
	s.i++
	return s.lists[s.i-1], nil
}

// Stats says what a publication did.
type Stats struct {
	Documents int64         `json:"documents"` // lists published by this run (Cosmos: documents upserted)
	Skipped   int64         `json:"skipped"`   // lists skipped because a checkpoint showed them written (Resume)
	Retries   int64         `json:"retries"`   // requests repeated after a throttle or a transient failure
	Throttles int64         `json:"throttles"` // 429 responses
	Bytes     int64         `json:"bytes"`     // bytes sent: document bodies, or file and blob contents
	Elapsed   time.Duration `json:"-"`
	Manifest  *Manifest     `json:"manifest,omitempty"` // DirSink and BlobSink
	Part      *PartRecord   `json:"part,omitempty"`     // DirSink and BlobSink writing one shard
	// Warnings are problems that did not stop the publication, such as an
	// old generation that could not be deleted.
	Warnings []string `json:"warnings,omitempty"`
}

// DocsPerSecond returns Documents / Elapsed (0 when nothing elapsed).
func (s Stats) DocsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Documents) / s.Elapsed.Seconds()
}

// MBPerSecond returns Bytes / Elapsed in 10⁶ bytes per second.
func (s Stats) MBPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Bytes) / 1e6 / s.Elapsed.Seconds()
}

// Counters are updated by a sink while it publishes, so another goroutine
// can show progress (a ticker reading them; the sink only adds). A sink
// whose Progress field is nil keeps its own.
type Counters struct {
	Documents atomic.Int64
	Skipped   atomic.Int64
	Retries   atomic.Int64
	Throttles atomic.Int64
	Bytes     atomic.Int64
	Window    atomic.Int64 // current concurrency window (Cosmos), 0 otherwise
}

// snapshot copies the counters into a Stats.
func (c *Counters) snapshot(start time.Time) Stats {
	return Stats{
		Documents: c.Documents.Load(),
		Skipped:   c.Skipped.Load(),
		Retries:   c.Retries.Load(),
		Throttles: c.Throttles.Load(),
		Bytes:     c.Bytes.Load(),
		Elapsed:   time.Since(start),
	}
}

func countersOr(c *Counters) *Counters {
	if c != nil {
		return c
	}
	return new(Counters)
}
