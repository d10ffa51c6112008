package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/toplist"
)

// exportShardOptions are the flags of `recs export` for sharded
// publications: --shard I/N publishes one shard, --finalize N joins them.
type exportShardOptions struct {
	Shard       string
	Publication string
	Finalize    int
	Wait        time.Duration

	shard toplist.Shard
}

// finalizePoll is how often --finalize --wait looks for missing parts.
var finalizePoll = 10 * time.Second

func (o *exportShardOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Shard, "shard", "", "I/N: publish only the lists of shard I of N (see 'recs recommend --shard'); blob and dir need --publication")
	fs.StringVar(&o.Publication, "publication", "", "id shared by the shards of one publication and its --finalize, e.g. the Job's name (letters, digits, . _ -)")
	fs.IntVar(&o.Finalize, "finalize", 0, "N: switch the manifest to the N shard parts of --publication once all exist and verify (no TOPK; blob and dir)")
	fs.DurationVar(&o.Wait, "wait", 0, "with --finalize: wait up to this long for missing parts (polling every 10s) before failing")
}

// validateShard checks the sharding flags against TOPK (input) and --to.
func (o *exportShardOptions) validateShard(fs *pflag.FlagSet, input, to string) error {
	files := to == "blob" || to == "dir"
	if o.Shard != "" {
		var err error
		if o.shard, err = toplist.ParseShard(o.Shard); err != nil {
			return usagef("--shard: %v", err)
		}
	}
	if o.Publication != "" {
		if err := export.CheckPublicationID(o.Publication); err != nil {
			return usagef("--publication: %v", err)
		}
	}
	if fs.Changed("wait") && o.Finalize == 0 {
		return usagef("--wait applies to --finalize only")
	}
	if o.Wait < 0 {
		return usagef("--wait must not be negative")
	}
	switch {
	case fs.Changed("finalize"):
		switch {
		case o.Finalize < 1 || o.Finalize > toplist.MaxShards:
			return usagef("--finalize %d: want the number of shards, 1 to %d", o.Finalize, toplist.MaxShards)
		case o.Shard != "":
			return usagef("--finalize and --shard exclude each other: each shard publishes its part, one --finalize joins them")
		case input != "":
			return usagef("--finalize takes no TOPK: it joins the parts the shards published")
		case to != "" && !files:
			return usagef("--finalize applies to --to blob or dir (Cosmos DB documents are upserted by each shard; there is nothing to switch)")
		case o.Publication == "":
			return usagef("--finalize needs --publication ID, the id its shards used")
		}
	case o.Shard != "":
		if files && o.Publication == "" {
			return usagef("--shard with --to %s needs --publication ID, shared by every shard and the --finalize that joins them", to)
		}
		if to == "cosmos" && o.Publication != "" {
			return usagef("--publication does not apply to --to cosmos: each shard upserts its users' documents, nothing is finalized")
		}
	case o.Publication != "":
		return usagef("--publication needs --shard I/N or --finalize N")
	}
	return nil
}

// checkpointSuffix is the default Cosmos checkpoint's suffix after TOPK:
// one per shard, so that the shards of one file do not share it.
func (o *exportShardOptions) checkpointSuffix() string {
	if o.shard.IsZero() {
		return ".checkpoint.json"
	}
	return fmt.Sprintf(".shard-%d-of-%d.checkpoint.json", o.shard.Index, o.shard.Count)
}

// finalizeResult is the --json output of --finalize.
type finalizeResult struct {
	Publication string           `json:"publication"`
	Shards      int              `json:"shards"`
	To          string           `json:"to"`
	Target      string           `json:"target"`
	Already     bool             `json:"alreadyFinalized"` // the manifest already named it: nothing done
	Users       int64            `json:"users"`
	Bytes       int64            `json:"bytesVerified"`
	Seconds     float64          `json:"seconds"`
	Manifest    *export.Manifest `json:"manifest"`
	Warnings    []string         `json:"warnings,omitempty"`
}

// runFinalize joins the parts of a sharded publication (--finalize N).
func runFinalize(ctx context.Context, env *Env, o *exportOptions) error {
	start := time.Now()
	t := export.Target{To: o.To, Dir: o.Dir, Prefix: o.Prefix, Formats: o.formats, KeepGenerations: o.Keep,
		Blob:       azure.BlobLocation{URL: o.BlobURL, Container: o.BlobContainer}.WithDefaults(),
		MaxRetries: o.MaxRetries, RequestTimeout: o.RequestTimeout, Log: env.Log}
	sink, target, err := t.Open()
	if err != nil {
		return usagef("%v", err)
	}
	fin, ok := sink.(export.Finalizer)
	if !ok {
		return usagef("--finalize applies to --to blob or dir")
	}
	env.Log.Info("finalize", "publication", o.Publication, "shards", o.Finalize, "to", o.To, "target", target)
	deadline := start.Add(o.Wait)
	var st export.Stats
	for {
		st, err = fin.Finalize(ctx, o.Publication, o.Finalize)
		var inc *export.IncompleteError
		if err == nil || !errors.As(err, &inc) || len(inc.Bad) > 0 || !time.Now().Before(deadline) {
			break
		}
		env.Log.Info("waiting for shard parts", "publication", o.Publication, "missing", len(inc.Missing), "of", o.Finalize,
			"waitLeft", time.Until(deadline).Round(time.Second).String())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(finalizePoll, time.Until(deadline))):
		}
	}
	for _, w := range st.Warnings {
		env.Log.Warn(w)
	}
	if err != nil {
		return err
	}
	m := st.Manifest
	res := finalizeResult{Publication: o.Publication, Shards: o.Finalize, To: o.To, Target: target,
		Already: m.PublishedAt.Before(start), Users: m.Users, Bytes: st.Bytes, Seconds: time.Since(start).Seconds(),
		Manifest: m, Warnings: st.Warnings}
	if o.JSON {
		return json.NewEncoder(env.Out).Encode(res)
	}
	if res.Already {
		fmt.Fprintf(env.Out, "publication %s is already finalized at %s: the manifest names %s (published %s); nothing done\n",
			o.Publication, target, m.Generation, m.PublishedAt.Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(env.Out, "finalized publication %s at %s: %d shards, %d lists of model %q, %d files (%.1f MB verified), manifest switched to %s in %.1fs\n",
		o.Publication, target, o.Finalize, m.Users, m.Model, len(m.Files), float64(st.Bytes)/1e6, m.Generation, res.Seconds)
	return nil
}
