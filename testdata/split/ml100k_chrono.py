#!/usr/bin/python3
"""Chronological 75/25 split of MovieLens 100k by user and by item, as
Recommenders' pandas splitter cuts groups (round(0.75 * len(group)), the
latest ratings to test), with a stable time sort so that ties keep file
order. Prints sizes, cold-start counts and a checksum of the test rows.

    RECS_ML100K=/path/to/ml-100k /usr/bin/python3 testdata/split/ml100k_chrono.py
"""
import os
import pandas as pd, numpy as np, itertools
df = pd.read_csv(os.path.join(os.environ['RECS_ML100K'], 'u.data'), sep='\t', names=['userID','itemID','rating','timestamp'])
def sizes(n, cuts):
    ks=[round(c*n) for c in cuts]
    return np.split(np.arange(n), ks)
for by in ['userID','itemID']:
    cuts=[0.75]
    parts=[]
    # chrono: stable sort by time, group, cut (Recommenders' old _do_stratification with a stable sort)
    d = df.sort_values('timestamp', kind='mergesort')
    test_idx=[]
    for _, g in d.groupby(by, sort=True):
        s = sizes(len(g), cuts)
        test_idx.extend(g.index[s[1]].tolist())
    test = df.loc[sorted(test_idx)]
    train = df.drop(index=test_idx)
    cold_users = len(set(test.userID) - set(train.userID))
    cold_items = len(set(test.itemID) - set(train.itemID))
    cold_rows = int((~test.userID.isin(set(train.userID)) | ~test.itemID.isin(set(train.itemID))).sum())
    chk = int((test.userID.astype(np.int64)*100003 + test.itemID.astype(np.int64)).sum())
    print(by, 'train', len(train), 'test', len(test), 'cold', cold_users, cold_items, cold_rows, 'checksum', chk)
