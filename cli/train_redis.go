package cli

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/pipeline"
)

// bindTrainRedisFlags binds the Redis flags of `recs train --publish redis`.
func bindTrainRedisFlags(fs *pflag.FlagSet, c *pipeline.Config) {
	fs.StringVar(&c.Publish.RedisURL, "redis-url", c.Publish.RedisURL, "redis://HOST:6379/0 or rediss://HOST:6380/0 for --publish redis (default: $"+envRedisURL+"; password from $"+envRedisPassword+", else Entra ID for Azure hosts)")
	fs.StringVar(&c.Publish.RedisPrefix, "redis-prefix", c.Publish.RedisPrefix, "Redis key prefix of the publication (default recs)")
	fs.StringVar(&c.Publish.RedisAuth, "redis-auth", c.Publish.RedisAuth, "Redis authentication: auto, password, entra or none (default auto)")
}

// redisFromEnv fills the Redis URL (when neither the file nor a flag gave
// one), the password, the Cosmos DB key and the default Cosmos endpoint
// and Blob URL from the environment: the command line is the only place
// that reads them.
func redisFromEnv(cfg *pipeline.Config) {
	// The other sinks' secrets and defaults, likewise.
	cfg.Publish.CosmosKey = os.Getenv("RECS_COSMOS_KEY")
	cfg.Publish.DefaultCosmosEndpoint = os.Getenv("RECS_COSMOS_ENDPOINT")
	cfg.Publish.DefaultBlobURL = os.Getenv("RECS_BLOB_URL")
	if cfg.Publish.To != "redis" {
		return
	}
	if cfg.Publish.RedisURL == "" {
		cfg.Publish.RedisURL = os.Getenv(envRedisURL)
	}
	cfg.Publish.RedisPassword = os.Getenv(envRedisPassword)
}
