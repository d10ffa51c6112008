#!/usr/bin/python3
"""Reference part sizes of Microsoft Recommenders' stratified/chrono split.

For each ratio list and group size n, builds a pandas DataFrame of n rows and
cuts it the way recommenders.datasets.split_utils does (process_split_ratio:
a single float r means [r, 1-r]; a list is divided by math.fsum when that is
not 1.0; split_pandas_data_with_ratios: np.cumsum of the ratios, Python
round(c * len(df)), np.split), then prints the sizes of the parts.

Run with Debian's python3-numpy/python3-pandas:
    /usr/bin/python3 testdata/split/group_sizes.py > testdata/split/group_sizes.txt
"""
import math

import numpy as np
import pandas as pd

RATIOS = ["0.75", "0.8", "0.5", "0.7,0.1,0.2", "3,1", "1,1,1", "0.6,0.2,0.2", "0.1,0.9", "0.25,0.25,0.25,0.25"]
SIZES = list(range(0, 21)) + [25, 50, 99, 100, 101, 1000, 12345]


def parse(text):
    vals = [float(x) for x in text.split(",")]
    if len(vals) == 1:
        return [vals[0], 1 - vals[0]]
    if math.fsum(vals) != 1.0:
        vals = [x / math.fsum(vals) for x in vals]
    return vals


for text in RATIOS:
    ratios = parse(text)
    cuts = np.cumsum(ratios).tolist()[:-1]
    for n in SIZES:
        df = pd.DataFrame({"row": np.arange(n)})
        parts = np.split(df, [round(c * len(df)) for c in cuts])
        print(text, n, " ".join(str(len(p)) for p in parts))
