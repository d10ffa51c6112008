#!/usr/bin/python3
"""The machine's own BLAS rate, for scripts/bench-als.sh.

Times NumPy's matrix product (OpenBLAS dgemm and sgemm on Debian) on n x n
matrices, best of REPEAT runs, and prints one line per precision:

    dgemm GFLOP/s 41.2
    sgemm GFLOP/s 83.0

counting 2 n^3 flops per product. Run it with OPENBLAS_NUM_THREADS set to
the thread count of the comparison, and OPENBLAS_CORETYPE to pin a kernel
family (for instance Haswell: OpenBLAS's AVX2+FMA kernels).
"""
import sys
import time

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3072
repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
rng = np.random.default_rng(1)
for name, dtype in (("dgemm", np.float64), ("sgemm", np.float32)):
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    a @ b  # warm up: threads, page faults
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    print(f"{name} GFLOP/s {2 * n**3 / best / 1e9:.1f}")
