package pipeline

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/recs-dev/recs/split"
)

// Config is everything `recs train` does, as read from --config and
// overridden by flags. The zero value is not useful; start from Defaults.
type Config struct {
	Input     InputConfig     `yaml:"input"`
	Split     SplitConfig     `yaml:"split"`
	ALS       ALSConfig       `yaml:"als"`
	Eval      EvalConfig      `yaml:"eval"`
	Recommend RecommendConfig `yaml:"recommend"`
	Publish   PublishConfig   `yaml:"publish"`
	Tune      TuneConfig      `yaml:"tune,omitempty"`
	Gate      GateConfig      `yaml:"gate"`
	Runs      RunsConfig      `yaml:"runs"`
	Report    bool            `yaml:"report"`
}

// InputConfig names the ratings: paths, Blob URLs or "-" (Sources), or a
// MovieLens release (MovieLens), read like `recs ingest` reads them.
type InputConfig struct {
	Sources   []string `yaml:"sources,omitempty"`
	MovieLens string   `yaml:"movielens,omitempty"`
	// MovieLensURL is the base URL of the MovieLens archives (default
	// ingest.MovieLensBaseURL): a mirror, or a local server in tests.
	MovieLensURL string `yaml:"movielens_url,omitempty"`
	Format       string `yaml:"format,omitempty"`
	Dedupe       string `yaml:"dedupe,omitempty"`
}

// SplitConfig is the train/test split (see `recs split`).
type SplitConfig struct {
	Method     string  `yaml:"method"` // random, stratified, chrono
	By         string  `yaml:"by"`     // user or item
	Ratio      float64 `yaml:"ratio"`  // train share
	MinRatings int     `yaml:"min_ratings"`
	Seed       int64   `yaml:"seed"`
}

// ALSConfig holds the ALS parameters, with Spark's names.
type ALSConfig struct {
	Rank        int     `yaml:"rank"`
	MaxIter     int     `yaml:"max_iter"`
	Reg         float64 `yaml:"reg"`
	Implicit    bool    `yaml:"implicit"`
	Alpha       float64 `yaml:"alpha"`
	Nonnegative bool    `yaml:"nonnegative"`
	Seed        int64   `yaml:"seed"`
	Threads     int     `yaml:"threads"`
	Solver      string  `yaml:"solver"`
	CGSteps     int     `yaml:"cg_steps"`
	// recs's extensions, off by default (see als.Params).
	Biases      bool    `yaml:"biases,omitempty"`
	RegMode     string  `yaml:"reg_mode,omitempty"`     // spark (λ·n_u), plain (λ), frequency (λ·(n_u + N/(1+α))^ν)
	RegExponent float64 `yaml:"reg_exponent,omitempty"` // ν for reg_mode frequency
}

// EvalConfig is the evaluation on the test split.
type EvalConfig struct {
	K                  int     `yaml:"k"`
	RelevanceThreshold float64 `yaml:"relevance_threshold,omitempty"`
}

// RecommendConfig is the top-k computed for every user.
type RecommendConfig struct {
	K           int  `yaml:"k"`
	IncludeSeen bool `yaml:"include_seen"`
}

// PublishConfig says where the top-k goes: "none", "dir", "blob" or
// "cosmos". Credentials are never part of the configuration: they come from
// the environment ($RECS_COSMOS_KEY, $AZURE_STORAGE_CONNECTION_STRING, a SAS
// in $RECS_BLOB_URL) or Azure AD.
type PublishConfig struct {
	To             string `yaml:"to"`
	Dir            string `yaml:"dir,omitempty"`
	Prefix         string `yaml:"prefix,omitempty"` // subdirectory or blob prefix
	BlobURL        string `yaml:"blob_url,omitempty"`
	BlobContainer  string `yaml:"blob_container,omitempty"`
	CosmosEndpoint string `yaml:"cosmos_endpoint,omitempty"`
	Database       string `yaml:"database,omitempty"`
	Container      string `yaml:"container,omitempty"`
	DocumentShape  string `yaml:"document_shape,omitempty"`
	TTL            int    `yaml:"ttl,omitempty"`
	// KeepGenerations is how many publications stay in the directory or
	// under the blob or Redis prefix, this one included.
	KeepGenerations int `yaml:"keep_generations"`
	// Redis: the server's URL (without a password: use the environment),
	// key prefix and authentication (auto, password, entra, none).
	RedisURL    string `yaml:"redis_url,omitempty"`
	RedisPrefix string `yaml:"redis_prefix,omitempty"`
	RedisAuth   string `yaml:"redis_auth,omitempty"`
	// RedisPassword is set by the command line from $RECS_REDIS_PASSWORD;
	// it is never part of a configuration file or of config.yaml.
	RedisPassword string `yaml:"-"`
	// Set by the command line from the environment, never written to
	// config.yaml: the Cosmos DB key ($RECS_COSMOS_KEY), and the endpoint
	// and Blob URL used when the configuration names none
	// ($RECS_COSMOS_ENDPOINT, $RECS_BLOB_URL, which may carry a SAS).
	CosmosKey             string `yaml:"-"`
	DefaultCosmosEndpoint string `yaml:"-"`
	DefaultBlobURL        string `yaml:"-"`
}

