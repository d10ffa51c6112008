package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recs-dev/recs/internal/logfield"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/ratings"
)

func init() { register("ingest", newIngestCmd) }

// ingestOptions are the flags of `recs ingest`.
type ingestOptions struct {
	Sources   []string
	Output    string
	Format    string
	Sep       string
	Header    bool
	NoHeader  bool
	UserCol   string
	ItemCol   string
	RatingCol string
	TimeCol   string
	SkipBad   bool
	MaxBad    int64
	Dedupe    string
	MovieLens string
	JSON      bool
}

func (o *ingestOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Output, "output", "o", "", "Parquet file to write (required)")
	fs.StringVar(&o.Format, "format", "auto", "input format: auto, udata, dat, csv, delimited or parquet")
	fs.StringVar(&o.Sep, "sep", "", `field separator of delimited text, e.g. ',', '::', '\t' or 'tab' (default: detected)`)
	fs.BoolVar(&o.Header, "header", false, "the first line is a header (default: detected)")
	fs.BoolVar(&o.NoHeader, "no-header", false, "there is no header line (default: detected)")
	fs.StringVar(&o.UserCol, "user-col", "", "user column: header name or 0-based index (default: userId, user_id, user, ... or 0)")
	fs.StringVar(&o.ItemCol, "item-col", "", "item column: header name or 0-based index (default: movieId, itemId, item, ... or 1)")
	fs.StringVar(&o.RatingCol, "rating-col", "", "rating column: header name or 0-based index (default: rating, score, ... or 2)")
	fs.StringVar(&o.TimeCol, "time-col", "", "timestamp column (Unix seconds): header name, 0-based index, or 'none' (default: timestamp, time, ... or 3 when present)")
	fs.BoolVar(&o.SkipBad, "skip-bad-lines", false, "skip malformed lines, report how many and the first reasons")
	fs.Int64Var(&o.MaxBad, "max-bad-lines", 0, "with skipping, fail when more than N lines are bad (implies --skip-bad-lines; 0: no limit)")
	fs.StringVar(&o.Dedupe, "dedupe", "last", "repeated (user, item) pairs: last (latest timestamp, then later line), first, mean or error")
	fs.StringVar(&o.MovieLens, "movielens", "", "download and ingest a MovieLens release: "+strings.Join(ingest.MovieLensSets, ", ")+
		" (cached in $XDG_CACHE_HOME/recs; base URL from $RECS_MOVIELENS_URL, default "+ingest.MovieLensBaseURL+")")
	fs.BoolVar(&o.JSON, "json", false, "print the summary as one JSON object")
}

