// Package progress reports the advance of long work on stderr: a live bar
// on a terminal, a JSON log line every few seconds otherwise, nothing when
// quiet. Work loops only add to an atomic counter; a ticker goroutine does
// the drawing, so reporting costs the hot loop one atomic add.
package progress

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/recs-dev/recs/internal/logfield"
)

// Mode says how progress is shown.
type Mode int

const (
	Quiet Mode = iota // nothing
	Bar               // a live bar (terminal)
	Log               // a structured log line every LogEvery
)

// LogEvery is the interval of log-mode reports.
var LogEvery = 5 * time.Second

// Reporter shows the advance of one task. Its zero value is not usable; a
// nil *Reporter is, and does nothing.
type Reporter struct {
	n, total atomic.Int64
	desc     string
	stop     chan struct{}
	wg       sync.WaitGroup
	bar      *progressbar.ProgressBar
	log      *slog.Logger
	start    time.Time
	poll     func() (int64, string)
	note     atomic.Pointer[string]
}

// Options refine a Reporter.
type Options struct {
	// Bytes shows sizes and throughput in B, kB, MB.
	Bytes bool
	// Unit names what is counted on the bar ("docs"); "" means "it".
	Unit string
	// NoRate leaves the rate off the bar: for a few long steps
	// (iterations, trials) a rate per second is noise; the bar still shows
	// the count, the elapsed time and the estimate of the time left.
	NoRate bool
	// Poll, when set, is called at every tick instead of relying on Add
	// and Set: it returns the units done so far and a short note (retries,
	// throttles) shown beside the description.
	Poll func() (done int64, note string)
}

// Start begins reporting task desc of total units (total <= 0: unknown).
// w is the terminal for Bar mode; logger receives Log-mode lines.
func Start(mode Mode, w io.Writer, logger *slog.Logger, desc string, total int64) *Reporter {
	return StartWith(mode, w, logger, desc, total, Options{})
}

// StartBytes is Start for a task counted in bytes.
func StartBytes(mode Mode, w io.Writer, logger *slog.Logger, desc string, total int64) *Reporter {
	return StartWith(mode, w, logger, desc, total, Options{Bytes: true})
}

// StartWith is Start with options.
func StartWith(mode Mode, w io.Writer, logger *slog.Logger, desc string, total int64, o Options) *Reporter {
	if mode == Quiet {
		return nil
	}
	r := &Reporter{desc: desc, stop: make(chan struct{}), log: logger, start: time.Now(), poll: o.Poll}
	unit := o.Unit
	if unit == "" {
		unit = "it"
	}
	r.total.Store(total)
	every := LogEvery
	if mode == Bar {
		max := total
		if max <= 0 {
			max = -1
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowBytes(o.Bytes),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSpinnerType(14),
		}
		if !o.NoRate {
			opts = append(opts, progressbar.OptionShowIts())
		}
		r.bar = progressbar.NewOptions64(max, opts...)
		every = 150 * time.Millisecond
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.draw()
			}
		}
	}()
	return r
}

func (r *Reporter) draw() {
	note := ""
	if p := r.note.Load(); p != nil {
		note = *p
	}
	if r.poll != nil {
		var n int64
		n, note = r.poll()
		r.n.Store(n)
	}
	n := r.n.Load()
	if r.bar != nil {
		if note != "" {
			r.bar.Describe(r.desc + "  " + note)
		}
		r.bar.Set64(n)
		return
	}
	if r.log != nil {
		args := []any{"task", r.desc, "done", n, "total", r.total.Load(), "seconds", logfield.Seconds(time.Since(r.start))}
		if note != "" {
			args = append(args, "note", note)
		}
		r.log.Info("progress", args...)
	}
}

// Note sets a short note shown beside the description (a loss, say); on
// a log line it is the "note" field.
func (r *Reporter) Note(s string) {
	if r != nil {
		r.note.Store(&s)
	}
}

// Add records n more units done.
func (r *Reporter) Add(n int64) {
	if r != nil {
		r.n.Add(n)
	}
}

// Set records the units done so far.
func (r *Reporter) Set(n int64) {
	if r != nil {
		r.n.Store(n)
	}
}

// SetTotal changes the expected total.
func (r *Reporter) SetTotal(n int64) {
	if r != nil {
		r.total.Store(n)
		if r.bar != nil {
			r.bar.ChangeMax64(n)
		}
	}
}

// Done stops the reporter and clears the bar.
func (r *Reporter) Done() {
	if r == nil {
		return
	}
	close(r.stop)
	r.wg.Wait()
	if r.poll != nil {
		n, _ := r.poll()
		r.n.Store(n)
	}
	if r.bar != nil {
		r.bar.Set64(r.n.Load())
		r.bar.Finish()
	}
}