// TuneConfig, when Space is set, runs a hyperparameter search on the
// training split (validation carved out of it: the test split is never
// read) and trains the final model with the winner's parameters in place
// of the als section. Space is a space file or "builtin".
type TuneConfig struct {
	Space    string  `yaml:"space,omitempty"`
	Strategy string  `yaml:"strategy,omitempty"` // grid, random, halving
	Budget   int     `yaml:"budget,omitempty"`
	Metric   string  `yaml:"metric,omitempty"`
	Holdout  float64 `yaml:"holdout,omitempty"`
}

// GateConfig is the quality gate: Baseline is a metrics document, a run
// directory, or "latest" (the run root's latest run); MaxRegression lists
// allowances like "ndcg@10=0.01,rmse=0.005".
type GateConfig struct {
	Baseline      string `yaml:"baseline,omitempty"`
	MaxRegression string `yaml:"max_regression,omitempty"`
}

// RunsConfig is where runs are kept and how many.
type RunsConfig struct {
	Root string `yaml:"root"`
	Keep int    `yaml:"keep"`
}

// Defaults returns the built-in configuration: Spark's ALS defaults, the
// Microsoft Recommenders protocol (stratified by item, 75/25, seed 42), top
// 10 excluding seen items, runs under ./runs, no publication.
func Defaults() Config {
	return Config{
		Input:     InputConfig{Dedupe: "last"},
		Split:     SplitConfig{Method: "stratified", By: "item", Ratio: 0.75, MinRatings: 1, Seed: 42},
		ALS:       ALSConfig{Rank: 10, MaxIter: 10, Reg: 0.1, Alpha: 1, Seed: 42, Solver: "cholesky", CGSteps: 3},
		Eval:      EvalConfig{K: 10},
		Recommend: RecommendConfig{K: 10},
		Publish:   PublishConfig{To: "none", KeepGenerations: 2, Database: "recommendations", Container: "user_recommendations", DocumentShape: "full"},
		Tune:      TuneConfig{Strategy: "halving", Budget: 100, Metric: "ndcg@10", Holdout: 0.2},
		Runs:      RunsConfig{Root: "runs"},
	}
}

// LoadConfig reads a YAML file over the defaults. Unknown keys are errors,
// so a typo does not silently fall back to a default.
func LoadConfig(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// YAML returns the configuration as YAML, without secrets: the query of
// every URL (where a SAS token lives) is removed. Credentials are never
// part of a configuration; see PublishConfig.
func (c Config) YAML() []byte {
	c.Input.Sources = append([]string(nil), c.Input.Sources...)
	for i, s := range c.Input.Sources {
		c.Input.Sources[i] = stripQuery(s)
	}
	c.Publish.BlobURL = stripQuery(c.Publish.BlobURL)
	c.Publish.RedisURL = stripPassword(c.Publish.RedisURL)
	b, err := yaml.Marshal(c)
	if err != nil {
		panic("pipeline: " + err.Error())
	}
	return b
}

// Validate checks values that flags and files cannot constrain by type.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(c.Input.Sources) == 0 && c.Input.MovieLens == "" {
		bad("no input: give a path, a Blob URL or --movielens NAME")
	}
	if !slices.Contains(split.RatioMethods, c.Split.Method) {
		bad("split.method %q: want random, stratified or chrono", c.Split.Method)
	}
	if c.Split.By != "user" && c.Split.By != "item" {
		bad("split.by %q: want user or item", c.Split.By)
	}
	if !(c.Split.Ratio > 0 && c.Split.Ratio < 1) {
		bad("split.ratio %v: want a number in (0, 1)", c.Split.Ratio)
	}
	if c.ALS.Rank < 1 || c.ALS.MaxIter < 1 || c.ALS.Reg < 0 || c.ALS.Alpha < 0 {
		bad("als: rank and max_iter must be ≥ 1, reg and alpha ≥ 0")
	}
	if c.Eval.K < 1 || c.Recommend.K < 1 {
		bad("eval.k and recommend.k must be ≥ 1")
	}
	switch c.Publish.To {
	case "none", "dir", "blob", "cosmos", "redis":
	default:
		bad("publish.to %q: want none, dir, blob, cosmos or redis", c.Publish.To)
	}
	if c.Publish.To == "redis" && c.Publish.RedisURL == "" {
		bad("publish.to redis needs publish.redis_url (--redis-url or $RECS_REDIS_URL)")
	}
	if c.Publish.To == "dir" && c.Publish.Dir == "" {
		bad("publish.to dir needs publish.dir")
	}
	if c.Publish.KeepGenerations < 1 {
		bad("publish.keep_generations %d: want at least 1 (the publication itself)", c.Publish.KeepGenerations)
	}
	if c.Gate.MaxRegression != "" && c.Gate.Baseline == "" {
		bad("gate.max_regression needs gate.baseline")
	}
	if c.Runs.Root == "" {
		bad("runs.root is empty")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// stripPassword removes the password of a URL's user information
// (redis://:PASSWORD@host) and leaves anything else alone.
func stripPassword(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			return u.String()
		}
	}
	return s
}

// stripQuery removes the query of an http(s) URL, where SAS tokens live,
// and leaves anything else alone.
func stripQuery(s string) string {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		s, _, _ = strings.Cut(s, "?")
	}
	return s
}
