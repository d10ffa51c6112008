// Package topk computes every user's k best items under a factor model
// without ever holding the users × items score matrix: users are scored in
// blocks of 96 against packed panels of item factors by a register-tiled
// float32 kernel (AVX-512 or AVX2+FMA assembly on amd64, NEON assembly on
// arm64, chosen at run time with golang.org/x/sys/cpu; portable Go elsewhere),
// and each tile of scores goes straight into a bounded per-user selection.
// Ranking evaluation (package eval) and `recs recommend` share it.
//
// # Cost
//
// Scoring costs 2·users·items·rank flops; selection reads each score once. A
// kernel returns, with every tile, a bit mask of the lane groups (16 lanes
// with AVX-512, 8 with AVX2, 4 with NEON) that hold at least one score above
// the user's current k-th best; only those lanes are looked at again, so
// after the first few hundred items a user's selection costs almost nothing.
// Memory is the packed item factors (items × rank float32, padded to a
// panel), a few tens of kilobytes of scratch per goroutine, and the results
// of at most 4·threads blocks waiting to be delivered in order.
//
// # Order and ties
//
// Lists are ordered by score, highest first; equal scores are ordered by
// model item row, lowest first. Items whose score is NaN or -Inf are never
// returned, so a list is shorter than k when fewer items qualify (for
// instance when the user has rated nearly the whole catalogue). A user's
// list depends only on that user's factors, the item factors and the
// exclusions: it is the same for any Threads and any Users subset. Scores are
// computed in float32 with a fixed summation order per kernel; the AVX-512,
// AVX2, NEON and portable kernels round differently in the last bits (they agree
// to about 1e-6 relative), so lists of near-tied items may differ between
// machines with different instruction sets, never between runs on one.
//
// # Ids
//
// topk works in model rows: user u is row u of Model.UserFactors, item i row
// i of Model.ItemFactors. MapTable and NewExclusion translate the dense
// indices of a ratings.Table (whose dictionaries are independent of the
// model's) into model rows by original id.
package topk
