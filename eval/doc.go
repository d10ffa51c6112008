// Package eval measures a recommender against held-out ratings with the
// metrics of Microsoft Recommenders' python_evaluation (rating metrics RMSE,
// MAE, R², explained variance; ranking metrics precision@k, recall@k,
// NDCG@k, MAP and MAP@k) plus catalogue coverage@k, writes them as a stable
// JSON metrics document, and compares two documents for a CI gate.
//
// # Semantics
//
// Rating metrics join the test rows with the predictions on (user, item),
// an inner join: test rows without a prediction (cold-start users or items)
// are dropped and counted.
//
// Ranking metrics follow Recommenders exactly: the users evaluated are
// those present in both the truth (test rows that are relevant) and the
// predictions; each user's predictions are ordered by score, highest first,
// and the first k kept; a hit is a kept item the user has in the truth.
// With h hits among the top k, R relevant items and hits at ranks r₁ < r₂
// < …:
//
//	precision@k = h / k                       (always divides by k)
//	recall@k    = h / R
//	ndcg@k      = Σⱼ 1/ln(1+rⱼ) / Σ_{i=1..min(k,R)} 1/ln(1+i)
//	map@k       = Σⱼ (j / rⱼ) / R             (Recommenders' map)
//	map_at_k@k  = Σⱼ (j / rⱼ) / min(k, R)     (Recommenders' map_at_k)
//
// each averaged over the evaluated users (a user without hits contributes 0).
// coverage@k is the number of distinct items in the evaluated users' top k
// divided by the number of items in the catalogue.
//
// With a model (EvaluateModel), the predictions of a user are every model
// item the user did not rate in the training data (Options.IncludeSeen
// keeps them), ordered by score and, on equal scores, by model item row
// (package topk); with a predictions file (EvaluatePredictions), equal
// scores keep the file's order, as the stable sort of pandas does. Every
// test rating is relevant unless Options.RelevanceThreshold is set (then
// only ratings ≥ it are; recs's extension). A user's relevant items are
// counted once each even if the test repeats a pair (Recommenders would
// count the repeat twice; recs's ingest keeps one row per pair anyway).
//
// Source: recommenders-team/recommenders,
// recommenders/evaluation/python_evaluation.py (merge_ranking_true_pred,
// precision_at_k, recall_at_k, ndcg_at_k with score_type "binary" and
// discfun_type "loge", map, map_at_k, rmse, mae, rsquared, exp_var).
//
// # Errors
//
// Problems with the data are *errdefs.InputError: a malformed predictions
// file or metrics document (naming the file), and an empty test set or ids
// that match nothing (naming "test", "train" or the predictions file). The
// error of Compare for a metric beyond its allowance wraps
// errdefs.ErrRegression.
package eval
