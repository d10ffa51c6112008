// Package split cuts a ratings table into training and test sets (or more
// parts) the way Microsoft Recommenders' pandas splitters do
// (recommenders/datasets/python_splitters.py): a random split of all rows,
// a stratified split that takes the same fraction of every user's (or
// item's) rows, a chronological split that gives each user's most recent
// rows to the later parts, and a leave-last-K split.
//
// Every output shares the input table's id dictionaries (ratings.Table.Subset),
// so dense indices agree between train and test, and keeps the input's row
// order. Random choices come from a documented generator seeded by the
// caller (see NewRand): the same seed gives the same split on every machine.
// The per-group counts match Recommenders exactly, including NumPy's
// round-half-to-even; the choice of which rows are shuffled into which part
// does not reproduce pandas' generator.
package split
