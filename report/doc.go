// Package report renders the record of a training run as one
// self-contained HTML page: plots drawn with gonum.org/v1/plot and inlined
// as SVG, tables of parameters, metrics and pipeline steps, and computed
// health hints that tell a data scientist whether the model is sound.
//
// The page has no external assets and no JavaScript; it reads the same in a
// browser, in a mail attachment and in a CI artefact viewer. Its bytes
// depend only on the inputs (no clock is read, no map order leaks), so two
// renderings of the same run are identical and the page can be checked in
// as a golden file.
//
// The health hints are computed from the run, each with the threshold that
// fired: the run's status and quality gate; cold-start test rows; a
// training loss that is not finite, does not fall, rises, is still falling
// or has converged; a validation metric that got worse (overfitting) or
// fell sharply; test RMSE against the standard deviation of the training
// ratings; catalogue coverage (popularity collapse); the popularity lift
// of the lists (lists no more popular than random picks); precision that
// rises with k; metrics of another model than the run's; and the
// evaluator's own warnings. The constants in health.go hold the
// thresholds.
//
// A hyperparameter search (`recs train --tune`, Inputs.Tune) gets a
// section of its own: the validation metric against each parameter the
// search varied, one scatter plot per parameter (a log axis where the space
// draws log-uniformly, a column per value of a list, the best trial ringed;
// successive halving plots each configuration once, at its best trial,
// coloured by the last rung it reached), a leaderboard of the 10 best
// configurations, every trial by ID, the winning configuration and the
// search's settings. FromTuneDir reads the output directory of `recs tune`,
// and Write renders it as a page of the search alone.
//
// Write renders Inputs; the pipeline fills Inputs from the values it holds
// in memory, and FromRunDir reads them back from a run directory written by
// `recs train` (see package rundir for its layout).
//
// FromRunDir, ReadTune and FromTuneDir return an *errdefs.InputError for a
// directory, or a file in it, that they cannot use.
package report
