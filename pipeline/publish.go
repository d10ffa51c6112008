package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// GateResult is the comparison of a run's metrics with its baseline.
type GateResult struct {
	Baseline   string
	Comparison *eval.Comparison
	Passed     bool
}

// gate compares metrics with the configured baseline. Without a baseline
// it passes. A failed gate returns an error wrapping errs.ErrRegression.
// "latest" with no previous good run passes with a warning: the first run
// of a nightly job has nothing to be compared with.
func (r *run) gate(doc *eval.Document) (*GateResult, error) {
	base := r.cfg.Gate.Baseline
	if base == "" {
		return nil, nil
	}
	path := base
	if base == "latest" {
		dir, err := ResolveLatest(r.root)
		if err != nil {
			r.log.Warn("no previous good run to gate against: gate passes", "baseline", "latest")
			r.man.Gate = &rundir.Gate{Baseline: "latest (none yet)", Passed: true}
			return nil, nil
		}
		path = filepath.Join(dir, rundir.MetricsFile)
	} else if st, err := os.Stat(base); err == nil && st.IsDir() {
		path = filepath.Join(base, rundir.MetricsFile)
	}
	bdoc, err := eval.ReadDocumentFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	var allow []eval.Allowance
	if r.cfg.Gate.MaxRegression != "" {
		if allow, err = eval.ParseAllowances(r.cfg.Gate.MaxRegression); err != nil {
			return nil, err
		}
	}
	cmp, cmpErr := eval.Compare(bdoc, doc, allow)
	g := &GateResult{Baseline: path, Comparison: cmp, Passed: cmpErr == nil}
	r.man.Gate = &rundir.Gate{Baseline: path, Passed: g.Passed}
	if cmp != nil {
		for _, row := range cmp.Regressed() {
			r.man.Gate.Failed = append(r.man.Gate.Failed, row.Key)
		}
	}
	if cmpErr != nil {
		r.log.Error("quality gate failed: nothing published", "baseline", path, "failed", r.man.Gate.Failed)
		return g, fmt.Errorf("quality gate: %w", cmpErr)
	}
	r.log.Info("quality gate passed", "baseline", path)
	return g, nil
}

// target builds the export target of the configuration. Credentials come
// from the fields the command line fills from the environment, and for
// Blob Storage from azure's default credentials.
func (c *PublishConfig) target() export.Target {
	t := export.Target{To: c.To, Dir: c.Dir, Prefix: c.Prefix, KeepGenerations: c.KeepGenerations, Database: c.Database, Container: c.Container,
		Shape: export.DocumentShape(c.DocumentShape), TTL: c.TTL}
	if t.Shape == "recs" {
		t.Shape = export.ShapeFull
	}
	t.CosmosEndpoint = c.CosmosEndpoint
	if t.CosmosEndpoint == "" {
		t.CosmosEndpoint = c.DefaultCosmosEndpoint
	}
	t.CosmosKey = c.CosmosKey
	url := c.BlobURL
	if url == "" {
		url = c.DefaultBlobURL
	}
	t.Blob = azure.BlobLocation{URL: url, Container: c.BlobContainer}.WithDefaults()
	t.RedisURL, t.RedisPassword, t.RedisAuth, t.RedisPrefix = c.RedisURL, c.RedisPassword, c.RedisAuth, c.RedisPrefix
	return t
}

// publish sends the run's top-k file to the configured sink.
func (r *run) publish(ctx context.Context) error {
	if r.cfg.Publish.To == "none" {
		return nil
	}
	t := r.cfg.Publish.target()
	t.Log = r.log
	if t.To == "cosmos" {
		t.Checkpoint = r.path("cosmos.checkpoint")
	}
	sink, desc, err := t.Open()
	if err != nil {
		return err
	}
	if c, ok := sink.(io.Closer); ok {
		defer c.Close()
	}
	rd, err := toplist.Open(r.path(rundir.TopKFile))
	if err != nil {
		return err
	}
	defer rd.Close()
	r.log.Info("publishing", "sink", t.To, "target", desc)
	st, err := sink.Publish(ctx, rd.Meta(), rd)
	for _, w := range st.Warnings {
		r.log.Warn(w)
	}
	if err != nil {
		return err
	}
	r.man.Published = &rundir.Publication{Sink: t.To, Target: desc, Documents: st.Documents}
	r.log.Info("published", "sink", t.To, "target", desc, "documents", st.Documents,
		"retries", st.Retries, "throttles", st.Throttles, "seconds", st.Elapsed.Seconds())
	return nil
}

// DryRunReport is what DryRun checked.
type DryRunReport struct {
	Ratings int    `json:"ratings"`
	Users   int    `json:"users"`
	Items   int    `json:"items"`
	Sink    string `json:"sink"`
}

// DryRun validates cfg, reads the whole input and checks that the sink
// accepts the credentials, without training or writing a run.
func DryRun(ctx context.Context, cfg Config, hooks Hooks) (*DryRunReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, hooks: hooks, log: hooks.Log, man: rundir.Manifest{Files: map[string]string{}}}
	if r.log == nil {
		r.log = discard()
	}
	if err := r.ingest(ctx); err != nil {
		return nil, err
	}
	rep := &DryRunReport{Ratings: r.table.Len(), Users: r.table.NumUsers(), Items: r.table.NumItems(), Sink: cfg.Publish.To}
	if cfg.Publish.To != "none" {
		t := cfg.Publish.target()
		if err := t.Check(ctx); err != nil {
			return nil, fmt.Errorf("publish target: %w", err)
		}
		_, desc, err := t.Open()
		if err != nil {
			return nil, err
		}
		rep.Sink += " " + desc
	}
	if b := cfg.Gate.Baseline; b != "" && b != "latest" {
		path := b
		if st, err := os.Stat(b); err == nil && st.IsDir() {
			path = filepath.Join(b, rundir.MetricsFile)
		}
		if _, err := eval.ReadDocumentFile(path); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
	}
	return rep, nil
}
