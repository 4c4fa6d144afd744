#!/usr/bin/env bash
# One call on the lent GPU machine: build, run the CUDA tests, then the benchmarks.
#   bash benchmarks/gpu_run.sh [build|test|sanitize|sanitize_graphs|racecheck|ops|train|speed|
#                               conv|models|all]...
# Logs go to $OUT (the device tool's return folder) or ./gpu-logs. Data: .devdata/ holds the
# CIFAR-10 archive and prepare.py (copied from ../shared/cifar10, carried by the device tool).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-logs}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(all)

run_build() {
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
  MYTENSOR_CUDA=ON CMAKE_BUILD_PARALLEL_LEVEL=16 \
    python3 -m pip install --no-build-isolation --no-deps -q -e . 2>&1 | tail -20 | tee "$OUT/build.log"
  python3 -c "import mytensor as mt; print('cuda available:', mt.cuda.is_available())"
}
run_test() {
  MYTENSOR_REQUIRE_CUDA=1 timeout 420 python3 -m pytest -q -k "cuda" -p no:cacheprovider -n 8 \
    tests 2>&1 | tee "$OUT/test.log" | grep -E "^(FAILED|ERROR)|passed|failed" | head -80
}
run_sanitize() {
  # A representative subset: every kernel family once (memcheck slows kernels ~100x).
  MYTENSOR_REQUIRE_CUDA=1 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 1 \
    python3 -m pytest -q -x -p no:cacheprovider tests/ops/test_parity.py -k \
    "cuda and case0 and float32 and (add or exp or sum or max or softmax or cross_entropy or matmul or conv2d or pool or batch_norm or dropout or index_select or gather)" \
    2>&1 | tail -15 | tee "$OUT/memcheck.log"
}
run_sanitize_graphs() {
  # The implicit-GEMM convolutions (TF32) and captured/replayed CUDA graphs under memcheck.
  MYTENSOR_REQUIRE_CUDA=1 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 1 \
    python3 -m pytest -q -x -p no:cacheprovider tests/ops/test_tf32.py tests/cuda/test_graphs.py \
    -k "cuda or graph" 2>&1 | tail -6 | tee "$OUT/memcheck_graphs.log"
}
run_speed() {
  # Issue 6: mytensor (graphed, eager) vs PyTorch (eager, torch.compile), then two more seeds.
  data
  timeout 300 python3 benchmarks/bench_train.py --data-dir /tmp/cifar --epochs 10 \
    > "$OUT/bench_train_seed0.log" 2>&1
  tail -8 "$OUT/bench_train_seed0.log"
  for seed in 1 2; do
    timeout 150 python3 benchmarks/bench_train.py --data-dir /tmp/cifar --epochs 10 \
      --seed "$seed" --runs graphed,torch > "$OUT/bench_train_seed$seed.log" 2>&1
    tail -5 "$OUT/bench_train_seed$seed.log"
  done
}
run_ops() {
  timeout 300 python3 benchmarks/bench_ops.py ${OPS_ONLY:+--only "$OPS_ONLY"} 2>&1 \
    | tee "$OUT/bench_ops.log"
}
run_conv() {
  # The Hopper convolutions (issue #12): their tests, the TF32 and sm90 GEMM tests beside them,
  # then memcheck over a few geometries (full tiles, partial tiles, wide images, ragged channels).
  MYTENSOR_REQUIRE_CUDA=1 timeout 300 python3 -m pytest -q -p no:cacheprovider \
    tests/ops/test_conv_sm90.py tests/ops/test_tf32.py tests/ops/test_gemm_sm90.py 2>&1 \
    | tail -40 | tee "$OUT/conv_tests.log"
  MYTENSOR_REQUIRE_CUDA=1 timeout 240 compute-sanitizer --tool memcheck --error-exitcode 1 \
    python3 -m pytest -q -x -p no:cacheprovider tests/ops/test_conv_sm90.py \
    -k "case0 or case5 or case6 or case9 or case14" > "$OUT/memcheck_conv.log" 2>&1
  grep -E "^=========" "$OUT/memcheck_conv.log" | head -30
  tail -4 "$OUT/memcheck_conv.log"
}
run_models() {
  timeout 300 python3 benchmarks/bench_models.py --models "${MODELS:-resnet18}" --steps 20 \
    2>&1 | tee "$OUT/bench_models.log" | tail -12
}
run_racecheck() {
  # Shared-memory races in the kernels that use shared memory (reductions, GEMM, conv, norm).
  MYTENSOR_REQUIRE_CUDA=1 timeout 300 compute-sanitizer --tool racecheck --error-exitcode 1 \
    python3 -m pytest -q -x -p no:cacheprovider tests/ops/test_parity.py -k \
    "cuda and case0 and float32 and (sum or max or softmax or cross_entropy or matmul or conv2d or batch_norm)" \
    2>&1 | tail -15 | tee "$OUT/racecheck.log"
}
data() {
  if [ ! -d /tmp/cifar/cifar-10-batches-py ]; then
    python3 .devdata/prepare.py /tmp/cifar >/dev/null
  fi
}
run_train() {
  data
  local epochs="${EPOCHS:-10}"
  timeout 400 python3 examples/cifar10/compare.py --epochs "$epochs" --data-dir /tmp/cifar \
    --device cuda 2>&1 | tee "$OUT/train.log"
}
for s in "${steps[@]}"; do
  case "$s" in
    all) run_build; run_test; run_ops ;;
    build|test|sanitize|sanitize_graphs|racecheck|ops|train|speed|conv|models) "run_$s" ;;
    *) echo "unknown step $s"; exit 2 ;;
  esac
done
