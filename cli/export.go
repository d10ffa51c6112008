package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/internal/progress"
	"github.com/recs-dev/recs/toplist"
)

func init() { register("export", newExportCmd) }

// Environment variables of `recs export`.
const (
	envCosmosEndpoint = "RECS_COSMOS_ENDPOINT"
	envCosmosKey      = "RECS_COSMOS_KEY"
	envBlobURL        = "RECS_BLOB_URL"
	envRedisURL       = "RECS_REDIS_URL"
	envRedisPassword  = "RECS_REDIS_PASSWORD"
)

// exportOptions are the flags and argument of `recs export`.
type exportOptions struct {
	Input string
	To    string

	// Cosmos DB
	CosmosEndpoint string
	Database       string
	Container      string
	Shape          string
	TTL            int
	Concurrency    int
	MaxRetries     int
	RequestTimeout time.Duration
	Resume         bool
	Checkpoint     string

	// Blob Storage and directory
	BlobURL       string
	BlobContainer string
	Dir           string
	Prefix        string
	Formats       []string
	Gzip          bool
	Keep          int

	// Redis
	RedisURL    string
	RedisPrefix string
	RedisAuth   string

	JSON bool

	exportShardOptions // --shard, --publication, --finalize, --wait: export_shard.go

	formats []toplist.Format
	shape   export.DocumentShape
}

func (o *exportOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.To, "to", "", "where to publish: cosmos, blob, dir or redis")

	fs.StringVar(&o.CosmosEndpoint, "cosmos-endpoint", "", "Cosmos DB account endpoint, https://ACCOUNT.documents.azure.com:443/ (default: $"+envCosmosEndpoint+"); key from $"+envCosmosKey+", else Azure AD")
	fs.StringVar(&o.Database, "database", export.DefaultDatabase, "Cosmos DB database (created if missing)")
	fs.StringVar(&o.Container, "container", export.DefaultContainer, "Cosmos DB container (created if missing, partition key /id)")
	fs.StringVar(&o.Shape, "document-shape", string(export.ShapeFull), "full: {id, items:[{id,score}], model, generatedAt}; reference: {id, MovieId:[ids]}")
	fs.IntVar(&o.TTL, "ttl", 0, "time-to-live of each Cosmos DB document or Redis key in seconds, so users absent from later runs age out (0: none)")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "most Cosmos DB writes in flight (the adaptive window's ceiling)")
	fs.IntVar(&o.MaxRetries, "max-retries", 8, "retries of one request (a document, a block) after transient failures (408, 5xx, resets) before the export fails")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", 30*time.Second, "time limit of one request (Cosmos DB, Blob Storage)")
	fs.BoolVar(&o.Resume, "resume", false, "skip the users that an interrupted export of the same lists to the same container already wrote")
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "Cosmos DB checkpoint file (default: TOPK.checkpoint.json)")

	fs.StringVar(&o.BlobURL, "blob-url", "", "https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS] (default: $"+envBlobURL+"); without SAS: key from $"+azure.EnvAccountKey+", else Azure AD")
	fs.StringVar(&o.BlobContainer, "blob-container", "", "Blob container of the account in $"+azure.EnvConnectionString+" (instead of --blob-url)")
	fs.StringVar(&o.Dir, "dir", "", "directory to publish into (--to dir; created if missing)")
	fs.StringVar(&o.Prefix, "prefix", "", "blob name prefix or subdirectory for this run, e.g. 2024-05-01 (keeps history)")
	fs.StringSliceVar(&o.Formats, "formats", []string{"jsonl", "parquet"}, "data files for blob and dir: jsonl, jsonl.gz, parquet")
	fs.BoolVar(&o.Gzip, "gzip", false, "write JSON lines gzipped (jsonl.gz instead of jsonl)")
	fs.IntVar(&o.Keep, "keep-generations", export.DefaultKeepGenerations, "publications kept in --dir / under the blob or Redis prefix, this one included; older ones are deleted after the switch (default 1 for redis)")

	fs.StringVar(&o.RedisURL, "redis-url", "", "redis://HOST:6379/0 or rediss://HOST:6380/0 (TLS, Azure Cache for Redis) (default: $"+envRedisURL+"); password from $"+envRedisPassword+", else Entra ID for Azure hosts")
	fs.StringVar(&o.RedisPrefix, "redis-prefix", export.DefaultRedisPrefix, "Redis key prefix of the publication: keys PREFIX:GEN:u:USER, pointer {PREFIX}:current")
	fs.StringVar(&o.RedisAuth, "redis-auth", "auto", "Redis authentication: auto (password if set, Entra ID for *.redis.cache.windows.net and *.redis.azure.net, else none), password, entra or none")

	fs.BoolVar(&o.JSON, "json", false, "print the result as one JSON object")
	o.exportShardOptions.addFlags(fs)
}

