package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// HTTPConfig holds the limits of the HTTP listener. Zero fields take the
// defaults shown. A connection that exceeds a timeout is closed.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration // 5s: to read a request's headers, from its first byte (or the accept)
	ReadTimeout       time.Duration // 10s: to read a batch request's body, from the end of its headers
	WriteTimeout      time.Duration // 10s: from the end of the headers to the end of the response
	IdleTimeout       time.Duration // 120s: keep-alive connections with no request
	MaxHeaderBytes    int           // 16 KiB: request line, header lines and the blank line, line ends included
	ShutdownTimeout   time.Duration // 25s: draining in-flight requests after ctx ends
}

func (c HTTPConfig) withDefaults() HTTPConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 5*time.Second)
	def(&c.ReadTimeout, 10*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.ShutdownTimeout, 25*time.Second)
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 16 << 10
	}
	return c
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully:
// /readyz turns 503 at once, the listener closes, idle connections close,
// and in-flight requests run to completion (up to ShutdownTimeout, after
// which the remaining connections are closed and an error returned). It
// returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, hc HTTPConfig) error {
	hc = hc.withDefaults()
	s.readTimeout.Store(int64(hc.ReadTimeout))
	// The timeouts are the guard's (see guard.go), not net/http's: same
	// limits, no timer per request.
	g := newGuard(hc)
	g.rejected = func(code int) { s.m.observe(routeOther, code, 0) }
	defer g.close()
	srv := &http.Server{
		Handler:        s,
		MaxHeaderBytes: hc.MaxHeaderBytes,
		ConnState:      g.connState,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(guardListener{ln, g}) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.updateReady()
	s.log.Info("shutting down: draining in-flight requests", "timeout", hc.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), hc.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		<-errc
		return fmt.Errorf("serve: requests still running after %v, connections closed: %w", hc.ShutdownTimeout, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.log.Info("shut down cleanly")
	return nil
}
