// Package tune searches ALS hyperparameters on a validation split carved
// out of the training data, so that the test split is never read while
// choosing a model.
//
// A Space names, for each hyperparameter, a fixed value, a list of choices
// or a numeric range (linear or logarithmic). Three strategies turn it into
// trials:
//
//   - grid: every combination of the lists (ranges need a number of steps),
//     last parameter varying fastest;
//   - random: Budget points drawn from a generator seeded with Seed, so the
//     same seed gives the same trials whatever the number of threads;
//   - halving: successive halving (Jamieson & Talwalkar 2016, "Non-stochastic
//     best arm identification and hyperparameter optimization"): random
//     configurations first run for a fraction of their iterations, and only
//     the best 1/Eta of each rung continue, with Eta times the iterations.
//
// Search runs the trials of a rung on a pool of workers against any
// Objective, appends each completed trial to a journal file (one JSON line,
// written with a single append and fsync), and on a later call with the same
// search skips the trials the journal already holds, so an interrupted
// search resumes where it stopped. Run wires Search to ALS: it fits each
// trial with als.Fit on the fitting part, scores the validation part with
// the Microsoft Recommenders metrics after every iteration, and stops a
// trial early when the validation metric has not improved for Patience
// evaluations.
package tune