func newExportCmd(env *Env) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export TOPK --to cosmos|blob|dir|redis [--shard I/N --publication ID] | export --finalize N --publication ID --to blob|dir",
		Short: "Publish top-k lists to Cosmos DB, Blob Storage, a directory or Redis",
		Long: `Export publishes a top-k file written by 'recs recommend' (.parquet, .jsonl or
.jsonl.gz) where an API can read it. A nightly job can re-run it safely; it never
leaves half a result where a reader would take it for a whole one.

--to cosmos   one document per user, upserted (idempotent by id) into --database /
              --container, created if missing with partition key /id. Writes run
              with adaptive concurrency: a 429 halves the window and pauses every
              writer for the service's retry-after; successes widen it again.
              408, 5xx and dropped connections are retried with backoff and
              jitter. The endpoint comes from --cosmos-endpoint or
              $RECS_COSMOS_ENDPOINT, the key from $RECS_COSMOS_KEY; without a key
              Azure AD is used (managed identity, workload identity, Azure CLI).
              A checkpoint file records progress; after an interruption --resume
              skips the users already written.
--to blob     the data files (--formats) in a new generation folder
              PREFIX/GEN/ that no earlier publication used, then PREFIX/manifest.json
              (model, counts, file names, sizes and SHA-256 checksums) switched to
              them in one upload. Data blobs are staged in blocks and committed only
              when complete; nothing is ever rewritten in place, so a reader that
              follows the manifest always gets the bytes it names, even if the
              export is killed. Generations beyond --keep-generations (default 2)
              are deleted after the switch, never before.
--to dir      the same in --dir/--prefix: GEN/ files written via temporary
              files, synced, then manifest.json renamed over the old one; one
              export at a time per directory (a lock).
--to redis    one key per user (PREFIX:GEN:u:USER, the --document-shape JSON,
              optional --ttl) in a new generation, written with pipelining;
              then the pointer {PREFIX}:current is switched to it in one
              script, only if no other export moved it meanwhile; then
              generations beyond --keep-generations (default 1) are deleted.
              An interrupted export deletes what it wrote; a killed one leaves
              the live generation untouched, and the next export removes its
              leftovers. URL from --redis-url or $RECS_REDIS_URL (rediss:// for
              TLS), password from $RECS_REDIS_PASSWORD, else Entra ID tokens
              (--redis-auth).

Sharded publication (one job per shard, e.g. a Kubernetes Indexed Job):
--shard I/N   publish only the lists of the users of shard I (FNV-1a 64 of the
              user id mod N, as 'recs recommend --shard'; other lists in TOPK
              are skipped and counted). Cosmos DB: those users' documents are
              upserted (checkpoint TOPK.shard-I-of-N.checkpoint.json). Blob and
              dir: the shard's data files and part record go into the pending
              generation sharded-ID/ of --publication ID, which no manifest
              names yet: readers do not see it.
--finalize N  (no TOPK) check that all N parts of --publication ID exist and
              that every file matches its part record (size, SHA-256), then
              switch manifest.json to all of them at once (version 2: one file
              per shard and format) and clean up as a publication does. A part
              missing or not verifying: exit 4, nothing switched. --wait 30m
              waits for missing parts first. Finalizing an id the manifest
              already shows does nothing and succeeds (a retried job).

Keys, connection strings and SAS tokens are never printed. A progress bar
(documents/s, retries, ETA) shows on a terminal; a summary line goes to stdout.`,
		Example: `  recs export top10.parquet --to dir --dir published/ --prefix 2024-05-01
  RECS_COSMOS_KEY=... recs export top10.parquet --to cosmos --cosmos-endpoint https://acct.documents.azure.com:443/
  recs export top10.parquet --to cosmos --document-shape reference --container user_recommendations_als --ttl 172800
  recs export top10.parquet --to cosmos --resume        # after an interrupted run
  recs export top10.jsonl --to blob --blob-url "https://acct.blob.core.windows.net/recs/nightly?sv=..." --prefix 2024-05-01 --gzip
  AZURE_STORAGE_CONNECTION_STRING=... recs export top10.parquet --to blob --blob-container recs --json
  RECS_REDIS_PASSWORD=... recs export top10.parquet --to redis --redis-url rediss://cache.redis.cache.windows.net:6380/0
  recs export top10.parquet --to redis --redis-url rediss://cache.redis.cache.windows.net:6380 --redis-auth entra
  recs export part.parquet --to blob --shard "$JOB_COMPLETION_INDEX/8" --publication "$JOB_NAME"
  recs export --finalize 8 --publication "$JOB_NAME" --to blob --wait 30m`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Input = args[0]
			}
			if err := opts.validate(cmd.Flags()); err != nil {
				return err
			}
			return runExport(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

// validate checks the flags against each other and against --to, and fills
// in what they imply (environment defaults, parsed shape and formats).
func (o *exportOptions) validate(fs *pflag.FlagSet) error {
	if err := o.validateShard(fs, o.Input, o.To); err != nil {
		return err
	}
	if o.Finalize == 0 {
		if o.Input == "" {
			return usagef("TOPK must not be empty")
		}
		if _, err := toplist.FormatOf(o.Input); err != nil {
			return usagef("%v", err)
		}
	}
	cosmosOnly := []string{"cosmos-endpoint", "database", "container", "document-shape", "ttl", "concurrency", "resume", "checkpoint"}
	filesOnly := []string{"prefix", "formats", "gzip", "keep-generations"}
	redisOnly := []string{"redis-url", "redis-prefix", "redis-auth"}
	if o.MaxRetries < 0 {
		return usagef("--max-retries %d: want at least 0", o.MaxRetries)
	}
	if o.RequestTimeout <= 0 {
		return usagef("--request-timeout must be positive")
	}
	if o.Keep < 1 {
		return usagef("--keep-generations %d: want at least 1 (the publication itself)", o.Keep)
	}
	var allowed []string
	switch o.To {
	case "cosmos":
		allowed = append([]string{"max-retries", "request-timeout"}, cosmosOnly...)
		if err := o.validateCosmos(); err != nil {
			return err
		}
	case "blob":
		allowed = append([]string{"blob-url", "blob-container", "max-retries", "request-timeout"}, filesOnly...)
		if err := o.validateBlob(); err != nil {
			return err
		}
	case "dir":
		allowed = append([]string{"dir"}, filesOnly...)
		if o.Dir == "" {
			return usagef("--to dir needs --dir DIR")
		}
	case "redis":
		allowed = append([]string{"document-shape", "ttl", "keep-generations", "max-retries"}, redisOnly...)
		if err := o.validateRedis(fs); err != nil {
			return err
		}
	case "":
		return usagef("--to is required: cosmos, blob, dir or redis")
	default:
		return usagef("--to %q: want cosmos, blob, dir or redis", o.To)
	}
	// A flag of another sink is a mistake worth naming, not ignoring.
	for _, name := range append(append(append(append([]string{}, cosmosOnly...), filesOnly...), redisOnly...), "blob-url", "blob-container", "dir", "max-retries", "request-timeout") {
		if fs.Changed(name) && !contains(allowed, name) {
			return usagef("--%s does not apply to --to %s", name, o.To)
		}
	}
	if o.To == "blob" || o.To == "dir" {
		if err := o.parseFormats(); err != nil {
			return err
		}
	}
	return nil
}

// validateCosmos checks the flags of --to cosmos and fills in the endpoint
// from the environment, the document shape and the checkpoint path.
func (o *exportOptions) validateCosmos() error {
	if o.CosmosEndpoint == "" {
		o.CosmosEndpoint = os.Getenv(envCosmosEndpoint)
	}
	if o.CosmosEndpoint == "" {
		return usagef("--to cosmos needs --cosmos-endpoint or $%s", envCosmosEndpoint)
	}
	if err := o.parseShapeTTL(); err != nil {
		return err
	}
	if o.Concurrency < 1 {
		return usagef("--concurrency %d: want at least 1", o.Concurrency)
	}
	if o.Checkpoint == "" {
		o.Checkpoint = o.Input + o.checkpointSuffix()
	}
	return nil
}

// parseShapeTTL checks --document-shape and --ttl, shared by Cosmos DB and
// Redis.
func (o *exportOptions) parseShapeTTL() error {
	var err error
	if o.shape, err = export.ParseShape(o.Shape); err != nil {
		return usagef("--document-shape %q: want full or reference", o.Shape)
	}
	if o.TTL < 0 {
		return usagef("--ttl %d: want seconds ≥ 0", o.TTL)
	}
	return nil
}

// validateBlob checks the flags of --to blob and fills in the URL from the
// environment.
func (o *exportOptions) validateBlob() error {
	if o.BlobURL == "" && o.BlobContainer == "" {
		o.BlobURL = os.Getenv(envBlobURL)
	}
	switch {
	case o.BlobURL != "" && o.BlobContainer != "":
		return usagef("--blob-url and --blob-container exclude each other")
	case o.BlobURL == "" && o.BlobContainer == "":
		return usagef("--to blob needs --blob-url (or $%s) or --blob-container with $%s", envBlobURL, azure.EnvConnectionString)
	case o.BlobContainer != "" && os.Getenv(azure.EnvConnectionString) == "":
		return usagef("--blob-container needs $%s", azure.EnvConnectionString)
	}
	return nil
}

// parseFormats parses --formats (with --gzip) into o.formats.
func (o *exportOptions) parseFormats() error {
	o.formats = nil
	for _, s := range o.Formats {
		f, err := toplist.ParseFormat(strings.TrimSpace(s))
		if err != nil {
			return usagef("--formats: %v", err)
		}
		if o.Gzip && f == toplist.JSONL {
			f = toplist.JSONLGzip
		}
		if contains(o.formats, f) {
			return usagef("--formats names %s twice", f)
		}
		o.formats = append(o.formats, f)
	}
	if len(o.formats) == 0 {
		return usagef("--formats is empty")
	}
	return nil
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// exportResult is the --json output.
type exportResult struct {
	Input     string           `json:"input"`
	To        string           `json:"to"`
	Target    string           `json:"target"`
	Model     string           `json:"model"`
	Documents int64            `json:"documents"`
	Skipped   int64            `json:"skipped"`
	Retries   int64            `json:"retries"`
	Throttles int64            `json:"throttles"`
	Bytes     int64            `json:"bytes"`
	Seconds   float64          `json:"seconds"`
	DocsPerS  float64          `json:"documentsPerSecond"`
	MBPerS    float64          `json:"mbPerSecond"`
	Manifest  *export.Manifest `json:"manifest,omitempty"`

	Shard       string             `json:"shard,omitempty"`           // --shard I/N
	OtherShards int64              `json:"otherShardLists,omitempty"` // lists of TOPK in other shards, skipped
	Part        *export.PartRecord `json:"part,omitempty"`            // the part written (blob, dir)
}

func runExport(ctx context.Context, env *Env, o *exportOptions) error {
	if o.Finalize > 0 {
		return runFinalize(ctx, env, o)
	}
	rd, err := toplist.Open(o.Input)
	if err != nil {
		return err
	}
	defer rd.Close()
	meta := rd.Meta()
	total := rd.Len()
	if total < 0 {
		total = countJSONLLists(o.Input)
	}
	var src export.ListSource = rd
	shardSrc := &export.ShardSource{Src: rd, Shard: o.shard}
	if !o.shard.IsZero() {
		src, total = shardSrc, -1
	}

	live := new(export.Counters)
	t := export.Target{To: o.To, Dir: o.Dir, Prefix: o.Prefix, Formats: o.formats, KeepGenerations: o.Keep,
		Blob:           azure.BlobLocation{URL: o.BlobURL, Container: o.BlobContainer}.WithDefaults(),
		CosmosEndpoint: o.CosmosEndpoint, CosmosKey: os.Getenv(envCosmosKey),
		Database: o.Database, Container: o.Container, Shape: o.shape, TTL: o.TTL,
		Concurrency: o.Concurrency, MaxRetries: o.MaxRetries, RequestTimeout: o.RequestTimeout,
		Checkpoint: o.Checkpoint, Resume: o.Resume, Progress: live, Log: env.Log,
		Shard: o.shard, Publication: o.Publication,
		RedisURL: o.RedisURL, RedisPassword: os.Getenv(envRedisPassword), RedisAuth: o.RedisAuth, RedisPrefix: o.RedisPrefix}
	sink, target, err := t.Open()
	if err != nil {
		return usagef("%v", err)
	}
	if c, ok := sink.(io.Closer); ok {
		defer c.Close()
	}

	env.Log.Info("export", "input", o.Input, "to", o.To, "target", target, "model", meta.Model, "lists", total)
	stop := showExportProgress(env, o.To, total, live)
	st, err := sink.Publish(ctx, meta, src)
	stop()
	for _, w := range st.Warnings {
		env.Log.Warn(w)
	}
	if err != nil {
		var ie *errs.InputError
		if errors.As(err, &ie) && ie.File == "" {
			ie.File = o.Input
		}
		if o.To == "cosmos" && ctx.Err() != nil {
			env.Log.Warn("export interrupted; run again with --resume to continue", "checkpoint", o.Checkpoint,
				"written", st.Documents)
		}
		return err
	}
	res := exportResult{Input: o.Input, To: o.To, Target: target, Model: meta.Model, Documents: st.Documents,
		Skipped: st.Skipped, Retries: st.Retries, Throttles: st.Throttles, Bytes: st.Bytes,
		Seconds: st.Elapsed.Seconds(), DocsPerS: st.DocsPerSecond(), MBPerS: st.MBPerSecond(), Manifest: st.Manifest,
		Shard: o.shard.String(), OtherShards: shardSrc.Skipped, Part: st.Part}
	if !o.shard.IsZero() && st.Documents+st.Skipped == 0 && shardSrc.Skipped > 0 {
		env.Log.Warn("no list of TOPK belongs to this shard: was it written for another --shard?", "shard", res.Shard, "otherShardLists", shardSrc.Skipped)
	}
	if o.JSON {
		enc := json.NewEncoder(env.Out)
		return enc.Encode(res)
	}
	fmt.Fprintf(env.Out, "exported %d lists of model %q to %s %s: %d written, %d skipped, %d retries, %d throttles, %.1f MB in %.1fs (%.0f docs/s, %.2f MB/s)\n",
		st.Documents+st.Skipped, meta.Model, o.To, target, st.Documents, st.Skipped, st.Retries, st.Throttles,
		float64(st.Bytes)/1e6, st.Elapsed.Seconds(), st.DocsPerSecond(), st.MBPerSecond())
	if !o.shard.IsZero() {
		fmt.Fprintf(env.Out, "shard %s: %d lists of other shards skipped", res.Shard, res.OtherShards)
		if st.Part != nil {
			fmt.Fprintf(env.Out, "; part written to publication %s (pending until 'recs export --finalize %d')", o.Publication, o.shard.Count)
		}
		fmt.Fprintln(env.Out)
	}
	return nil
}

// countJSONLLists counts the lists of an uncompressed JSON lines file (its
// non-blank lines after the header), for the progress total; -1 for other
// formats or on any trouble.
func countJSONLLists(path string) int64 {
	if f, _ := toplist.FormatOf(path); f != toplist.JSONL {
		return -1
	}
	fh, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer fh.Close()
	var n int64
	br := bufio.NewReaderSize(fh, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
		if err == bufio.ErrBufferFull {
			// A very long line: consume the rest of it.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return -1
		}
	}
	return n - 1 // the header
}

// showExportProgress draws a bar with documents/s, retries, throttles and
// ETA on a terminal, or logs progress every few seconds otherwise. It
// returns the function that stops it.
func showExportProgress(env *Env, to string, total int64, live *export.Counters) func() {
	r := env.ProgressWith("export to "+to, total, progress.Options{Unit: "docs", Poll: func() (int64, string) {
		return live.Documents.Load() + live.Skipped.Load(),
			fmt.Sprintf("%d retries  %d throttles", live.Retries.Load(), live.Throttles.Load())
	}})
	return r.Done
}
