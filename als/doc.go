// Package als fits matrix factorisations by alternating least squares:
// explicit ratings exactly as Spark MLlib's ALS does (ALS-WR), implicit
// feedback as Hu, Koren and Volinsky (2008), with Spark's or
// benfred/implicit's solvers, and reads and writes models in the layout of
// Spark's ALSModel.save so that models move freely between Spark and recs.
//
// Fit takes a *ratings.Table and Params (Spark's names and defaults) and
// returns a *Model; Save and Load write and read a model directory.
//
// # Speed
//
// Each half-iteration solves every user (item) independently on a pool of
// goroutines. The Cholesky path gathers the fixed side's rows of a user in
// blocks of 32, converts them to float64 and accumulates the Gram matrix
// with a register-tiled kernel; the normal equations of 8 users are then
// factored together, one user per SIMD lane. The CG path keeps the gathered
// rows in float32 and needs only matrix-vector products.
//
// # Kernel tiers
//
// The hot loops (row gather, Gram accumulation, batched Cholesky and
// triangular solves, the CG passes, float32 dot and axpy over rows) exist
// in tiers: AVX-512 and AVX2+FMA assembly on amd64, NEON assembly on
// arm64, and a portable reference tier built on gonum (blas64.Syrk for the
// Gram matrix, lapack64.Potrf and blas64.Trsv for the solves, blas32.Gemv
// for the row products). The fastest tier the CPU supports runs, unless
// UseKernels picks another (recs: $RECS_KERNELS); KernelTiers lists them.
// Every tier the CPU supports is tested against the gonum tier.
//
// # Memory
//
// The solvers read the other side's factor rows in rating order, which is
// random order: on Linux the factor matrices are aligned to 2 MiB and
// marked MADV_HUGEPAGE (internal/hugemem), so that those reads do not miss the
// TLB on every row where transparent huge pages are on "madvise" (most
// distributions). It changes speed only, never values.
//
// # Determinism
//
// The work is cut into pieces that depend only on the data; each user's
// solve is done by one goroutine without shared accumulators, and sums over
// users are taken in a fixed order. The same data, parameters and seed
// therefore give bit-identical factors for any number of threads within
// one kernel tier. Across tiers the order of additions and the use of
// fused multiply-adds differ, so factors differ in the last bits; the
// metrics of a fit (RMSE, NDCG, ...) agree within 1e-4 across tiers
// (TestTiersSameMetrics).
//
// # Errors
//
// Load returns an *errdefs.InputError naming the file for a model
// directory it cannot use.
package als
