package cli

import (
	"context"
	"os"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/redisconn"
	"github.com/recs-dev/recs/serve"
)

// openRedisServeSource opens --from redis://… or rediss://…: a RedisStore
// over the publication under --redis-prefix, following its pointer key.
func openRedisServeSource(opts *serveOptions, srv *serve.Server) (*serveSource, error) {
	if err := export.CheckRedisPrefix(opts.RedisPrefix); err != nil {
		return nil, usagef("--redis-prefix: %v", err)
	}
	auth, err := redisconn.ParseAuth(opts.RedisAuth)
	if err != nil {
		return nil, usagef("--redis-auth %q: want auto, password, entra or none", opts.RedisAuth)
	}
	c, err := redisconn.Open(redisconn.Config{URL: opts.From, Password: os.Getenv(envRedisPassword), Auth: auth, Log: srv.Log()})
	if err != nil {
		return nil, usagef("--from: %v", err)
	}
	desc := c.String() + " prefix " + opts.RedisPrefix
	st := serve.NewRedisStore(serve.RedisConfig{Client: c, Prefix: opts.RedisPrefix, Source: desc,
		CacheSize: opts.CacheSize, CacheTTL: opts.CacheTTL, Timeout: opts.CosmosTimeout,
		Registerer: srv.Registry(), Scrub: c.Scrub, Log: srv.Log()})
	// A new generation may have another list length, model and time: the
	// server takes them with the store again.
	st.OnChange(func(from, to string) {
		if from != "" {
			srv.SetStore(st)
		}
	})
	src := &serveSource{remote: st, desc: desc}
	if opts.ReloadInterval > 0 {
		src.watch = func(ctx context.Context) {
			st.Watch(ctx, opts.ReloadInterval)
			c.Close()
		}
	}
	return src, nil
}
