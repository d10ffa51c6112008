// Package tune searches ALS hyperparameters on a validation split carved
// out of the training data, so that the test split is never read while
// choosing a model. `recs tune` and `recs train --tune` use it.
//
// # Spaces
//
// A Space names, for each hyperparameter (ParamNames: implicit, rank, reg,
// alpha, max_iter, nonnegative, solver, cg_steps, biases, reg_mode,
// reg_exponent — the keys of `recs train`'s als: section), a fixed value,
// a list of choices or a numeric range, linear or logarithmic; parameters
// it does not name keep DefaultParams (Spark's defaults). Combinations ALS
// rejects (biases with implicit feedback, reg_mode frequency with explicit
// ratings, nonnegative with the CG solver) are left out.
//
// DefaultSpace (default_space.yaml; a copy is testdata/tune/default.yaml)
// searches implicit ALS with benfred/implicit's plain λ and CG solver over
// rank {32, 64, 128}, λ log-uniform in [2, 300] and α log-uniform in
// [0.1, 20], 15 iterations with early stopping. On MovieLens 100k the
// validation NDCG@10 lies on a ridge where λ grows with α (λ≈20 at α≈0.5,
// ≈50 at α≈2, ≈100 at α≈4); the ranges hold that ridge with room for data
// sets of other sizes.
//
// # Strategies
//
//   - grid: every combination of the lists (ranges need a number of steps),
//     last parameter varying fastest; a grid larger than the budget is an
//     error, not silently cut;
//   - random: Budget distinct points drawn from a generator seeded with Seed;
//   - halving: successive halving (Jamieson & Talwalkar 2016, "Non-stochastic
//     best arm identification and hyperparameter optimization"): random
//     configurations first run ⌈max_iter/η^(R−1)⌉ iterations, and only the
//     best ⌊n/η⌋ of each rung continue, with η times the iterations. Budget
//     counts every fit of every rung.
//
// The trials a search fits depend only on the space, the strategy, the
// budget and the seed — never on the number of workers or threads.
//
// # Running trials
//
// Search runs the trials of a rung on Options.Parallel workers against any
// Objective. Run wires it to ALS: each trial fits als.Fit on the fitting
// part with Options.Threads goroutines (by default cores/Parallel, so
// trials × threads ≤ cores) and the same initial-factor seed, measures the
// validation metric after every iteration (als.WithValidation: NDCG@10 for
// implicit trials, RMSE for explicit ones), reports its best iteration and
// stops after EarlyStop.Patience iterations without improvement. Other
// metrics of package eval are measured once, after the last iteration.
//
// # Resuming
//
// Each completed trial is appended to Options.Journal as one JSON line with
// a single write followed by fsync; the first line identifies the search
// (strategy, budget, seed, metric, space, data hashes). A later Search of
// the same search skips the trials the journal holds — an interrupted search
// resumes where it stopped, and one run to completion fits nothing more. A
// journal of another search is refused with ErrJournalMismatch; a torn last
// line left by a crash is dropped and its trial fitted again.
//
// # Errors
//
// LoadSpace and ParseSpace return an *errdefs.InputError naming the file
// for a space they cannot use; Run returns one naming "validation" when
// the validation data share no user and item with the fitting data.
package tune
