package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/topk"
	"github.com/recs-dev/recs/toplist"
)

func init() { register("recommend", newRecommendCmd) }

// recommendOptions are the flags of `recs recommend`.
type recommendOptions struct {
	Model   string
	K       int
	Exclude string
	Users   string
	Output  string
	Threads int
	JSON    bool
	Shard   string

	shard toplist.Shard
}

func (o *recommendOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Model, "model", "", "model directory written by 'recs fit' or Spark's ALSModel.save: a path, a Blob URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH[?SAS]) or abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH")
	fs.IntVarP(&o.K, "k", "k", 10, "items per user")
	fs.StringVar(&o.Exclude, "exclude", "", "ratings (e.g. the training set) whose items are never recommended to the user who rated them")
	fs.StringVar(&o.Users, "users", "", "file of user ids, one per line, to score instead of every user of the model")
	fs.StringVarP(&o.Output, "output", "o", "", "top-k file to write: .parquet, .jsonl or .jsonl.gz")
	fs.IntVar(&o.Threads, "threads", 0, "scoring goroutines (0: all cores); the lists do not depend on it")
	fs.BoolVar(&o.JSON, "json", false, "print the result as one JSON object")
	fs.StringVar(&o.Shard, "shard", "", "I/N: score only the users of shard I of N (FNV-1a 64 of the user id mod N; see 'recs export --help'), e.g. $JOB_COMPLETION_INDEX/4")
}

