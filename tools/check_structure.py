#!/usr/bin/env python3
"""cfnet's structure rules (docs/design.md, "Levels"), checked on include/cfnet:

1. Levels: a header includes only headers of its own level or lower ones
     0 config error tensor metadata detail/*    0.5 kernels/*
     1 data/* nn/* metrics recommender          2 optim/* serialize options_io
     3 train tune                                4 baselines ensemble autoencoder neural_cf ease mult_vae models/**
   distributed/communicator.hpp and distributed/mpi.hpp are level 0, the rest of distributed/ level 4.
   testing/* sits above nn only; cfnet.hpp (the umbrella) includes everything and nothing includes it.
   kernels/ includes only config.hpp, tensor.hpp and kernels/; nn/ never includes data/.
2. Every SIMD intrinsic and target attribute lives in kernels/.
3. Models are compositions: no gemm, kernels::, nn::detail or optim::detail in a model header.
4. No header over MAX_LINES lines.

Usage: check_structure.py INCLUDE_DIR   (prints every violation; exit status 1 if any)
"""
import os
import re
import sys

MAX_LINES = 700
LEVELS = [  # (prefix or exact name, level); the first match wins
    ("config.hpp", 0), ("error.hpp", 0), ("tensor.hpp", 0), ("metadata.hpp", 0), ("detail/", 0),
    ("kernels/", 0.5),
    ("data/", 1), ("nn/", 1), ("metrics.hpp", 1), ("recommender.hpp", 1), ("protocols.hpp", 1),
    ("optim/", 2), ("serialize.hpp", 2), ("options_io.hpp", 2),
    ("train.hpp", 3), ("tune.hpp", 3),
    ("baselines.hpp", 4), ("ensemble.hpp", 4), ("autoencoder.hpp", 4), ("neural_cf.hpp", 4), ("ease.hpp", 4),
    ("mult_vae.hpp", 4), ("models/", 4),
    ("distributed/communicator.hpp", 0), ("distributed/mpi.hpp", 0), ("distributed/", 4),
    ("testing/", 1.5),
]
MODEL = ("baselines.hpp", "ensemble.hpp", "autoencoder.hpp", "neural_cf.hpp", "ease.hpp", "mult_vae.hpp", "models/")
INTRINSIC = re.compile(r"_mm\d*_\w+|__m(128|256|512)|immintrin\.h|__attribute__\s*\(\(\s*target")
MODEL_BYPASS = re.compile(r"\bgemm\s*\(|\bkernels::|\bnn::detail::|\boptim::detail::")
INCLUDE = re.compile(r'#include\s*<cfnet/([^>]+)>')


def level(name):
    for prefix, lv in LEVELS:
        if name == prefix or (prefix.endswith("/") and name.startswith(prefix)):
            return lv
    return None


def code_lines(text):
    """Lines with // comments removed (block comments are not used in cfnet's headers)."""
    return [re.sub(r"//.*", "", l) for l in text.split("\n")]


def main(root):
    problems = []
    headers = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".hpp"):
                headers.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
    for h in sorted(headers):
        text = open(os.path.join(root, h), encoding="utf-8").read()
        lines = code_lines(text)
        n_lines = text.count("\n")
        if n_lines > MAX_LINES:
            problems.append(f"{h}: {n_lines} lines (limit {MAX_LINES}: split it into headers of one concept)")
        if h == "cfnet.hpp":
            continue
        lv = level(h)
        if lv is None:
            problems.append(f"{h}: no level assigned (add it to tools/check_structure.py and docs/design.md)")
            continue
        for i, l in enumerate(lines, 1):
            m = INCLUDE.search(l)
            if m:
                inc = m.group(1)
                il = level(inc)
                if inc == "cfnet.hpp":
                    problems.append(f"{h}:{i}: includes the umbrella cfnet.hpp")
                elif il is None:
                    problems.append(f"{h}:{i}: includes {inc}, which has no level")
                elif il > lv:
                    problems.append(f"{h}:{i}: level {lv} includes {inc} of level {il} (an upward include)")
                elif h.startswith("kernels/") and not (inc.startswith("kernels/") or inc in ("config.hpp", "tensor.hpp")):
                    problems.append(f"{h}:{i}: kernels/ may include only config.hpp, tensor.hpp and kernels/, not {inc}")
                elif h.startswith("nn/") and inc.startswith("data/"):
                    problems.append(f"{h}:{i}: nn/ must not include data/ ({inc})")
            if not h.startswith("kernels/") and INTRINSIC.search(l):
                problems.append(f"{h}:{i}: SIMD intrinsic or target attribute outside kernels/: {l.strip()}")
            if h.startswith(MODEL) and MODEL_BYPASS.search(l):
                problems.append(f"{h}:{i}: a model bypasses the toolkit (gemm / kernels:: / nn::detail / optim::detail): {l.strip()}")
    for p in problems:
        print(p)
    print(f"check_structure: {len(headers)} headers, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "include/cfnet"))
