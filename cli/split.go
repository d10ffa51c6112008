package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/recs-dev/recs/internal/logfield"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/split"
)

func init() { register("split", newSplitCmd) }

// splitOptions are the flags and argument of `recs split`.
type splitOptions struct {
	Input        string
	OutDir       string
	OutputFormat string
	Method       string
	By           string
	Ratio        float64
	Ratios       []float64
	MinRatings   int
	Seed         int64
	LeaveLast    int
	JSON         bool

	by      split.By
	ratios  []float64 // the ratios as given (one number or a list)
	methodN string    // method as reported: random, stratified, chrono or leave-last
}

func (o *splitOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.OutDir, "output", "o", "", "output `DIR` (created if missing)")
	fs.StringVar(&o.OutputFormat, "output-format", "parquet", "output format: parquet, tsv (u.data layout, no header) or csv (userId,movieId,rating,timestamp)")
	fs.StringVar(&o.Method, "method", "stratified", "random (all rows), stratified (each group in the ratios) or chrono (each group's latest rows last)")
	fs.StringVar(&o.By, "by", "user", "groups of stratified/chrono splits and of --min-ratings: user or item")
	fs.Float64Var(&o.Ratio, "ratio", 0.75, "share of the rows (of each group) that goes to train; the rest goes to test")
	fs.Float64SliceVar(&o.Ratios, "ratios", nil, "several parts, e.g. `0.7,0.1,0.2` (divided by their sum when it is not 1)")
	fs.IntVar(&o.MinRatings, "min-ratings", 1, "first drop users (or items, --by) with fewer than `N` ratings")
	fs.Int64Var(&o.Seed, "seed", 42, "seed of the random and stratified shuffles")
	fs.IntVar(&o.LeaveLast, "leave-last", 0, "instead: each user's `K` most recent ratings go to test (a user keeps at least one in train)")
	fs.BoolVar(&o.JSON, "json", false, "print the result as one JSON object")
}

