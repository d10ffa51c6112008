package serve

import (
	"context"
	"log/slog"
	"time"
)

// Loader is a source that loads into an Index and can tell cheaply whether
// its content has changed.
type Loader interface {
	// Version returns a token that changes whenever the content does (a
	// resolved path and modification time, an ETag). It should be cheap.
	Version(ctx context.Context) (string, error)
	// Load reads the current content into an index, returning it with the
	// version it read. It honours ctx.
	Load(ctx context.Context) (*Index, string, error)
	// String describes the source for logs, without secrets.
	String() string
}

// Reloader keeps a Server's index in step with a Loader: every Interval it
// asks for the version, and when it differs from the one served it loads the
// new content in the background (the old index keeps serving) and swaps it
// in atomically. A failed load is logged and counted, the old index stays,
// and the next poll tries again.
type Reloader struct {
	Loader   Loader
	Server   *Server
	Interval time.Duration
	Log      *slog.Logger
	// Current is the version being served (from the initial load).
	Current string
	// OnSwap, if set, is called after each successful swap (for tests).
	OnSwap func(version string)
}

// Run polls until ctx ends. It returns nil when ctx ends.
func (rl *Reloader) Run(ctx context.Context) error {
	log := rl.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(rl.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		v, err := rl.Loader.Version(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("reload: cannot check the source", "source", rl.Loader.String(), "err", Redact(err.Error()))
			continue
		}
		if v == rl.Current {
			continue
		}
		rl.reload(ctx, log)
	}
}

// ReloadNow loads the source and swaps it in if its version differs from
// the one served; it reports whether it swapped.
func (rl *Reloader) ReloadNow(ctx context.Context) (bool, error) {
	log := rl.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return rl.reload(ctx, log)
}

func (rl *Reloader) reload(ctx context.Context, log *slog.Logger) (bool, error) {
	start := time.Now()
	idx, v, err := rl.Loader.Load(ctx)
	if err == nil && v == rl.Current {
		return false, nil
	}
	if err == nil {
		err = rl.Server.SetStore(idx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		rl.Server.CountReload(err)
		log.Error("reload failed; still serving the previous lists", "source", rl.Loader.String(), "err", Redact(err.Error()))
		return false, err
	}
	rl.Server.CountReload(nil)
	old := rl.Current
	rl.Current = v
	info := idx.Info()
	log.Info("reloaded", "source", rl.Loader.String(), "from", old, "to", v, "users", info.Users,
		"model", info.Model, "seconds", time.Since(start).Seconds())
	if rl.OnSwap != nil {
		rl.OnSwap(v)
	}
	return true, nil
}
