package tune

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
)

// MetricNames returns the metric names found in records, the optimised
// metric first, then the others sorted.
func MetricNames(records []Record, metric string) []string {
	seen := map[string]bool{metric: true}
	var rest []string
	for _, r := range records {
		for name := range r.Metrics {
			if !seen[name] {
				seen[name] = true
				rest = append(rest, name)
			}
		}
	}
	sort.Strings(rest)
	return append([]string{metric}, rest...)
}

// WriteCSV writes the results table: one row per trial, by ID, with every
// parameter, every metric (the optimised one first; empty for failed
// trials), the iterations fitted, the best iteration, whether the trial
// stopped early, its fit time in seconds and its error.
func (r Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	metrics := MetricNames(r.Trials, r.Metric)
	head := []string{"id", "config", "rung"}
	head = append(head, ParamNames()...)
	head = append(head, metrics...)
	head = append(head, "iterations", "best_iter", "early_stopped", "fit_s", "error")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, t := range r.Trials {
		row := []string{strconv.Itoa(t.ID), strconv.Itoa(t.Config), strconv.Itoa(t.Rung)}
		for _, name := range ParamNames() {
			row = append(row, FormatValue(t.Params.Get(name)))
		}
		for _, m := range metrics {
			v, ok := t.Metrics[m]
			if ok {
				row = append(row, strconv.FormatFloat(v, 'g', 8, 64))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, strconv.Itoa(t.Iterations), strconv.Itoa(t.BestIter),
			strconv.FormatBool(t.EarlyStopped), strconv.FormatFloat(t.FitSeconds, 'f', 3, 64), t.Error)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the result as one indented JSON document: the search
// settings, the best trial and every trial by ID.
func (r Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteLeaderboard prints the n best configurations (all when n ≤ 0) as an
// aligned table, each once, by its trial at the highest rung it reached
// (Latest): rank, trial, rung, the parameters in varying (all when nil),
// the optimised metric, the best iteration and the fit time.
func (r Result) WriteLeaderboard(w io.Writer, n int, varying []string) error {
	if varying == nil {
		varying = ParamNames()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "#\ttrial\trung\t")
	for _, name := range varying {
		fmt.Fprintf(tw, "%s\t", name)
	}
	fmt.Fprintf(tw, "%s\tbest_iter\tfit_s\t\n", r.Metric)
	for i, t := range Leaderboard(Latest(r.Trials), r.Metric) {
		if n > 0 && i == n {
			break
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t", i+1, t.ID, t.Rung)
		for _, name := range varying {
			v := t.Params.Get(name)
			if f, ok := v.(float64); ok {
				fmt.Fprintf(tw, "%.4g\t", f)
			} else {
				fmt.Fprintf(tw, "%s\t", FormatValue(v))
			}
		}
		if t.OK() {
			fmt.Fprintf(tw, "%.4f\t%d\t%.2f\t\n", t.Metrics[r.Metric], t.BestIter, t.FitSeconds)
		} else {
			fmt.Fprintf(tw, "failed\t-\t%.2f\t\n", t.FitSeconds)
		}
	}
	return tw.Flush()
}
