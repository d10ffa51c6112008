package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// go-redis logs some failures (dial retries, re-authentication) through a
// package-wide logger that writes to stderr. recs routes them to the slog
// logger of the latest Open, at debug level: the same failures reach the
// caller as errors, which it reports once.
// Messages are scrubbed of the passwords of every client opened.
var (
	libLog     atomic.Pointer[slog.Logger]
	libLogOnce sync.Once
	libMu      sync.Mutex
	libSecrets []string
	libTokens  []*EntraProvider
)

type libLogger struct{}

func (libLogger) Printf(ctx context.Context, format string, v ...any) {
	if l := libLog.Load(); l != nil {
		libMu.Lock()
		ss := append([]string(nil), libSecrets...)
		ps := append([]*EntraProvider(nil), libTokens...)
		libMu.Unlock()
		for _, p := range ps {
			ss = append(ss, p.tokens()...)
		}
		l.Debug("go-redis: " + scrub(fmt.Sprintf(format, v...), ss))
	}
}

func routeLibraryLog(l *slog.Logger, secrets []string, entra *EntraProvider) {
	libMu.Lock()
	libSecrets = append(libSecrets, secrets...)
	if entra != nil {
		libTokens = append(libTokens, entra)
	}
	libMu.Unlock()
	if l != nil {
		libLog.Store(l)
	}
	libLogOnce.Do(func() { redis.SetLogger(libLogger{}) })
}
