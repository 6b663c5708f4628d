#!/usr/bin/python3
"""pandas peer of benchmarks/load_interactions: loads the same CSV with pandas.read_csv, then maps
the user and item ids to contiguous indices (pandas.factorize, sort=True: the same sorted index
space cfnet builds), in one process; prints one line like the C++ program: seconds for read_csv
alone and for read_csv + factorize, and the process's peak RSS (ru_maxrss, includes the
interpreter and pandas itself; the baseline after `import pandas` is printed too).

    /usr/bin/python3 benchmarks/peers/load_pandas.py FILE
"""
import resource
import sys
import time

import pandas as pd


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    path = sys.argv[1]
    base = rss_mb()
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    t1 = time.perf_counter()
    users, user_names = pd.factorize(df.iloc[:, 0], sort=True)
    items, item_names = pd.factorize(df.iloc[:, 1], sort=True)
    t2 = time.perf_counter()
    print(f"loader=pandas seconds_read_csv={t1 - t0:.3f} seconds={t2 - t0:.3f} peak_rss_mb={rss_mb():.0f} "
          f"rss_after_import_mb={base:.0f} users={len(user_names)} items={len(item_names)} ratings={len(df)} "
          f"pandas={pd.__version__}")


if __name__ == "__main__":
    main()