func newRecommendCmd(env *Env) *cobra.Command {
	opts := &recommendOptions{}
	cmd := &cobra.Command{
		Use:   "recommend --model DIR -o TOPK",
		Short: "Compute every user's top-k items from a model",
		Long: `Recommend scores users against every item of the model (a blocked float32
matrix multiply that never holds the whole score matrix; the code ranking
evaluation uses) and writes each user's k best items with their scores, best
first, to a top-k file for 'recs export' and 'recs serve'.

Equal scores are ordered by the model's item order, so the same model gives the
same lists whatever --threads is. --exclude removes the items each user rated
in the given ratings (do pass the training set: recommending what a user
already rated is rarely wanted). --users limits the run to the listed users;
ids the model does not know are skipped and counted. A list is shorter than k
when fewer items remain.

--shard I/N scores only the users whose shard is I: FNV-1a 64 of the user
id's UTF-8 bytes, modulo N (a function of the id alone, the same on every
platform and in every version). N runs with I = 0..N-1 (a Kubernetes Indexed
Job) together write exactly the lists of one unsharded run, each list
identical; 'recs export --shard' publishes them and 'recs export --finalize'
joins them.

The file is written under a temporary name and renamed when complete; its
header carries the model id, k and the time. See 'recs export --help' for the
file formats.`,
		Example: `  recs recommend --model model/ --k 10 --exclude split/train.parquet -o top10.parquet
  recs recommend --model model/ --users vip.txt -o vip.jsonl --json
  recs recommend --model model/ --shard "$JOB_COMPLETION_INDEX/8" -o part.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runRecommend(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

func (o *recommendOptions) validate() error {
	if o.Model == "" {
		return usagef("--model DIR is required")
	}
	if o.Output == "" {
		return usagef("-o TOPK is required (.parquet, .jsonl or .jsonl.gz)")
	}
	if _, err := toplist.FormatOf(o.Output); err != nil {
		return usagef("-o: %v", err)
	}
	if o.K < 1 {
		return usagef("--k %d: want at least 1", o.K)
	}
	if o.Threads < 0 {
		return usagef("--threads %d: want 0 (all cores) or more", o.Threads)
	}
	if o.Shard != "" {
		var err error
		if o.shard, err = toplist.ParseShard(o.Shard); err != nil {
			return usagef("--shard: %v", err)
		}
	}
	return nil
}

// recommendResult is the --json output.
type recommendResult struct {
	Output       string  `json:"output"`
	Model        string  `json:"model"`
	K            int     `json:"k"`
	Users        int64   `json:"users"`        // lists written
	Items        int64   `json:"items"`        // items over all lists
	Short        int64   `json:"short"`        // lists shorter than k
	Unknown      int     `json:"unknownUsers"` // --users ids the model lacks
	Duplicates   int     `json:"duplicateUsers"`
	ExcludedRows int     `json:"excludedRatings"` // --exclude ratings matched to model users and items
	Shard        string  `json:"shard,omitempty"` // --shard I/N
	Seconds      float64 `json:"seconds"`
}

func runRecommend(ctx context.Context, env *Env, o *recommendOptions) error {
	start := time.Now()
	m, err := loadModel(ctx, o.Model)
	if err != nil {
		return err
	}
	res := recommendResult{Output: o.Output, Model: m.ID, K: o.K}
	opts := topk.Options{K: o.K, Threads: o.Threads}
	if o.Users != "" {
		if opts.Users, err = recommendUsers(env, o.Users, m, &res); err != nil {
			return err
		}
	}
	if !o.shard.IsZero() {
		opts.Users = shardUsers(m.UserIDs, opts.Users, o.shard)
		res.Shard = o.shard.String()
		env.Log.Info("scoring one shard", "shard", res.Shard, "users", len(opts.Users), "of", len(m.UserIDs))
	}
	if o.Exclude != "" {
		if opts.Exclude, err = excludeRatings(ctx, env, o.Exclude, m); err != nil {
			return err
		}
		res.ExcludedRows = opts.Exclude.RowsMapped
	}
	if err := writeRecommendations(ctx, env, o, m, opts, &res); err != nil {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	if o.JSON {
		return json.NewEncoder(env.Out).Encode(res)
	}
	fmt.Fprintf(env.Out, "wrote %s: top %d of model %s for %d users (%d items, %d lists shorter than k) in %.1fs\n",
		o.Output, o.K, m.ID, res.Users, res.Items, res.Short, res.Seconds)
	if res.Unknown > 0 {
		fmt.Fprintf(env.Out, "skipped %d users unknown to the model\n", res.Unknown)
	}
	return nil
}

// recommendUsers returns the model user rows of the ids in the file path
// (--users), each once, in the order of the file. It counts in res, and
// warns of, the ids the model lacks and the ids repeated.
func recommendUsers(env *Env, path string, m *als.Model, res *recommendResult) ([]int32, error) {
	ids, err := readUserIDs(path)
	if err != nil {
		return nil, err
	}
	var rows []int32
	var unknown []string
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		u, ok := m.UserIndex(id)
		switch {
		case !ok:
			res.Unknown++
			if len(unknown) < 5 {
				unknown = append(unknown, id)
			}
		case seen[u]:
			res.Duplicates++
		default:
			seen[u] = true
			rows = append(rows, int32(u))
		}
	}
	if res.Unknown > 0 {
		env.Log.Warn("users unknown to the model skipped", "file", path, "unknown", res.Unknown, "examples", strings.Join(unknown, ","))
	}
	if res.Duplicates > 0 {
		env.Log.Warn("repeated users scored once", "file", path, "repeats", res.Duplicates)
	}
	if len(rows) == 0 {
		return nil, errs.Inputf(path, 0, "none of its %d users is known to the model", len(ids))
	}
	return rows, nil
}

// excludeRatings loads the ratings of path (--exclude) and maps them to the
// users and items of m; it warns when none of them matches.
func excludeRatings(ctx context.Context, env *Env, path string, m *als.Model) (*topk.Exclusion, error) {
	train, err := ingest.LoadTable(ctx, path)
	if err != nil {
		return nil, err
	}
	ex := topk.NewExclusion(m, train)
	if ex.RowsMapped == 0 && train.Len() > 0 {
		env.Log.Warn("no rating of --exclude matches a model user and item; nothing is excluded", "file", path)
	}
	return ex, nil
}

// writeRecommendations scores the users of opts and writes their lists to
// o.Output, committed only when every list is written. It counts users,
// items and short lists in res.
func writeRecommendations(ctx context.Context, env *Env, o *recommendOptions, m *als.Model, opts topk.Options, res *recommendResult) error {
	meta := toplist.Meta{Model: m.ID, K: o.K, GeneratedAt: time.Now().UTC().Truncate(time.Second)}
	fw, err := toplist.Create(o.Output, meta)
	if err != nil {
		return err
	}
	defer fw.Abort()
	total := int64(len(m.UserIDs))
	if opts.Users != nil {
		total = int64(len(opts.Users))
	}
	bar := env.Progress("recommend", total)
	list := toplist.List{}
	err = topk.Each(ctx, m, opts, func(u int32, items []int32, scores []float32) error {
		list.User = m.UserIDs[u]
		list.Items = list.Items[:0]
		for j, it := range items {
			list.Items = append(list.Items, toplist.Item{ID: m.ItemIDs[it], Score: scores[j]})
		}
		res.Items += int64(len(items))
		if len(items) < o.K {
			res.Short++
		}
		bar.Add(1)
		return fw.Write(list)
	})
	bar.Done()
	if err != nil {
		return err
	}
	if err := fw.Commit(); err != nil {
		return err
	}
	res.Users = fw.Count()
	return nil
}

// shardUsers returns the model user rows of shard s: of rows when it is
// not nil (--users), else of every user, in the same order, never nil (an
// empty shard scores nobody).
func shardUsers(ids []string, rows []int32, s toplist.Shard) []int32 {
	out := []int32{}
	if rows == nil {
		for u, id := range ids {
			if s.Has(id) {
				out = append(out, int32(u))
			}
		}
		return out
	}
	for _, u := range rows {
		if s.Has(ids[u]) {
			out = append(out, u)
		}
	}
	return out
}

// readUserIDs reads one user id per line; blank lines and lines starting
// with # are ignored.
func readUserIDs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := int64(0)
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.ContainsAny(s, "\t,") {
			return nil, errs.Inputf(path, line, "%q is not one user id (one id per line, no separators)", s)
		}
		ids = append(ids, s)
	}
	if err := sc.Err(); err != nil {
		return nil, errs.Inputf(path, line+1, "%v", err)
	}
	if len(ids) == 0 {
		return nil, errs.Inputf(path, 0, "no user ids")
	}
	return ids, nil
}
