#!/usr/bin/env bash
# One call on the lent H200 for the Hopper GEMM (issue #12), after the build (gpu_run.sh build):
# the sm90 tests, compute-sanitizer memcheck and racecheck on small sm90 GEMMs, the HGMMA count
# in the extension's SASS, and bench_gemm.py. Logs go to $OUT (or ./gpu-logs); a table ends it.
#   bash benchmarks/gpu_gemm.sh [build] [test] [sanitize] [sass] [bench]   (default: all but build)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-logs}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(test sanitize sass bench)
summary=()

# A few small forced-sm90 products: odd sizes, both layouts, batches, bias (linear).
SMALL='import mytensor as mt, numpy as np
mt.backends.cuda.matmul.allow_tf32 = True
r = np.random.default_rng(0)
for m, k, n in [(129, 65, 257), (7, 300, 130), (200, 33, 64)]:
    a = r.standard_normal((m, k)).astype(np.float32); b = r.standard_normal((k, n)).astype(np.float32)
    for ta, tb in [(mt.tensor(a, device="cuda"), mt.tensor(b, device="cuda")),
                   (mt.tensor(a.T.copy(), device="cuda").T, mt.tensor(b.T.copy(), device="cuda").T)]:
        got = (ta @ tb).cpu().numpy()
        e = np.linalg.norm(got - a.astype(np.float64) @ b) / np.linalg.norm(a.astype(np.float64) @ b)
        assert e < 1e-3, (m, k, n, e)
x = r.standard_normal((3, 70, 40)).astype(np.float32); w = r.standard_normal((50, 40)).astype(np.float32)
bias = r.standard_normal(50).astype(np.float32)
y = mt.nn.functional.linear(mt.tensor(x, device="cuda"), mt.tensor(w, device="cuda"), mt.tensor(bias, device="cuda"))
e = np.linalg.norm(y.cpu().numpy() - (x.astype(np.float64) @ w.T + bias)) / np.linalg.norm(x.astype(np.float64) @ w.T + bias)
assert e < 1e-3, e
print("small sm90 GEMMs ok")'

so_path() {
  python3 -c "import mytensor._C as c; print(c.__file__)"
}

for s in "${steps[@]}"; do
  case "$s" in
    build)
      nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
      MYTENSOR_CUDA=ON CUDAARCHS="${CUDAARCHS:-90}" CMAKE_BUILD_PARALLEL_LEVEL=16 \
        python3 -m pip install --no-build-isolation --no-deps -q -e . > "$OUT/build.log" 2>&1
      rc=$?; tail -5 "$OUT/build.log"; summary+=("build rc=$rc")
      ;;
    test)
      MYTENSOR_REQUIRE_CUDA=1 timeout 900 python3 -m pytest -q -p no:cacheprovider \
        tests/ops/test_gemm_sm90.py > "$OUT/test_gemm_sm90.log" 2>&1
      rc=$?; grep -E "^(FAILED|ERROR)" "$OUT/test_gemm_sm90.log" | head -30
      summary+=("tests: $(tail -1 "$OUT/test_gemm_sm90.log") (rc=$rc)")
      ;;
    sanitize)
      for tool in memcheck racecheck; do
        MYTENSOR_GEMM=sm90 timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 1 \
          python3 -c "$SMALL" > "$OUT/$tool.log" 2>&1
        rc=$?; tail -4 "$OUT/$tool.log"
        summary+=("$tool: rc=$rc, $(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$OUT/$tool.log" | tail -1)")
      done
      ;;
    sass)
      so=$(so_path)
      cuobjdump --dump-sass "$so" > "$OUT/sass.txt" 2>&1
      n=$(grep -c HGMMA "$OUT/sass.txt"); k=$(grep -c "Function : .*gemm_sm90_kernel" "$OUT/sass.txt")
      grep -o "Function : .*gemm_sm90_kernel[^ ]*" "$OUT/sass.txt" | head -4
      summary+=("SASS: $n HGMMA instructions in $k gemm_sm90_kernel functions ($so)")
      ;;
    bench)
      timeout 600 python3 benchmarks/bench_gemm.py > "$OUT/bench_gemm.log" 2>&1
      summary+=("bench rc=$?")
      ;;
    *) echo "unknown step $s"; exit 2 ;;
  esac
done
echo "---- summary ----"
printf '%s\n' "${summary[@]}"
[ -f "$OUT/bench_gemm.log" ] && tail -14 "$OUT/bench_gemm.log"
exit 0
