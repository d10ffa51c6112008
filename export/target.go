package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/internal/redisconn"
	"github.com/recs-dev/recs/toplist"
)

// Target says where a publication goes, in the terms of `recs export` and
// `recs train`; Open turns it into a Sink. Secrets (CosmosKey, keys and SAS
// in Blob) are used, never shown: Describe leaves them out.
type Target struct {
	To string // "dir", "blob", "cosmos" or "redis"

	// Directory and Blob Storage.
	Dir     string
	Prefix  string
	Formats []toplist.Format // empty: DefaultFormats
	Blob    azure.BlobLocation
	// KeepGenerations is how many publications stay in the directory or
	// under the prefix (0: DefaultKeepGenerations).
	KeepGenerations int
	// Shard and Publication, when Shard is not zero, make a directory or
	// Blob sink write one shard's part of a sharded publication (see
	// Finalizer). Cosmos DB needs no parts: its caller passes only the
	// shard's lists (ShardSource).
	Shard       toplist.Shard
	Publication string

	// Cosmos DB.
	CosmosEndpoint string
	CosmosKey      string // "": Azure AD (DefaultAzureCredential)
	Database       string
	Container      string
	Shape          DocumentShape
	TTL            int
	Concurrency    int
	MaxRetries     int
	RequestTimeout time.Duration
	Checkpoint     string
	Resume         bool

	// Redis (Shape and TTL as for Cosmos DB; KeepGenerations 0:
	// DefaultRedisKeepGenerations).
	RedisURL      string // redis:// or rediss://
	RedisPassword string // "": the URL's, or Entra ID / none (RedisAuth)
	RedisAuth     string // auto, password, entra or none ("": auto)
	RedisPrefix   string // "": DefaultRedisPrefix

	Progress *Counters
	Log      *slog.Logger
}

// Open returns the sink for t and a description of where it writes, free
// of secrets.
func (t Target) Open() (Sink, string, error) {
	switch t.To {
	case "cosmos":
		client, err := NewCosmosClient(t.CosmosEndpoint, t.CosmosKey, nil)
		if err != nil {
			return nil, "", err
		}
		desc := fmt.Sprintf("%s/%s/%s", hostOf(t.CosmosEndpoint), or(t.Database, DefaultDatabase), or(t.Container, DefaultContainer))
		return &CosmosSink{Client: client, Database: t.Database, Container: t.Container, Shape: t.Shape,
			TTL: t.TTL, MaxConcurrency: t.Concurrency, MaxRetries: t.MaxRetries, RequestTimeout: t.RequestTimeout,
			Checkpoint: t.Checkpoint, Resume: t.Resume, Secrets: []string{t.CosmosKey}, Credential: t.cosmosCredential(),
			Progress: t.Progress, Log: t.Log}, desc, nil
	case "blob":
		loc := t.Blob
		if loc.Counts == nil {
			loc.Counts = new(azure.Counts)
		}
		cc, prefix, err := azure.OpenContainer(loc)
		if err != nil {
			return nil, "", err
		}
		if t.Prefix != "" {
			prefix += strings.Trim(t.Prefix, "/") + "/"
		}
		// The container URL may carry a SAS: show it without its query.
		desc, _, _ := strings.Cut(cc.URL(), "?")
		desc = strings.TrimSuffix(desc, "/") + "/" + prefix
		return &BlobSink{Container: cc, Prefix: prefix, Formats: t.Formats, KeepGenerations: t.KeepGenerations, CreateContainer: true,
			Counts: loc.Counts, Secrets: loc.Secrets(), Progress: t.Progress, Shard: t.Shard, Publication: t.Publication}, desc, nil
	case "redis":
		c, err := t.openRedis()
		if err != nil {
			return nil, "", err
		}
		prefix := or(t.RedisPrefix, DefaultRedisPrefix)
		return &RedisSink{Client: c, Prefix: prefix, Shape: t.Shape, TTL: t.TTL, KeepGenerations: t.KeepGenerations,
			MaxRetries: t.MaxRetries, Describe: c.String(), Scrub: c.Scrub, Progress: t.Progress, Log: t.Log}, c.String() + " prefix " + prefix, nil
	case "dir":
		desc := t.Dir
		if t.Prefix != "" {
			desc = filepath.Join(t.Dir, strings.Trim(t.Prefix, "/"))
		}
		return &DirSink{Dir: t.Dir, Prefix: t.Prefix, Formats: t.Formats, KeepGenerations: t.KeepGenerations, Progress: t.Progress,
			Shard: t.Shard, Publication: t.Publication}, desc, nil
	}
	return nil, "", fmt.Errorf("export: unknown target %q: want dir, blob, cosmos or redis", t.To)
}

// openRedis returns a client of the Redis target.
func (t Target) openRedis() (*redisconn.Client, error) {
	auth, err := redisconn.ParseAuth(t.RedisAuth)
	if err != nil {
		return nil, err
	}
	if t.RedisPrefix != "" {
		if err := CheckRedisPrefix(t.RedisPrefix); err != nil {
			return nil, err
		}
	}
	return redisconn.Open(redisconn.Config{URL: t.RedisURL, Password: t.RedisPassword, Auth: auth, Log: t.Log})
}

// Check verifies, without writing any data, that t can be published to:
// the directory can be created and written, or the account answers and
// accepts the credentials (a missing container or database is fine: it is
// created on publication).
func (t Target) Check(ctx context.Context) error {
	switch t.To {
	case "dir":
		dir := t.Dir
		if t.Prefix != "" {
			dir = filepath.Join(dir, t.Prefix)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, ".recs-check-*")
		if err != nil {
			return err
		}
		f.Close()
		return os.Remove(f.Name())
	case "blob":
		loc := t.Blob
		cc, _, err := azure.OpenContainer(loc)
		if err != nil {
			return err
		}
		_, err = cc.GetProperties(ctx, nil)
		if err == nil || isStatus(err, http.StatusNotFound) {
			return nil
		}
		return errs.Service("blob", azure.Scrub(err, loc.Secrets()...))
	case "cosmos":
		client, err := NewCosmosClient(t.CosmosEndpoint, t.CosmosKey, nil)
		if err != nil {
			return err
		}
		db, err := client.NewDatabase(or(t.Database, DefaultDatabase))
		if err != nil {
			return err
		}
		_, err = db.Read(ctx, nil)
		if err == nil || isStatus(err, http.StatusNotFound) {
			return nil
		}
		if reword := authRejected(err); reword != nil {
			return errs.Service("cosmos", reword(hostOf(t.CosmosEndpoint), t.cosmosCredential()))
		}
		return errs.Service("cosmos", azure.Scrub(err, t.CosmosKey))
	case "redis":
		c, err := t.openRedis()
		if err != nil {
			return err
		}
		defer c.Close()
		if err := CheckRedis(ctx, c); err != nil {
			rs := RedisSink{Describe: c.String()}
			return errs.Service("redis", c.Scrub(rs.reword(err)))
		}
		return nil
	}
	return fmt.Errorf("export: unknown target %q: want dir, blob, cosmos or redis", t.To)
}

// cosmosCredential names what the Cosmos client authenticates with.
func (t Target) cosmosCredential() string {
	if t.CosmosKey != "" {
		return "key"
	}
	return "Azure AD token"
}

func isStatus(err error, code int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// hostOf returns the host of an endpoint URL, or the endpoint when it has
// none.
func hostOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return endpoint
}
