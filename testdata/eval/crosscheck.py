#!/usr/bin/env python3
"""Independent computation of recs eval's metrics, for cross-checking.

Python standard library only. Reads a test file, optional training file and
predictions (a recs top-k JSON lines file, or user,item,score rows), and
prints a JSON object of metric key -> value computed with the definitions of
Microsoft Recommenders' python_evaluation (recommenders-team/recommenders,
recommenders/evaluation/python_evaluation.py), written from those
definitions, not from the Go code:

  rating metrics: inner join of test and predictions on (user, item);
    rmse = sqrt(mean((r-p)^2)), mae = mean(|r-p|),
    rsquared = 1 - SS_res/SS_tot, exp_var = 1 - Var(r-p)/Var(r)
  ranking: users in both truth and predictions; predictions sorted by score
    descending (stable, so ties keep file order), items the user rated in
    train removed (unless --include-seen), the first k kept; rank = position.
    precision@k = hits/k, recall@k = hits/|rel|,
    ndcg@k = sum_hits 1/ln(1+rank) / sum_{i<=min(k,|rel|)} 1/ln(1+i),
    map@k = sum_hits (hits so far)/rank / |rel|,
    map_at_k@k = same / min(k, |rel|), each averaged over the users;
    coverage@k = distinct items in the users' top k / catalogue
    (distinct train items, or distinct predicted items without train).

Usage:
  crosscheck.py --test TEST [--train TRAIN] (--topk FILE.jsonl | --predictions FILE)
                [--k 10[,20]] [--relevance-threshold R] [--include-seen]
"""
import argparse
import json
import math
import sys


def read_rows(path):
    """Yields (user, item, value) from delimited text (tab, '::' or comma),
    skipping a header line whose third field is not a number."""
    with open(path, encoding="utf-8") as f:
        first = True
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if "\t" in line:
                fields = line.split("\t")
            elif "::" in line:
                fields = line.split("::")
            else:
                fields = line.split(",")
            try:
                value = float(fields[2])
            except ValueError:
                if first:
                    first = False
                    continue
                raise
            first = False
            yield fields[0].strip(), fields[1].strip(), value


def read_topk(path):
    """Yields (user, item, score) from a recs top-k JSON lines file (the
    first line is the header)."""
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline())
        assert header.get("format") == "recs-toplist", header
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            for it in rec["items"]:
                yield rec["user"], it["id"], float(it["score"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", required=True)
    ap.add_argument("--train")
    ap.add_argument("--topk")
    ap.add_argument("--predictions")
    ap.add_argument("--k", default="10")
    ap.add_argument("--relevance-threshold", type=float)
    ap.add_argument("--include-seen", action="store_true")
    a = ap.parse_args()
    ks = sorted({int(k) for k in a.k.split(",")})

    test = list(read_rows(a.test))
    preds = list(read_topk(a.topk) if a.topk else read_rows(a.predictions))

    out = {}
    # Rating metrics: inner join on (user, item).
    score = {(u, i): s for u, i, s in preds}
    pairs = [(r, score[(u, i)]) for u, i, r in test if (u, i) in score]
    if pairs:
        n = len(pairs)
        y = [r for r, _ in pairs]
        d = [r - p for r, p in pairs]
        mean_y = sum(y) / n
        mean_d = sum(d) / n
        ss_res = sum(x * x for x in d)
        ss_tot = sum((v - mean_y) ** 2 for v in y)
        var_d = sum((x - mean_d) ** 2 for x in d) / n
        var_y = ss_tot / n
        out["rmse"] = math.sqrt(ss_res / n)
        out["mae"] = sum(abs(x) for x in d) / n
        out["rsquared"] = 1 - ss_res / ss_tot if ss_tot else (1.0 if ss_res == 0 else 0.0)
        out["exp_var"] = 1 - var_d / var_y if var_y else (1.0 if var_d == 0 else 0.0)

    # Ranking metrics.
    thr = a.relevance_threshold
    rel = {}
    for u, i, r in test:
        if thr is None or r >= thr:
            rel.setdefault(u, set()).add(i)
    seen = {}
    catalogue = None
    if a.train:
        train = list(read_rows(a.train))
        catalogue = len({i for _, i, _ in train})
        if not a.include_seen:
            for u, i, _ in train:
                seen.setdefault(u, set()).add(i)
    by_user = {}
    for u, i, s in preds:
        by_user.setdefault(u, []).append((i, s))
    if catalogue is None:
        catalogue = len({i for _, i, _ in preds})
    lists = {}
    for u, rows in by_user.items():
        ranked = sorted(rows, key=lambda t: -t[1])  # stable: ties keep file order
        ranked = [i for i, _ in ranked if i not in seen.get(u, ())]
        if ranked:
            lists[u] = ranked
    users = [u for u in rel if u in lists]
    if users:
        for k in ks:
            prec = rec = ndcg = mapr = mapk = 0.0
            covered = set()
            for u in users:
                top = lists[u][:k]
                covered.update(top)
                r = rel[u]
                hits = 0
                dcg = ap = 0.0
                for rank, item in enumerate(top, start=1):
                    if item in r:
                        hits += 1
                        dcg += 1 / math.log(1 + rank)
                        ap += hits / rank
                idcg = sum(1 / math.log(1 + i) for i in range(1, min(k, len(r)) + 1))
                prec += hits / k
                rec += hits / len(r)
                ndcg += dcg / idcg
                mapr += ap / len(r)
                mapk += ap / min(k, len(r))
            n = len(users)
            out["precision@%d" % k] = prec / n
            out["recall@%d" % k] = rec / n
            out["ndcg@%d" % k] = ndcg / n
            out["map@%d" % k] = mapr / n
            out["map_at_k@%d" % k] = mapk / n
            out["coverage@%d" % k] = len(covered) / catalogue
    out["_users"] = len(users)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
