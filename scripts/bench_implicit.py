#!/usr/bin/python3
"""benfred/implicit's CPU ALS with conjugate gradient on a ratings file, for
scripts/bench-als.sh: the same data and settings as
`recs fit --implicit --solver cg --cg-steps 3`.

Usage: PYTHONPATH=<built implicit> OPENBLAS_NUM_THREADS=1 \
       bench_implicit.py RATINGS.tsv RANK ALPHA REG ITERS THREADS

RATINGS.tsv is u.data layout (user, item, rating, time; whitespace
separated, integer ids). Confidence is 1 + ALPHA * rating, as in Hu, Koren
and Volinsky and in recs (implicit's CG uses the matrix values as the
confidence and 1 as the preference of every stored entry). Prints the
median seconds per iteration (implicit's callback measures each iteration,
both half-steps) and the whole fit:

    implicit s/it 3.91
    implicit fit s 11.9
"""
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

path, rank, alpha, reg, iters, threads = sys.argv[1:7]
raw = np.fromstring(open(path, "rb").read(), dtype=np.float64, sep=" ")
raw = raw.reshape(-1, 4)
users = np.unique(raw[:, 0], return_inverse=True)[1]
items = np.unique(raw[:, 1], return_inverse=True)[1]
conf = (1 + float(alpha) * raw[:, 2]).astype(np.float32)
ui = sp.csr_matrix((conf, (users, items)), dtype=np.float32)
del raw

times = []
model = AlternatingLeastSquares(factors=int(rank), regularization=float(reg), alpha=1.0,
                                iterations=int(iters), use_cg=True, num_threads=int(threads),
                                random_state=42, calculate_training_loss=False)
model.cg_steps = 3
t0 = time.perf_counter()
model.fit(ui, show_progress=False, callback=lambda it, secs, loss: times.append(secs))
fit = time.perf_counter() - t0
print(f"implicit s/it {statistics.median(times):.3f}")
print(f"implicit fit s {fit:.2f}")
