#!/usr/bin/env bash
# One call on the lent GPU machine for the reliability issue (#10) and the model benchmark:
#   bash benchmarks/gpu_reliability.sh [build] [fuzz] [suite] [asan] [models]...  (default: all)
# build: the CUDA extension (CUDAARCHS=90); fuzz: 2,000 CUDA fuzz cases (FUZZ_N, FUZZ_SEED); suite: the whole test
# suite with CUDA required; asan: an ASan/UBSan build (CUDA on) over the error tests and fuzz
# slices on CPU and CUDA (it replaces the build: run it last); models: bench_models.py.
# Logs go to a folder that is tarred into $OUT/logs.tgz after every step (the device tool
# returns at most 8 files); MYTENSOR_COMMIT names the commit sent (the copy's .git is stale).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
OUT="${OUT:-$PWD/gpu-logs}"; L=/tmp/gpu-logs; mkdir -p "$OUT" "$L"
steps=("$@"); [ ${#steps[@]} -eq 0 ] && steps=(build fuzz suite models asan)
S=(); t0=$(date +%s)
el() { echo "t=$(( $(date +%s) - t0 ))s"; }
pack() { printf '%s\n' "${S[@]}" > "$L/summary.txt"; tar czf "$OUT/logs.tgz" -C "$(dirname "$L")" "$(basename "$L")"; }
ERROR_TESTS="tests/ops/test_errors.py tests/test_user_errors.py tests/optim/test_fused_ops_errors.py
  tests/data/test_augment.py tests/test_overflow.py tests/test_fuzz_findings.py tests/test_inplace.py
  tests/test_faults.py tests/ops/test_degenerate_shapes.py"
for s in "${steps[@]}"; do
  case "$s" in
    build)
      OUT=$L bash benchmarks/gpu_gemm.sh build > "$L/step_build.txt" 2>&1
      S+=("build: $(tail -1 "$L/step_build.txt") $(el)") ;;
    fuzz)
      timeout 170 python3 -m tests.fuzz -n "${FUZZ_N:-2000}" --seed "${FUZZ_SEED:-0}" --device cuda --jobs 12 \
        --report "$L/fuzz_cuda" > "$L/fuzz_cuda.log" 2>&1
      S+=("fuzz cuda rc=$?: $(grep UNEXPLAINED "$L/fuzz_cuda.log") $(el)") ;;
    suite)
      MYTENSOR_REQUIRE_CUDA=1 timeout 330 python3 -m pytest -q -p no:cacheprovider -n 16 tests \
        > "$L/suite.log" 2>&1
      S+=("suite rc=$?: $(tail -1 "$L/suite.log") $(el)") ;;
    models)
      timeout 150 python3 benchmarks/bench_models.py --steps 20 > "$L/bench_models.log" 2>&1
      S+=("bench_models rc=$? $(el)") ;;
    asan)
      MYTENSOR_CUDA=ON CUDAARCHS=90 CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install \
        --no-build-isolation --no-deps -q -e . -C cmake.define.MYTENSOR_ASAN=ON \
        -C build-dir=build/asan > "$L/asan_build.log" 2>&1
      S+=("asan build rc=$? $(el)")
      mkdir -p /tmp/sanlog
      # shellcheck disable=SC2086
      env LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
        ASAN_OPTIONS=detect_leaks=0:protect_shadow_gap=0:allocator_may_return_null=1:log_path=/tmp/sanlog/asan \
        UBSAN_OPTIONS=print_stacktrace=1:log_path=/tmp/sanlog/ubsan \
        bash -c "MYTENSOR_REQUIRE_CUDA=1 timeout 240 python3 -m pytest -q -p no:cacheprovider -n 12 \
          $ERROR_TESTS > $L/asan_tests.log 2>&1; \
          timeout 100 python3 -m tests.fuzz -n 1500 --seed 3 --jobs 12 --report $L/fuzz_asan_cpu \
          > $L/asan_fuzz_cpu.log 2>&1; \
          timeout 100 python3 -m tests.fuzz -n 600 --seed 4 --device cuda --jobs 8 \
          --report $L/fuzz_asan_cuda > $L/asan_fuzz_cuda.log 2>&1"
      cat /tmp/sanlog/* > "$L/sanitizer_reports.txt" 2>/dev/null
      S+=("asan error tests: $(tail -1 "$L/asan_tests.log"); sanitizer reports: $(grep -c 'runtime error\|ERROR: AddressSanitizer' "$L/sanitizer_reports.txt") $(el)") ;;
    *) echo "unknown step $s"; exit 2 ;;
  esac
  pack
done
echo "==== SUMMARY"; printf '%s\n' "${S[@]}"