func newSplitCmd(env *Env) *cobra.Command {
	opts := &splitOptions{}
	cmd := &cobra.Command{
		Use:   "split IN -o DIR",
		Short: "Split ratings into train and test sets",
		Long: `Split reads a ratings table (Parquet as written by 'recs ingest', or any text
format 'recs ingest' detects; - is stdin) and writes its parts into DIR:
train.parquet and test.parquet for two parts, split_0.parquet, split_1.parquet,
... for three or more, one per ratio in the order of --ratios (.tsv or .csv
with --output-format).
The parts are written under temporary names and renamed only when all are
complete: DIR never holds half a set.

Methods follow Microsoft Recommenders' pandas splitters:
  random      shuffle all rows; with --ratio r, train gets floor(r·n) rows
              (scikit-learn's train_test_split), with --ratios part j ends at
              round(c_j·n) for the cumulative ratios c_j
  stratified  shuffle each user's (--by item: each item's) rows and cut every
              group at round(c_j·count), rounding halves to even: at 0.75 a
              group of 1 or 2 stays in train, 3 → 2/1, 4 → 3/1, 6 → 4/2
  chrono      as stratified, but each group ordered by time, so test holds
              each user's most recent ratings (needs timestamps)
--leave-last K instead gives each user's K most recent ratings to test.
--min-ratings N first drops users (items with --by item) with fewer than N
ratings. Every part keeps the input's row order. The same input and seed give
the same parts.

It prints, per part, its ratings, users and items, and how many of its users,
items and ratings are unknown to train (cold start).`,
		Example: `  recs split ratings.parquet -o split/
  recs split ratings.parquet -o split/ --method chrono --ratio 0.8 --min-ratings 5
  recs split u.data -o split/ --method random --ratios 0.7,0.1,0.2 --seed 7
  recs split ratings.parquet -o loo/ --leave-last 1 --output-format tsv --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input = args[0]
			if err := opts.validate(cmd.Flags()); err != nil {
				return err
			}
			return runSplit(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

func (o *splitOptions) validate(fs *pflag.FlagSet) error {
	if o.Input == "" {
		return usagef("IN must not be empty")
	}
	if o.OutDir == "" {
		return usagef("-o DIR is required")
	}
	switch o.OutputFormat {
	case "parquet", "tsv", "csv":
	default:
		return usagef("--output-format %q: want parquet, tsv or csv", o.OutputFormat)
	}
	var err error
	if o.by, err = split.ParseBy(o.By); err != nil {
		return usagef("--by %q: want user or item", o.By)
	}
	if o.MinRatings < 1 {
		return usagef("--min-ratings %d: want at least 1", o.MinRatings)
	}
	if fs.Changed("ratio") && fs.Changed("ratios") {
		return usagef("--ratio and --ratios exclude each other")
	}
	if fs.Changed("leave-last") {
		if o.LeaveLast < 1 {
			return usagef("--leave-last %d: want at least 1", o.LeaveLast)
		}
		for _, f := range []string{"method", "ratio", "ratios"} {
			if fs.Changed(f) {
				return usagef("--leave-last and --%s exclude each other", f)
			}
		}
		if o.by != split.ByUser {
			return usagef("--leave-last works per user; --by item does not apply")
		}
		o.methodN = split.MethodLeaveLast
		o.ratios = nil
		return nil
	}
	if !slices.Contains(split.RatioMethods, o.Method) {
		return usagef("--method %q: want random, stratified or chrono", o.Method)
	}
	o.methodN = o.Method
	o.ratios = []float64{o.Ratio}
	if fs.Changed("ratios") {
		if len(o.Ratios) < 2 {
			return usagef("--ratios needs two or more numbers (use --ratio for one)")
		}
		o.ratios = o.Ratios
	}
	if _, err := split.Cuts(o.ratios); err != nil {
		flag := "--ratio"
		if len(o.ratios) > 1 {
			flag = "--ratios"
		}
		return usagef("%s: %v", flag, strings.TrimPrefix(err.Error(), "split: "))
	}
	return nil
}

// splitPart is one output of a split, as reported.
type splitPart struct {
	Name    string `json:"name"`
	File    string `json:"file"`
	Ratings int64  `json:"ratings"`
	Users   int    `json:"users"`
	Items   int    `json:"items"`
	// Cold start relative to train (absent for train itself).
	ColdUsers   *int `json:"cold_users,omitempty"`
	ColdItems   *int `json:"cold_items,omitempty"`
	ColdRatings *int `json:"cold_ratings,omitempty"`
}

// splitResult is what `recs split` prints.
type splitResult struct {
	Input      string      `json:"input"`
	Method     string      `json:"method"`
	By         string      `json:"by"`
	Ratios     []float64   `json:"ratios,omitempty"`
	LeaveLast  int         `json:"leave_last,omitempty"`
	Seed       *int64      `json:"seed,omitempty"`
	MinRatings int         `json:"min_ratings"`
	Ratings    int64       `json:"ratings"` // rows read
	Dropped    int64       `json:"dropped"` // rows of groups below --min-ratings
	Parts      []splitPart `json:"parts"`
}

// splitFileNames returns the output file names of n parts with extension
// ext: train and test for two, split_0 ... split_{n-1} otherwise.
func splitFileNames(n int, ext string) []string {
	if n == 2 {
		return []string{"train." + ext, "test." + ext}
	}
	names := make([]string, n)
	for j := range names {
		names[j] = "split_" + strconv.Itoa(j) + "." + ext
	}
	return names
}

func runSplit(ctx context.Context, env *Env, o *splitOptions) error {
	start := time.Now()
	t, err := ingest.LoadTable(ctx, o.Input)
	if err != nil {
		return err
	}
	env.Log.Info("loaded", "input", o.Input, "ratings", t.Len(), "users", t.NumUsers(), "items", t.NumItems(),
		"seconds", logfield.Seconds(time.Since(start)))
	if err := ctx.Err(); err != nil {
		return err
	}
	// t is not used after the split, so that its rows can be collected
	// while the parts are written (only the dictionaries are shared).
	rowsIn := int64(t.Len())

	start = time.Now()
	parts, err := split.Apply(t, split.Spec{Method: o.methodN, Ratios: o.ratios, By: o.by,
		MinRatings: o.MinRatings, Seed: o.Seed, LeaveLast: o.LeaveLast})
	if errors.Is(err, split.ErrNoTimes) {
		flag := "--method chrono"
		if o.methodN == split.MethodLeaveLast {
			flag = "--leave-last"
		}
		return errs.Inputf(o.Input, 0, "%s needs timestamps and the input has none", flag)
	}
	if err != nil {
		return err
	}
	dropped := rowsIn
	for _, p := range parts {
		dropped -= int64(p.Len())
	}
	env.Log.Info("split", "method", o.methodN, "parts", len(parts), "dropped", dropped, "seconds", logfield.Seconds(time.Since(start)))

	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	names := splitFileNames(len(parts), o.OutputFormat)
	paths := make([]string, len(names))
	for j, n := range names {
		paths[j] = filepath.Join(o.OutDir, n)
	}
	start = time.Now()
	if err := writeParts(ctx, paths, parts, o.OutputFormat); err != nil {
		return err
	}
	env.Log.Info("wrote", "dir", o.OutDir, "files", len(paths), "seconds", logfield.Seconds(time.Since(start)))

	res := splitResult{Input: o.Input, Method: o.methodN, By: o.by.String(), Ratios: o.ratios,
		LeaveLast: o.LeaveLast, MinRatings: o.MinRatings, Ratings: rowsIn, Dropped: dropped}
	if o.methodN == split.MethodRandom || o.methodN == split.MethodStratified {
		res.Seed = &o.Seed
	}
	if o.methodN == split.MethodLeaveLast {
		res.By = "user"
	}
	for j, p := range parts {
		s := p.Summary()
		sp := splitPart{Name: strings.TrimSuffix(names[j], "."+o.OutputFormat), File: paths[j],
			Ratings: s.Ratings, Users: s.Users, Items: s.Items}
		if j > 0 {
			u, i, r := split.ColdStart(parts[0], p)
			sp.ColdUsers, sp.ColdItems, sp.ColdRatings = &u, &i, &r
		}
		res.Parts = append(res.Parts, sp)
	}
	if o.JSON {
		return json.NewEncoder(env.Out).Encode(res)
	}
	return printSplit(env.Out, res)
}

// writeParts writes every part under a temporary name in its directory and
// renames them into place only when all were written and synced: a failure
// or an interrupt leaves the previous files (if any) and no temporaries.
func writeParts(ctx context.Context, paths []string, parts []*ratings.Table, format string) error {
	for _, path := range paths {
		// A rename onto a directory would fail after earlier parts were
		// renamed: refuse before writing anything.
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
	}
	files := make([]*atomicfile.File, 0, len(paths))
	defer func() {
		for _, f := range files {
			f.Abort() // no-op after Commit
		}
	}()
	for j, path := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := atomicfile.Create(path)
		if err != nil {
			return err
		}
		files = append(files, f)
		switch format {
		case "parquet":
			err = ratings.WriteParquet(f, parts[j])
		case "tsv":
			err = ratings.WriteText(ctx, f, parts[j], ratings.TSV)
		case "csv":
			err = ratings.WriteText(ctx, f, parts[j], ratings.CSV)
		}
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for j, f := range files {
		if err := f.Commit(); err != nil {
			return fmt.Errorf("writing %s: %w", paths[j], err)
		}
	}
	return nil
}

func printSplit(w io.Writer, r splitResult) error {
	how := r.Method
	switch {
	case r.Method == "leave-last":
		how = fmt.Sprintf("leave-last %d per user", r.LeaveLast)
	case r.Method != "random":
		how += " by " + r.By
	}
	if r.Seed != nil {
		how += fmt.Sprintf(", seed %d", *r.Seed)
	}
	fmt.Fprintf(w, "%s: %s ratings, %s\n", r.Input, ratings.Thousands(r.Ratings), how)
	if r.Dropped > 0 {
		fmt.Fprintf(w, "dropped %s ratings of %ss with fewer than %d\n", ratings.Thousands(r.Dropped), r.By, r.MinRatings)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tratings\tusers\titems\tcold users\tcold items\tcold ratings\tfile")
	for _, p := range r.Parts {
		cu, ci, cr := "-", "-", "-"
		if p.ColdUsers != nil {
			cu, ci, cr = ratings.Thousands(int64(*p.ColdUsers)), ratings.Thousands(int64(*p.ColdItems)), ratings.Thousands(int64(*p.ColdRatings))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, ratings.Thousands(p.Ratings),
			ratings.Thousands(int64(p.Users)), ratings.Thousands(int64(p.Items)), cu, ci, cr, p.File)
	}
	return tw.Flush()
}
