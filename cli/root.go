package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/internal/progress"
	"github.com/recs-dev/recs/topk"
)

// useKernels applies $RECS_KERNELS: "" or "auto" picks the fastest kernels
// the CPU supports, a tier name forces that tier in both als and topk.
func useKernels(name string) error {
	if err := als.UseKernels(name); err != nil {
		return usagef("RECS_KERNELS: %v", err)
	}
	if err := topk.UseKernel(name); err != nil {
		return usagef("RECS_KERNELS: %v", err)
	}
	return nil
}

// Exit codes. Keep in step with exitCodeHelp and the README.
const (
	ExitOK          = 0
	ExitError       = 1   // any other failure
	ExitUsage       = 2   // bad flags or arguments
	ExitInput       = 3   // bad input data (file, line and problem are printed)
	ExitService     = 4   // an external service (Blob, Cosmos, download) failed after retries
	ExitRegression  = 5   // a metric is worse than the baseline allows (CI gate)
	ExitInterrupted = 130 // SIGINT or SIGTERM; no partial output is left
)

const exitCodeHelp = `EXIT STATUS
  0    success
  1    any other failure
  2    usage error (bad flags or arguments)
  3    bad input data (the message names the file, line and problem)
  4    an external service (Blob Storage, Cosmos DB, a download) failed after retries;
       export --finalize: shard parts missing or not matching their records
  5    a metric regressed beyond its allowance (--baseline / recs compare)
  130  interrupted by SIGINT or SIGTERM (no partial output is left behind)
`

// usageError marks errors in flags or arguments.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// Env is what every command gets: streams, logging and progress settings.
type Env struct {
	In       io.Reader
	Out      io.Writer // results
	Err      io.Writer // logs, progress, warnings
	ErrIsTTY bool      // Err is a terminal: live progress bars
	OutIsTTY bool      // Out is a terminal: tables rather than JSON by default

	Quiet     bool
	LogFormat string // "auto", "text" or "json"
	Log       *slog.Logger
}

// Progress starts a progress reporter for desc suited to the environment.
func (e *Env) Progress(desc string, total int64) *progress.Reporter {
	return e.ProgressWith(desc, total, progress.Options{})
}

// ProgressBytes is Progress for work counted in bytes.
func (e *Env) ProgressBytes(desc string, total int64) *progress.Reporter {
	return e.ProgressWith(desc, total, progress.Options{Bytes: true})
}

// ProgressWith is Progress with options (units, polling).
func (e *Env) ProgressWith(desc string, total int64, o progress.Options) *progress.Reporter {
	return progress.StartWith(e.progressMode(), e.Err, e.Log, desc, total, o)
}

func (e *Env) progressMode() progress.Mode {
	switch {
	case e.Quiet:
		return progress.Quiet
	case e.ErrIsTTY && e.LogFormat != "json":
		return progress.Bar
	}
	return progress.Log
}

func (e *Env) setupLog() error {
	level := slog.LevelInfo
	if e.Quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	format := e.LogFormat
	if format == "auto" {
		format = "text"
		if !e.ErrIsTTY {
			format = "json"
		}
		e.LogFormat = format
	}
	var w io.Writer = e.Err
	if e.ErrIsTTY {
		// A live progress bar owns the last line of the terminal: clear it
		// before each log line, and the bar redraws below at its next tick.
		w = clearLineWriter{e.Err}
	}
	switch format {
	case "json":
		e.Log = slog.New(slog.NewJSONHandler(w, opts))
	case "text", "":
		e.Log = slog.New(slog.NewTextHandler(w, opts))
	default:
		return usagef("--log-format must be auto, text or json, not %q", e.LogFormat)
	}
	return nil
}

// clearLineWriter erases the terminal's current line before each write.
// slog handlers write one whole record per Write call.
type clearLineWriter struct{ w io.Writer }

func (c clearLineWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, "\r\x1b[K"); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// commands holds the constructors of the subcommands; each command file
// registers its own in an init function, so adding a command touches only
// its file.
var commands = map[string]func(*Env) *cobra.Command{}

func register(name string, fn func(*Env) *cobra.Command) { commands[name] = fn }

