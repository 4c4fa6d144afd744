#!/usr/bin/env bash
# The GPU machine has no network and lacks some of mytensor's dependencies (ml_dtypes; mpi4py and
# the mpich wheel for the distributed tests). Run this here (PyPI is reachable), pass
# carry=[".devdata"] to the device tool, and install them there first:
#   python3 -m pip install --no-deps --no-index .devdata/wheels/*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .devdata/wheels
uv run --no-project --with pip python -m pip download --only-binary=:all: --no-deps \
  --python-version 3.12 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 ml_dtypes mpi4py mpich -d .devdata/wheels
ls -la .devdata/wheels
