package export

import (
	"context"
	"sync"
	"time"
)

// aimd is an adaptive concurrency window: additive increase (one slot per
// window's worth of successes), multiplicative decrease (halve on a
// throttle, at most once per pause so a burst of 429s from the same
// overload counts once), and a shared pause that holds every new request
// until the service's retry-after has passed. TCP's congestion control,
// applied to a provisioned request-unit budget.
type aimd struct {
	mu           sync.Mutex
	cond         *sync.Cond
	limit        float64 // current window, in [min, max]
	min, max     float64
	inflight     int
	pauseUntil   time.Time
	lastDecrease time.Time
	now          func() time.Time
}

func newAIMD(min, max, start int) *aimd {
	a := &aimd{min: float64(min), max: float64(max), limit: float64(start), now: time.Now}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// window returns the current window size.
func (a *aimd) window() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}

// acquire waits for a free slot and for any pause to end.
func (a *aimd) acquire(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		a.mu.Lock()
		a.cond.Broadcast()
		a.mu.Unlock()
	})
	defer stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if wait := a.pauseUntil.Sub(a.now()); wait > 0 {
			a.mu.Unlock()
			err := sleep(ctx, wait)
			a.mu.Lock()
			if err != nil {
				return err
			}
			continue
		}
		if a.inflight < int(a.limit) {
			a.inflight++
			return nil
		}
		a.cond.Wait()
	}
}

// success releases a slot after a successful request and widens the window
// by 1/window (one slot per window of successes).
func (a *aimd) success() {
	a.mu.Lock()
	a.inflight--
	a.limit += 1 / a.limit
	if a.limit > a.max {
		a.limit = a.max
	}
	a.cond.Broadcast()
	a.mu.Unlock()
}

// throttled releases a slot after a 429, halves the window (once per
// overload episode) and pauses every request for retryAfter.
func (a *aimd) throttled(retryAfter time.Duration) {
	a.mu.Lock()
	now := a.now()
	if now.After(a.lastDecrease) {
		a.limit /= 2
		if a.limit < a.min {
			a.limit = a.min
		}
		// Further 429s from requests already in flight belong to the same
		// episode: do not halve again until the pause is over.
		a.lastDecrease = now.Add(max(retryAfter, 10*time.Millisecond))
	}
	if until := now.Add(retryAfter); until.After(a.pauseUntil) {
		a.pauseUntil = until
	}
	a.inflight--
	a.cond.Broadcast()
	a.mu.Unlock()
}

// failed releases a slot after a failure that says nothing about capacity.
func (a *aimd) failed() {
	a.mu.Lock()
	a.inflight--
	a.cond.Broadcast()
	a.mu.Unlock()
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
