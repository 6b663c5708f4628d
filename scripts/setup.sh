#!/usr/bin/env bash
# Installs the Debian packages cfnet's build, tests, examples and benchmarks need, if any is missing.
# Usage: scripts/setup.sh   (needs root or sudo when something is missing)
set -euo pipefail

packages=(
  g++ cmake make                              # toolchain
  libxtensor-dev libxtensor-blas-dev libopenblas-dev   # the library's own dependencies
  catch2 libbenchmark-dev                     # tests, benchmarks
  libcli11-dev nlohmann-json3-dev             # examples and the command-line tool
  python3-matplotlib                          # plots (tools/plot_history.py, tested in ctest)
  libopenmpi-dev openmpi-bin                  # cfnet::mpi and the MPI tests (docs/distributed.md)
  pybind11-dev python3-pybind11 python3-dev python3-numpy python3-scipy python3-pytest   # the Python package (python/, tests/python)
  python3-venv python3-pip python3-setuptools  # the Python package's pip route (docs/python.md, tests/python/test_pip.py)
  clang-14 libclang-rt-14-dev                 # libFuzzer targets (scripts/fuzz.sh, tests/fuzz)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "cfnet setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "cfnet setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
