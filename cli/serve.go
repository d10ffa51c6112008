package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/serve"
)

func init() { register("serve", newServeCmd) }

// Environment variables of `recs serve`.
const (
	serveEnvCosmosEndpoint = "RECS_COSMOS_ENDPOINT"
	serveEnvCosmosKey      = "RECS_COSMOS_KEY"
)

// serveOptions are the flags of `recs serve`.
type serveOptions struct {
	From           string
	Addr           string
	Fallback       string
	Popular        string
	ReloadInterval time.Duration
	Check          bool

	MaxBatch          int
	MaxBodyBytes      int64
	MaxHeaderBytes    int
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration

	CosmosEndpoint string
	CacheSize      int
	CacheTTL       time.Duration
	CosmosTimeout  time.Duration
	MaxK           int

	RedisPrefix string
	RedisAuth   string
}

func (o *serveOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.From, "from", "runs/latest", "where the lists come from: a run directory, a run root, a top-k file, a Blob URL, blob://CONTAINER/PREFIX, cosmos://DATABASE/CONTAINER or redis://HOST:PORT/DB (rediss:// for TLS)")
	fs.StringVar(&o.Addr, "addr", ":8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&o.Fallback, "fallback", "none", "unknown users: none (404) or popular (the most-rated training items, marked \"fallback\": true)")
	fs.StringVar(&o.Popular, "popular", "", "ratings file to rank popular items from (default: the run's training split)")
	fs.DurationVar(&o.ReloadInterval, "reload-interval", 10*time.Second, "how often to check the source for new lists (0: never; Redis: its pointer key; not for Cosmos DB)")
	fs.BoolVar(&o.Check, "check", false, "load the source, print what would be served as JSON, and exit without serving")

	fs.IntVar(&o.MaxBatch, "max-batch", serve.DefaultMaxBatch, "most users in one POST /v1/recommendations")
	fs.Int64Var(&o.MaxBodyBytes, "max-body", serve.DefaultMaxBodyBytes, "largest request body, bytes")
	fs.IntVar(&o.MaxHeaderBytes, "max-header-bytes", 16<<10, "largest request header block, bytes")
	fs.DurationVar(&o.ReadHeaderTimeout, "read-header-timeout", 5*time.Second, "time allowed to read a request's headers, from its first byte")
	fs.DurationVar(&o.ReadTimeout, "read-timeout", 10*time.Second, "time allowed to read a batch request's body, after its headers")
	fs.DurationVar(&o.WriteTimeout, "write-timeout", 10*time.Second, "time allowed to answer a request, from the end of its headers")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "on SIGTERM, how long in-flight requests may take to finish")

	fs.StringVar(&o.CosmosEndpoint, "cosmos-endpoint", "", "Cosmos DB account endpoint (default: $"+serveEnvCosmosEndpoint+"); the key is read from $"+serveEnvCosmosKey+", else Azure AD (managed or workload identity) is used")
	fs.IntVar(&o.CacheSize, "cache-size", 100_000, "Cosmos DB and Redis: users whose lookups are cached (0: no cache)")
	fs.DurationVar(&o.CacheTTL, "cache-ttl", 5*time.Minute, "Cosmos DB and Redis: how long a cached lookup is served")
	fs.DurationVar(&o.CosmosTimeout, "cosmos-timeout", 2*time.Second, "Cosmos DB and Redis: time allowed for one lookup, retries included")
	fs.IntVar(&o.MaxK, "max-k", 10, "Cosmos DB: the precomputed list length, the largest k served (Redis: read from the publication)")
	fs.StringVar(&o.RedisPrefix, "redis-prefix", export.DefaultRedisPrefix, "Redis: the publication's key prefix (recs export --redis-prefix)")
	fs.StringVar(&o.RedisAuth, "redis-auth", "auto", "Redis: auto (password from $"+envRedisPassword+" or the URL, Entra ID for Azure hosts, else none), password, entra or none")
}

