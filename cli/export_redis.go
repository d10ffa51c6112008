package cli

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/redisconn"
)

// validateRedis checks the flags of `recs export --to redis` and fills the
// URL from $RECS_REDIS_URL.
func (o *exportOptions) validateRedis(fs *pflag.FlagSet) error {
	if o.RedisURL == "" {
		o.RedisURL = os.Getenv(envRedisURL)
	}
	if o.RedisURL == "" {
		return usagef("--to redis needs --redis-url or $%s", envRedisURL)
	}
	if _, err := redisconn.Describe(o.RedisURL); err != nil {
		return usagef("--redis-url: %v", err)
	}
	if _, err := redisconn.ParseAuth(o.RedisAuth); err != nil {
		return usagef("--redis-auth %q: want auto, password, entra or none", o.RedisAuth)
	}
	if err := export.CheckRedisPrefix(o.RedisPrefix); err != nil {
		return usagef("--redis-prefix: %v", err)
	}
	if err := o.parseShapeTTL(); err != nil {
		return err
	}
	if !fs.Changed("keep-generations") {
		o.Keep = export.DefaultRedisKeepGenerations
	}
	return nil
}
