package export

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestAIMDWindow runs the window on a clock that follows real time plus
// jumps the test makes, so that what belongs to one throttle episode is
// decided by the test, not by how fast the machine runs it.
func TestAIMDWindow(t *testing.T) {
	ctx := context.Background()
	a := newAIMD(1, 8, 8)
	var off atomic.Int64
	a.now = func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	jump := func(d time.Duration) { off.Add(int64(d)) }
	for range 8 {
		if err := a.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The window is full: a ninth request waits (nothing frees a slot).
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	if err := a.acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire on a full window: %v, want a timeout", err)
	}
	cancel()

	// A 429 halves the window and pauses everyone for the retry-after; more
	// 429s of the same episode (within the retry-after) do not halve it
	// again.
	a.throttled(time.Minute)
	a.throttled(time.Minute)
	if w := a.window(); w != 4 {
		t.Errorf("window after a throttle episode = %d, want 8/2 = 4", w)
	}
	for range 6 {
		a.failed()
	} // nothing in flight now
	a.mu.Lock()
	pause := a.pauseUntil
	a.mu.Unlock()
	jump(time.Minute - 50*time.Millisecond) // 50 ms of the pause left
	if err := a.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if now := a.now(); now.Before(pause) {
		t.Errorf("acquire returned %v before the pause ended", pause.Sub(now))
	}
	// Additive increase: each success adds 1/window, so from 4 the window
	// runs 4.25, 4.485, 4.708, 4.921, 5.124 (l ← l + 1/l): the fifth
	// success makes it 5.
	for i := 1; i <= 5; i++ {
		a.success()
		want := 4
		if i == 5 {
			want = 5
		}
		if w := a.window(); w != want {
			t.Errorf("after %d successes window = %d, want %d", i, w, want)
		}
		a.acquire(ctx)
	}
	a.failed()

	// Bounds: never above max, never below min.
	for range 200 {
		a.acquire(ctx)
		a.success()
	}
	if w := a.window(); w != 8 {
		t.Errorf("window after many successes = %d, want the max 8", w)
	}
	for range 10 {
		a.acquire(ctx)
		a.throttled(0)
		jump(11 * time.Millisecond) // past the 10 ms minimum episode: a new one each time
	}
	if w := a.window(); w != 1 {
		t.Errorf("window after many throttles = %d, want the min 1", w)
	}
}

func TestAIMDCancel(t *testing.T) {
	a := newAIMD(1, 1, 1)
	a.acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.acquire(ctx) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("acquire did not return after cancel")
	}
}