// Version is set by the linker (-X); otherwise taken from build info.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// NewRoot returns the root command bound to env.
func NewRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "recs",
		Short: "Train, evaluate and publish ALS recommendations",
		Long: `recs ingests MovieLens-style ratings, splits them, fits alternating least
squares (explicit like Spark MLlib, implicit like Hu/Koren/Volinsky), evaluates the
model with Microsoft Recommenders' metrics, precomputes every user's top-k and
publishes the lists to Cosmos DB, Blob Storage or local files, from which
'recs serve' answers an HTTP API.

Results go to stdout; logs and progress to stderr. Progress bars appear only on a
terminal; off a terminal (cron, CI) every log line is one JSON object, unless
--log-format text.

The numerical kernels (ALS solves, top-k scoring) are chosen for the CPU at start:
AVX-512, AVX2+FMA, NEON or the portable gonum tier. RECS_KERNELS=avx512|avx2|neon|gonum
forces one the CPU supports; 'recs version' says which runs.`,
		Example: `  recs train --movielens 100k --report          # the whole job, one command
  recs serve --from runs/latest                 # the API over its result

  recs synth --preset ml-100k -o ratings.csv
  recs ingest ratings.csv -o ratings.parquet
  recs split ratings.parquet -o split/ --method stratified --by item
  recs fit split/train.parquet -o model/ --rank 10 --reg 0.05 --max-iter 15`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(),
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := env.setupLog(); err != nil {
				return err
			}
			// The only place the Blob Storage secrets are read: every
			// Blob location falls back on them (azure.WithDefaults).
			azure.SetDefaultCredentials(azure.Credentials{
				ConnectionString: os.Getenv(azure.EnvConnectionString), AccountKey: os.Getenv(azure.EnvAccountKey)})
			return useKernels(os.Getenv("RECS_KERNELS"))
		},
	}
	root.SetUsageTemplate(usageTemplate(root))
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.Err)
	root.PersistentFlags().BoolVarP(&env.Quiet, "quiet", "q", false, "no progress and only warnings and errors on stderr")
	defFormat := os.Getenv("RECS_LOG_FORMAT")
	if defFormat == "" {
		defFormat = "auto"
	}
	root.PersistentFlags().StringVar(&env.LogFormat, "log-format", defFormat, "log format on stderr: text, json, or auto (text on a terminal, JSON lines otherwise); $RECS_LOG_FORMAT sets the default")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })

	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		root.AddCommand(commands[n](env))
	}
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  recs completion bash > /etc/bash_completion.d/recs
  recs completion zsh > "${fpath[1]}/_recs"
  recs completion fish > ~/.config/fish/completions/recs.fish`
		}
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version of recs",
		Example: `  recs version
  RECS_KERNELS=gonum recs version     # the portable kernels, whatever the CPU`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(env.Out, "recs %s %s/%s %s\n", version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
			fmt.Fprintf(env.Out, "kernels: als %s (this CPU: %s), topk %s (this CPU: %s)\n",
				als.Kernels(), strings.Join(als.KernelTiers(), ", "), topk.KernelName(), strings.Join(topk.KernelTiers(), ", "))
			return nil
		},
	})
	return root
}

// Main runs recs with os.Args and returns the exit code.
func Main() int {
	env := &Env{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		ErrIsTTY: term.IsTerminal(int(os.Stderr.Fd())), OutIsTTY: term.IsTerminal(int(os.Stdout.Fd()))}
	env.Log = slog.New(slog.NewTextHandler(env.Err, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, env, os.Args[1:])
}

// Run executes the command line args in env and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	root := NewRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitCode(ctx, err)
	fmt.Fprintf(env.Err, "recs: %s\n", errorLine(code, err))
	if code == ExitUsage {
		fmt.Fprintln(env.Err, "Run 'recs --help' or 'recs COMMAND --help' for usage.")
	}
	return code
}

// errorLine is the text of err on stderr for exit code code. An
// interruption says so, rather than the bare "context canceled" that
// cancelling the root context leaves in most errors.
func errorLine(code int, err error) string {
	if code != ExitInterrupted {
		return err.Error()
	}
	msg := strings.TrimSuffix(strings.TrimSuffix(err.Error(), context.Canceled.Error()), ": ")
	if msg == "" {
		return "interrupted"
	}
	return "interrupted (" + msg + ")"
}

// ExitCode maps an error to its documented exit code.
func ExitCode(ctx context.Context, err error) int {
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return ExitInterrupted
	case errors.As(err, &ue) || isCobraUsage(err):
		return ExitUsage
	case errors.Is(err, errs.ErrRegression):
		return ExitRegression
	case errs.IsInput(err):
		return ExitInput
	case errs.IsService(err):
		return ExitService
	}
	return ExitError
}

// isCobraUsage recognises cobra's own argument errors (unknown command,
// wrong number of arguments), which it returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand flag", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
