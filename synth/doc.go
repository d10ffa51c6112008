// Package synth generates synthetic MovieLens-like ratings for demos,
// tests and benchmarks.
//
// The model, for U users, I items and N ratings (Config):
//
//   - Planted preferences: user factors x_u and item factors y_i of
//     dimension k (Config.Rank) with independent N(0, 1/√k) entries, so
//     that x_u·y_i has unit variance; user biases b_u ~ N(0, 0.5²), item
//     biases b_i ~ N(0, 0.5²) plus a small lift for popular items.
//   - Ratings: r = clamp(round(μ + b_u + b_i + 0.7·x_u·y_i + ε)), with
//     μ = 3.25, ε ~ N(0, Config.Noise²), rounded to whole stars 1..5 or to
//     half stars 0.5..5 (Config.HalfStars; then half of the users still
//     give whole stars only, as in MovieLens). A model of rank ≥ k can explain
//     the bias and factor terms, which is most of the variance: on the
//     ml-100k preset a plain ALS predicts held-out ratings with an RMSE
//     of about 0.75 against 1.04 for the global mean (see the package
//     tests).
//   - Item popularity is long-tailed: an item of popularity rank p is drawn
//     with weight (p + c)^-1.1 (c = 5 + I/100) mixed with 3% uniform, and
//     kept with probability ½ + ½·softsign(1.5·x_u·y_i), a cheap sigmoid,
//     so users rate more of what they like, as real users do. Every item
//     is rated at least once.
//   - User activity is long-tailed: N_u = MinPerUser + a log-normal(σ=1.2)
//     share of the remaining ratings, capped at 45% of the items; the N_u
//     add up to exactly N and every user has at least MinPerUser (20, as in
//     MovieLens).
//   - Timestamps increase within each user: a start time uniform in
//     [Start, End), then one session of minutes (half the users) or weeks
//     to years of activity, capped at End.
//
// Rows come grouped by user (ids 1..U in order) and, within a user, in time
// order. Item ids are 1..I, assigned to popularity ranks by a seeded
// shuffle.
//
// Everything is drawn from PCG streams keyed by (Seed, user) and (Seed,
// item), so the output is a function of the Config alone: the same seed
// gives the same bytes whatever the number of workers. Generation is
// parallel over blocks of users; ml-20m (20M ratings) takes seconds.
package synth
