package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recs-dev/recs/internal/logfield"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/synth"
)

func init() { register("synth", newSynthCmd) }

// synthOptions are the flags of `recs synth`.
type synthOptions struct {
	Preset    string
	Output    string
	Format    string
	Seed      int64
	Users     int
	Items     int
	Ratings   int64
	Rank      int
	Noise     float64
	HalfStars bool

	halfStarsSet bool
}

func (o *synthOptions) addFlags(fs *pflag.FlagSet) {
	names := make([]string, len(synth.Presets))
	for i, p := range synth.Presets {
		names[i] = p.Name
	}
	fs.StringVar(&o.Preset, "preset", "ml-100k", "size like a MovieLens release: "+strings.Join(names, ", "))
	fs.StringVarP(&o.Output, "output", "o", "", "file to write, - for stdout (required)")
	fs.StringVar(&o.Format, "format", "", "udata, dat, csv or parquet (default: from the file extension; csv for stdout)")
	fs.Int64Var(&o.Seed, "seed", 42, "random seed (≥ 0): the same seed gives the same bytes")
	fs.IntVar(&o.Users, "users", 0, "number of users (default: the preset's)")
	fs.IntVar(&o.Items, "items", 0, "number of items (default: the preset's)")
	fs.Int64Var(&o.Ratings, "ratings", 0, "number of ratings (default: the preset's)")
	fs.IntVar(&o.Rank, "rank", 0, "rank of the planted preferences (default 8)")
	fs.Float64Var(&o.Noise, "noise", 0, "standard deviation of the rating noise (default 0.6)")
	fs.BoolVar(&o.HalfStars, "half-stars", false, "ratings in 0.5 steps from 0.5 to 5 (default: the preset's; ml-20m and ml-25m use them)")
}

func newSynthCmd(env *Env) *cobra.Command {
	opts := &synthOptions{}
	var lines []string
	for _, p := range synth.Presets {
		lines = append(lines, fmt.Sprintf("  %-8s %s", p.Name, p.Description))
	}
	cmd := &cobra.Command{
		Use:   "synth -o FILE",
		Short: "Write a synthetic MovieLens-like data set",
		Long: `Write synthetic ratings shaped like MovieLens, for demos and benchmarks:
planted low-rank preferences (so ALS has something to learn), long-tailed item
popularity and user activity (every user has at least 20 ratings), whole or
half stars, timestamps increasing within each user.

Presets:
` + strings.Join(lines, "\n") + `

--users, --items and --ratings override the preset's sizes. The same flags and
seed give the same bytes, whatever the number of cores. Files are written
atomically; formats are those 'recs ingest' reads.`,
		Example: `  recs synth -o ratings.csv
  recs synth --preset ml-20m -o ml-20m.csv
  recs synth --preset ml-1m --seed 7 -o ratings.dat
  recs synth --preset ml-100k --format udata -o - | head`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output == "" {
				return usagef("missing -o FILE (- for stdout)")
			}
			if opts.Users < 0 || opts.Items < 0 || opts.Ratings < 0 || opts.Rank < 0 || opts.Noise < 0 || opts.Seed < 0 {
				return usagef("--users, --items, --ratings, --rank, --noise and --seed must not be negative")
			}
			if _, err := synth.PresetConfig(opts.Preset); err != nil {
				return usagef("--preset: %v", err)
			}
			if opts.Format != "" {
				if _, err := synth.ParseFormat(opts.Format); err != nil {
					return usagef("--format: %v", err)
				}
			} else if opts.Output != "-" {
				if _, err := synth.FormatForPath(opts.Output); err != nil {
					return usagef("%v", err)
				}
			}
			opts.halfStarsSet = cmd.Flags().Changed("half-stars")
			return runSynth(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

func runSynth(ctx context.Context, env *Env, opts *synthOptions) error {
	c, _ := synth.PresetConfig(opts.Preset)
	c.Seed = uint64(opts.Seed)
	if opts.Users > 0 {
		c.Users = opts.Users
	}
	if opts.Items > 0 {
		c.Items = opts.Items
	}
	if opts.Ratings > 0 {
		c.Ratings = opts.Ratings
	}
	c.Rank, c.Noise = opts.Rank, opts.Noise
	if opts.halfStarsSet {
		c.HalfStars = opts.HalfStars
	}
	var f synth.Format
	switch {
	case opts.Format != "":
		f, _ = synth.ParseFormat(opts.Format)
	case opts.Output == "-":
		f = synth.FormatCSV
	default:
		f, _ = synth.FormatForPath(opts.Output)
	}
	if err := c.Validate(); err != nil {
		return usagef("%v", err)
	}
	start := time.Now()
	if opts.Output == "-" {
		if f == synth.FormatParquet {
			return usagef("Parquet cannot go to stdout; name a .parquet file")
		}
		if err := synth.WriteText(ctx, env.Out, c, f); err != nil {
			return err
		}
	} else {
		if dir := filepath.Dir(opts.Output); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := synth.WriteFile(ctx, opts.Output, c, f); err != nil {
			return err
		}
	}
	env.Log.Info("synthesised", "output", opts.Output, "format", string(f), "users", c.Users, "items", c.Items,
		"ratings", c.Ratings, "seed", c.Seed, "seconds", logfield.Round3(time.Since(start).Seconds()))
	return nil
}
