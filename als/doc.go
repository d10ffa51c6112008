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
// rows in float32 and needs only matrix-vector products. On amd64 with
// AVX-512 the kernels are Go assembly, chosen at start-up; elsewhere (or
// with RECS_ALS_KERNELS=go) portable Go versions run, and a test checks that
// both agree.
//
// # Determinism
//
// The work is cut into pieces that depend only on the data; each user's
// solve is done by one goroutine without shared accumulators, and sums over
// users are taken in a fixed order. The same data, parameters and seed
// therefore give bit-identical factors for any number of threads (on the
// same kernel set).
package als
