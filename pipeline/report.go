package pipeline

import (
	"io"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/report"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// report writes report.html from what the run holds in memory (the top-k
// is read back from its file).
func (r *run) report() error {
	in := report.Inputs{RunDir: r.id, Manifest: &r.man, Model: r.model, Train: r.train,
		Metrics: r.metrics, Curves: r.curves}
	if _, lists, err := toplist.ReadFile(r.path(rundir.TopKFile)); err == nil {
		in.TopK = lists
	}
	if r.cfg.Tune.Space != "" {
		if t, err := report.ReadTune(r.path(TuneDir)); err == nil {
			t.SpaceName, t.Space = r.cfg.Tune.Space, report.TuneSpace(r.cfg.Tune.Space)
			in.Tune = t
		}
	}
	if err := atomicfile.WriteFile(r.path(rundir.ReportFile), func(w io.Writer) error {
		return report.Write(w, in)
	}); err != nil {
		return err
	}
	r.man.Files["report"] = rundir.ReportFile
	return nil
}
