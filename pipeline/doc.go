// Package pipeline runs the whole job of `recs train`: ingest → split →
// fit → eval → quality gate → recommend → publish, into a run directory
// (see package rundir) under a run root shared by successive runs.
//
// Guarantees, for nightly jobs:
//   - one run at a time per run root (an flock; a dead holder's lock is
//     taken over by the kernel);
//   - a run is built in ROOT/.tmp-<id> and renamed to ROOT/<id> only when
//     its manifest is written; an interrupted run (context cancelled by
//     SIGINT/SIGTERM) removes its directory, and a killed one's leftovers
//     are removed by the next run;
//   - ROOT/latest moves, atomically, only to a run that succeeded and
//     passed its quality gate;
//   - nothing is published when the gate fails; the run is still recorded,
//     and Run returns an error wrapping errdefs.ErrRegression.
//
// Errors of the steps (*errdefs.InputError for bad input data,
// *errdefs.ServiceError for a service that failed after retries) reach the
// caller wrapped, so errors.As finds them.
package pipeline