func newServeCmd(env *Env) *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--from SOURCE] [--addr :8080]",
		Short: "Answer each user's recommendations over HTTP",
		Long: `Serve the precomputed lists over HTTP:

  GET  /v1/users/{id}/recommendations?k=10   one user's list (k ≤ the precomputed length)
  POST /v1/recommendations {"users":[...]}    several users at once (at most --max-batch)
  GET  /healthz   /readyz   /metrics (Prometheus)   /openapi.json (the API, OpenAPI 3.1)

SOURCE is one of
  runs/latest, a run directory    the run's top-k file (its manifest names it); with
                                  --fallback popular also its training split
  a run root (holds "latest")     the run latest points at
  a top-k file                    .parquet, .jsonl or .jsonl.gz as written by recs recommend
  https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX[?SAS]
                                  a publication of recs export --to blob (its manifest.json);
                                  credentials: the SAS, else $AZURE_STORAGE_KEY, else Azure AD
  blob://CONTAINER/PREFIX         the same with $AZURE_STORAGE_CONNECTION_STRING
  cosmos://DATABASE/CONTAINER     point reads from Cosmos DB (endpoint --cosmos-endpoint or
                                  $RECS_COSMOS_ENDPOINT, key $RECS_COSMOS_KEY or Azure AD), with
                                  an LRU cache (--cache-size, --cache-ttl)
  redis://HOST:PORT/DB, rediss://HOST:6380/DB
                                  point reads from a publication of recs export --to redis
                                  (--redis-prefix), with the same cache; the pointer key is
                                  followed every --reload-interval. Password $RECS_REDIS_PASSWORD,
                                  else Entra ID for Azure Cache for Redis (--redis-auth)

Files and Blob publications are loaded into memory; every --reload-interval the
source is checked (the run latest points at, the file's identity, the manifest's
ETag) and a new version is loaded in the background and swapped in atomically: no
request fails or sees a mix during the swap. A failed reload is logged and the
previous lists keep serving.

The server listens at once; /readyz answers 503 until the lists are loaded (a load
that fails stops the command). On SIGTERM or SIGINT /readyz turns 503, the
listener closes, and in-flight requests finish (up to --shutdown-timeout); the
exit status is then 0. Logs are structured (--log-format json for one object per
line); the Cosmos key and SAS tokens never appear in them.`,
		Example: `  recs serve                                   # runs/latest on :8080
  recs serve --from runs/ --fallback popular --reload-interval 30s
  recs serve --from top10.parquet --addr 127.0.0.1:9000
  recs serve --from "https://acct.blob.core.windows.net/recs/daily?sv=...&sig=..."
  RECS_COSMOS_ENDPOINT=https://acct.documents.azure.com:443/ \
    recs serve --from cosmos://recommendations/user_recommendations --cache-size 200000
  RECS_REDIS_PASSWORD=... recs serve --from rediss://cache.redis.cache.windows.net:6380/0
  recs serve --from runs/latest --check        # validate the source, print a summary
  curl localhost:8080/v1/users/196/recommendations?k=5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.From == "" {
				return usagef("--from must name a source")
			}
			switch opts.Fallback {
			case "none", "popular":
			default:
				return usagef("--fallback must be none or popular, not %q", opts.Fallback)
			}
			if opts.Popular != "" && opts.Fallback != "popular" {
				return usagef("--popular needs --fallback popular")
			}
			for name, d := range map[string]time.Duration{
				"--reload-interval": opts.ReloadInterval, "--read-header-timeout": opts.ReadHeaderTimeout,
				"--read-timeout": opts.ReadTimeout, "--write-timeout": opts.WriteTimeout,
				"--idle-timeout": opts.IdleTimeout, "--shutdown-timeout": opts.ShutdownTimeout,
				"--cache-ttl": opts.CacheTTL, "--cosmos-timeout": opts.CosmosTimeout,
			} {
				if d < 0 {
					return usagef("%s must not be negative", name)
				}
			}
			if opts.ReloadInterval > 0 && opts.ReloadInterval < 100*time.Millisecond {
				return usagef("--reload-interval must be at least 100ms (or 0 to never reload)")
			}
			if opts.MaxBatch < 1 || opts.MaxBodyBytes < 1024 || opts.MaxHeaderBytes < 1024 {
				return usagef("--max-batch must be ≥ 1, --max-body and --max-header-bytes ≥ 1024")
			}
			if opts.CacheSize < 0 || opts.MaxK < 1 {
				return usagef("--cache-size must be ≥ 0 and --max-k ≥ 1")
			}
			if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
				return usagef("--addr %q: want host:port or :port", opts.Addr)
			}
			return runServe(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

// serveSource is a parsed --from: a Loader for in-memory sources or a
// remote store (Cosmos DB, Redis) read per request.
type serveSource struct {
	loader serve.Loader
	remote remoteStore
	// watch, if set, follows the remote store's changes until ctx ends
	// (Redis: its pointer key).
	watch func(ctx context.Context)
	desc  string
}

// remoteStore is a store read per request, checked before serving.
type remoteStore interface {
	serve.Store
	Check(ctx context.Context) error
}

func openServeSource(opts *serveOptions, srv *serve.Server, popularFromRun bool) (*serveSource, error) {
	from := opts.From
	switch {
	case strings.HasPrefix(from, "cosmos://"):
		db, cont, _ := strings.Cut(strings.TrimPrefix(from, "cosmos://"), "/")
		cont = strings.TrimSuffix(cont, "/")
		if db == "" {
			db = export.DefaultDatabase
		}
		if cont == "" {
			cont = export.DefaultContainer
		}
		if strings.Contains(cont, "/") {
			return nil, usagef("--from %q: want cosmos://DATABASE/CONTAINER", from)
		}
		endpoint := opts.CosmosEndpoint
		if endpoint == "" {
			endpoint = os.Getenv(serveEnvCosmosEndpoint)
		}
		if endpoint == "" {
			return nil, usagef("--from cosmos://… needs --cosmos-endpoint or $%s", serveEnvCosmosEndpoint)
		}
		key := os.Getenv(serveEnvCosmosKey)
		cc, err := serve.OpenCosmosContainer(endpoint, key, db, cont)
		if err != nil {
			return nil, err
		}
		desc := "cosmos://" + db + "/" + cont + " at " + azure.ScrubString(endpoint, key)
		st := serve.NewCosmosStore(serve.CosmosConfig{
			Container: cc, Source: desc, MaxK: opts.MaxK, CacheSize: opts.CacheSize,
			CacheTTL: opts.CacheTTL, Timeout: opts.CosmosTimeout, Registerer: srv.Registry(), Secrets: []string{key},
		})
		return &serveSource{remote: st, desc: desc}, nil
	case strings.HasPrefix(from, "redis://") || strings.HasPrefix(from, "rediss://"):
		return openRedisServeSource(opts, srv)
	case strings.HasPrefix(from, "blob://"):
		cont, prefix, _ := strings.Cut(strings.TrimPrefix(from, "blob://"), "/")
		if cont == "" {
			return nil, usagef("--from %q: want blob://CONTAINER/PREFIX", from)
		}
		loc := azure.BlobLocation{Container: cont}.WithDefaults()
		if loc.ConnectionString == "" {
			return nil, usagef("--from blob://… needs $%s (or give an https:// Blob URL)", azure.EnvConnectionString)
		}
		src, err := serve.NewBlobSource(loc, prefix)
		if err != nil {
			return nil, err
		}
		return &serveSource{loader: src, desc: src.String()}, nil
	case strings.HasPrefix(from, "https://") || strings.HasPrefix(from, "http://"):
		src, err := serve.NewBlobSource(azure.BlobLocation{URL: from}.WithDefaults(), "")
		if err != nil {
			return nil, err
		}
		return &serveSource{loader: src, desc: src.String()}, nil
	}
	return &serveSource{loader: &serve.FileSource{Path: from, Popular: popularFromRun}, desc: from}, nil
}

func runServe(ctx context.Context, env *Env, opts *serveOptions) error {
	log := env.Log
	cfg := serve.Config{Fallback: opts.Fallback == "popular", MaxBatch: opts.MaxBatch, MaxBodyBytes: opts.MaxBodyBytes, Log: log}
	srv := serve.NewServer(cfg)
	src, err := openServeSource(opts, srv, cfg.Fallback && opts.Popular == "")
	if err != nil {
		return err
	}
	if cfg.Fallback && opts.Popular == "" {
		if _, isFile := src.loader.(*serve.FileSource); !isFile {
			return usagef("--fallback popular with --from %s needs --popular FILE (only run directories carry their training data)", src.desc)
		}
	}

	// A source that is not there fails before anything listens. The lists
	// themselves load after the listener is up, so that /healthz answers
	// while a large source loads.
	if err := checkServeSource(ctx, src); err != nil {
		return err
	}

	var ln net.Listener
	if !opts.Check {
		if ln, err = net.Listen("tcp", opts.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", opts.Addr, err)
		}
	}
	sctx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	served := make(chan error, 1)
	if ln != nil {
		hc := serve.HTTPConfig{ReadHeaderTimeout: opts.ReadHeaderTimeout, ReadTimeout: opts.ReadTimeout,
			WriteTimeout: opts.WriteTimeout, IdleTimeout: opts.IdleTimeout, MaxHeaderBytes: opts.MaxHeaderBytes,
			ShutdownTimeout: opts.ShutdownTimeout}
		go func() { served <- srv.Serve(sctx, ln, hc) }()
		log.Info("listening", "addr", ln.Addr().String(), "source", src.desc)
	}
	// fail stops the listener (if any) and returns err.
	fail := func(err error) error {
		if ln != nil {
			stopServing()
			<-served
		}
		return err
	}

	start := time.Now()
	version, err := loadServeLists(ctx, opts, srv, src)
	if err != nil {
		return fail(err)
	}
	info, _ := srv.Info()
	log.Info("lists loaded", "source", info.Source, "kind", info.Kind, "users", info.Users, "k", info.K,
		"model", info.Model, "generatedAt", info.GeneratedAt, "version", version, "bytes", info.Bytes,
		"fallbackItems", info.Fallback, "seconds", time.Since(start).Seconds())

	if opts.Check {
		b, _ := json.MarshalIndent(info, "", "  ")
		fmt.Fprintf(env.Out, "%s\n", b)
		return nil
	}
	if src.watch != nil {
		go src.watch(sctx)
	}
	if src.loader != nil && opts.ReloadInterval > 0 {
		rl := &serve.Reloader{Loader: src.loader, Server: srv, Interval: opts.ReloadInterval, Log: log, Current: version}
		go rl.Run(sctx)
	}
	return <-served
}

// checkServeSource fails when the source is not there: its version (a
// stat, a manifest's properties) or, for Cosmos DB, a read of the container.
func checkServeSource(ctx context.Context, src *serveSource) error {
	if src.remote != nil {
		return src.remote.Check(ctx)
	}
	_, err := src.loader.Version(ctx)
	return err
}

// loadServeLists hands srv the lists of src (a remote store is read per
// request, anything else is loaded whole) and the --popular fallback, and
// returns the version loaded ("" for a remote store).
func loadServeLists(ctx context.Context, opts *serveOptions, srv *serve.Server, src *serveSource) (version string, err error) {
	if src.remote != nil {
		if opts.Popular != "" {
			pop, err := serve.LoadPopular(ctx, opts.Popular, opts.MaxK)
			if err != nil {
				return "", fmt.Errorf("--popular: %w", err)
			}
			srv.SetPopular(pop)
		}
		return "", srv.SetStore(src.remote)
	}
	idx, version, err := src.loader.Load(ctx)
	if err != nil {
		return "", err
	}
	if opts.Popular != "" {
		pop, err := serve.LoadPopular(ctx, opts.Popular, idx.MaxK())
		if err != nil {
			return "", fmt.Errorf("--popular: %w", err)
		}
		srv.SetPopular(pop)
	}
	if err := srv.SetStore(idx); err != nil {
		if errors.Is(err, serve.ErrNoFallback) {
			return "", usagef("%v", err)
		}
		return "", err
	}
	return version, nil
}