func newIngestCmd(env *Env) *cobra.Command {
	opts := &ingestOptions{}
	cmd := &cobra.Command{
		Use:   "ingest SRC... -o OUT.parquet",
		Short: "Read ratings from text files or archives into one Parquet table",
		Long: `Read ratings and write one Parquet table (columns user, item, rating,
timestamp) that the other commands read.

Formats are detected from the content, or forced with --format:
  udata      MovieLens 100k u.data: user, item, rating, timestamp; tabs, no header
  dat        MovieLens 1M/10M ratings.dat: the same separated by '::'
  csv        MovieLens 20M/25M/32M/latest ratings.csv: header userId,movieId,rating,timestamp
  delimited  any separator (--sep), header or not (--header/--no-header), columns mapped
             by name or 0-based index (--user-col ...); the timestamp is optional
  parquet    a table written by recs
LF and CRLF line ends, gzip-compressed files and MovieLens .zip archives (the
ratings file inside is found by name) are read directly; '-' reads stdin.
A SRC may be a Blob Storage URL, https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH,
authorised by a SAS in the URL, else $AZURE_STORAGE_KEY, else Azure AD (the SAS
never appears in messages). Ids are kept exactly as written.

A malformed line, a rating that is not a finite number, a missing column or an
empty file stops the command with the file, the line and the problem (exit 3),
and no output file is written; --skip-bad-lines skips such lines instead.
Repeated (user, item) pairs keep one rating as --dedupe says.

The summary (ratings, users, items, density, rating histogram, time range) goes
to stdout, as a table or, with --json, as one JSON object.`,
		Example: `  recs ingest ml-100k/u.data -o ratings.parquet
  recs ingest ml-25m.zip -o ratings.parquet --json
  recs ingest --movielens 1m -o ml-1m.parquet
  zcat part-*.csv.gz | recs ingest - -o ratings.parquet --skip-bad-lines
  recs ingest reviews.tsv --sep tab --header --user-col reviewerID --item-col asin \
      --rating-col overall --time-col none -o reviews.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Sources = args
			if opts.Output == "" {
				return usagef("missing -o OUT.parquet")
			}
			if opts.Output == "-" {
				return usagef("-o -: Parquet cannot go to stdout; name a file")
			}
			if len(args) == 0 && opts.MovieLens == "" {
				return usagef("name at least one SRC (or - for stdin), or --movielens NAME")
			}
			if opts.Header && opts.NoHeader {
				return usagef("--header and --no-header exclude each other")
			}
			if opts.MaxBad < 0 {
				return usagef("--max-bad-lines must be ≥ 0")
			}
			if _, err := ingest.ParseFormat(opts.Format); err != nil {
				return usagef("--format: %v", err)
			}
			if _, err := ingest.ParseDedupe(opts.Dedupe); err != nil {
				return usagef("--dedupe: %v", err)
			}
			if opts.MovieLens != "" && !slices.Contains(ingest.MovieLensSets, opts.MovieLens) {
				return usagef("--movielens %q: want one of %s", opts.MovieLens, strings.Join(ingest.MovieLensSets, ", "))
			}
			n := 0
			for _, s := range args {
				if s == "-" {
					n++
				}
			}
			if n > 1 {
				return usagef("stdin (-) can be read only once")
			}
			return runIngest(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

// unescapeSep turns the forms users type for separators into bytes.
func unescapeSep(s string) string {
	switch strings.ToLower(s) {
	case "tab", `\t`:
		return "\t"
	case "space":
		return " "
	case "comma":
		return ","
	case "semicolon":
		return ";"
	case "pipe":
		return "|"
	}
	if u, err := strconv.Unquote(`"` + s + `"`); err == nil && u != "" {
		return u
	}
	return s
}

// ingestGCPercent is the garbage collector's target during an ingest
// (unless GOGC is set). The heap is a few large arrays without pointers,
// so a collection costs little, while the default (100: the heap may
// double) makes nearly every new buffer fresh memory from the kernel,
// each page faulted in and zeroed. On a 25M-row CSV (Xeon, 2 cores), 25
// took the whole ingest from 2.51 to 2.28 s (median of 4), system time
// from 1.2 to 0.6 s, and peak memory from 1.27 to 0.76 GB.
const ingestGCPercent = 25

func runIngest(ctx context.Context, env *Env, opts *ingestOptions) error {
	start := time.Now()
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(ingestGCPercent))
	}
	sources := opts.Sources
	if opts.MovieLens != "" {
		prog := env.ProgressBytes("download ml-"+opts.MovieLens, 0)
		p, cached, err := ingest.MovieLensPath(ctx, opts.MovieLens, ingest.DownloadOptions{
			BaseURL: os.Getenv("RECS_MOVIELENS_URL"), Progress: prog})
		prog.Done()
		if err != nil {
			return err
		}
		env.Log.Info("MovieLens archive", "set", opts.MovieLens, "path", p, "cached", cached)
		sources = append([]string{p}, sources...)
	}
	format, _ := ingest.ParseFormat(opts.Format)
	dedupe, _ := ingest.ParseDedupe(opts.Dedupe)
	ro := ingest.Options{
		Format:    format,
		Sep:       unescapeSep(opts.Sep),
		UserCol:   opts.UserCol,
		ItemCol:   opts.ItemCol,
		RatingCol: opts.RatingCol,
		TimeCol:   opts.TimeCol,
		SkipBad:   opts.SkipBad || opts.MaxBad > 0,
		MaxBad:    opts.MaxBad,
		Dedupe:    dedupe,
		Stdin:     env.In,
	}
	switch {
	case opts.Header:
		ro.Header = ingest.HeaderYes
	case opts.NoHeader:
		ro.Header = ingest.HeaderNo
	}
	prog := env.ProgressBytes("read", 0)
	ro.Progress = prog
	t, rep, err := ingest.Read(ctx, sources, ro)
	prog.Done()
	if err != nil {
		return err
	}
	readTime := time.Since(start)
	if rep.Skipped > 0 {
		env.Log.Warn("skipped bad lines", "count", rep.Skipped)
		for _, r := range rep.Reasons {
			env.Log.Warn("bad line", "reason", r)
		}
	}
	if dir := filepath.Dir(opts.Output); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The summary (one pass over the rows) is computed beside the write,
	// which leaves a core idle between row groups.
	summary := make(chan ratings.Summary, 1)
	go func() { summary <- t.Summary() }()
	if err := ratings.WriteFile(opts.Output, t); err != nil {
		return fmt.Errorf("writing %s: %w", opts.Output, err)
	}
	env.Log.Info("ingested", "output", opts.Output, "ratings", t.Len(), "read_seconds", logfield.Round3(readTime.Seconds()),
		"seconds", logfield.Round3(time.Since(start).Seconds()))
	return printIngestSummary(env, opts, <-summary, rep, dedupe)
}

// ingestSource is one source in the JSON summary.
type ingestSource struct {
	Name    string `json:"name"`
	Format  string `json:"format"`
	Rows    int64  `json:"rows"`
	Skipped int64  `json:"skipped"`
}

func printIngestSummary(env *Env, opts *ingestOptions, s ratings.Summary, rep *ingest.Report, dedupe ingest.Dedupe) error {
	if opts.JSON {
		// The table's summary keys, plus what the read did.
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		srcs := make([]ingestSource, len(rep.Sources))
		for i, r := range rep.Sources {
			srcs[i] = ingestSource{Name: r.Name, Format: string(r.Format), Rows: r.Rows, Skipped: r.Skipped}
		}
		reasons := rep.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		m["output"] = opts.Output
		m["sources"] = srcs
		m["rows_read"] = rep.RowsRead
		m["skipped"] = rep.Skipped
		m["skipped_reasons"] = reasons
		m["duplicates"] = rep.Duplicates
		m["dedupe"] = string(dedupe)
		out, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Out, "%s\n", out)
		return err
	}
	w := env.Out
	fmt.Fprintf(w, "wrote %s\n", opts.Output)
	for _, r := range rep.Sources {
		fmt.Fprintf(w, "source %s (%s): %s rows", r.Name, r.Format, ratings.Thousands(r.Rows))
		if r.Skipped > 0 {
			fmt.Fprintf(w, ", %s bad lines skipped", ratings.Thousands(r.Skipped))
		}
		fmt.Fprintln(w)
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(w, "skipped %s bad lines; the first:\n", ratings.Thousands(rep.Skipped))
		for _, r := range rep.Reasons {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if rep.Duplicates > 0 {
		fmt.Fprintf(w, "removed %s duplicate ratings (--dedupe %s)\n", ratings.Thousands(rep.Duplicates), dedupe)
	}
	return s.WriteText(w)
}
