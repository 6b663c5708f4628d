#!/bin/sh
# Loading a 25M-line interaction CSV with string ids: cfnet's load_interactions against
# pandas.read_csv (+ factorize of the ids) of the same file, side by side in one run; each load in
# its own process so that its peak RSS is its own. The same lines with integer ids are loaded too,
# by load_interactions and by the MovieLens loaders' path (load_ratings, whole file in memory).
#
#   benchmarks/compare_load.sh [BUILD_DIR] [LINES] [REPEATS]
#
# BUILD_DIR must hold benchmarks/load_interactions (configure with -DCFNET_BUILD_BENCHMARKS=ON).
# The files are generated under ${TMPDIR:-/tmp} (about 1.6 GB + 0.7 GB) and removed at the end;
# never commit them. Prints every run's raw line, then the median seconds and peak RSS per loader.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
lines=${2:-25000000}
repeats=${3:-1}
py=/usr/bin/python3
bin="$build/benchmarks/load_interactions"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cfnet_load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "# $lines lines, $repeats repeat(s), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
"$bin" generate "$tmp/strings.csv" "$lines" strings 42
"$bin" generate "$tmp/integers.csv" "$lines" integers 42
ls -l "$tmp"/*.csv | awk '{print "# " $5 " bytes " $NF}'
head -2 "$tmp/strings.csv" | sed 's/^/#   /'

out="$tmp/runs.txt"
: > "$out"
r=0
while [ "$r" -lt "$repeats" ]; do
    # interleaved, so that a noisy period hits every loader alike
    "$bin" load "$tmp/strings.csv" interactions | sed 's/^/file=strings /' | tee -a "$out"
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$py" "$here/peers/load_pandas.py" "$tmp/strings.csv" | sed 's/^/file=strings /' | tee -a "$out"
    "$bin" load "$tmp/integers.csv" interactions | sed 's/^/file=integers /' | tee -a "$out"
    "$bin" load "$tmp/integers.csv" delimited | sed 's/^/file=integers /' | tee -a "$out"
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$py" "$here/peers/load_pandas.py" "$tmp/integers.csv" | sed 's/^/file=integers /' | tee -a "$out"
    r=$((r + 1))
done

"$py" - "$out" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    kv = dict(f.split("=", 1) for f in line.split())
    runs.setdefault((kv["file"], kv["loader"]), []).append(kv)
print(f"\n{'file':9s} {'loader':13s} {'median s':>9s} {'peak RSS MB':>12s} {'users':>8s} {'items':>7s} {'ratings':>10s}")
for (f, l), v in runs.items():
    s = statistics.median(float(x["seconds"]) for x in v)
    m = statistics.median(float(x["peak_rss_mb"]) for x in v)
    extra = f"   (read_csv alone {statistics.median(float(x['seconds_read_csv']) for x in v):.2f} s)" if l == "pandas" else ""
    print(f"{f:9s} {l:13s} {s:9.2f} {m:12.0f} {v[0]['users']:>8s} {v[0]['items']:>7s} {v[0]['ratings']:>10s}{extra}")
PY
