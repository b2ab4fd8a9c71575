#!/usr/bin/env bash
# The sanitizer part of CI (issue #15), from a clean clone:
#   1. build-asan: clang, AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer),
#      with the libFuzzer targets and the benchmarks; the whole test suite runs there (the
#      README test command runs the suite only here, so it is built and run once);
#   2. .ci/fuzz.sh build-asan <seconds>, when that script exists: each fuzz target for a
#      bounded time;
#   3. build-tsan: clang, ThreadSanitizer, only the event, API and store tests (and the
#      check of the absl::Mutex annotations), run with `ctest -L tsan`.
# Prints the seconds every stage took and the total; exits non-zero on the first failure.
#
# Usage: .ci/sanitizers.sh
# The caller exports the PostgreSQL test server's OKR_TEST_POSTGRES_* variables (as .ci/run
# does); without them the PostgreSQL tests fail under CI=true.
# Environment:
#   CC, CXX                 compilers (default clang-14, clang++-14)
#   OKR_SANITIZER_JOBS      parallel build and test jobs (default 2)
#   OKR_FUZZ_SECONDS        seconds per fuzz target (default 30)
#   OKR_SANITIZER_WRAPPER   a command put in front of every build and test command, e.g.
#                           "flock /tmp/okr-build.lock nice -n 19" on a shared machine
set -euo pipefail
cd "$(dirname "$0")/.."

export CC="${CC:-clang-14}" CXX="${CXX:-clang++-14}"
jobs="${OKR_SANITIZER_JOBS:-2}"
fuzz_seconds="${OKR_FUZZ_SECONDS:-30}"
read -r -a wrap <<<"${OKR_SANITIZER_WRAPPER:-}"
# -O1: the usual trade-off for sanitizers (fast enough, stacks still exact); assertions on.
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1"
        -DOKR_BUILD_TESTS=ON)

total_start=$(date +%s)
timings=()
stage() {
  local name=$1
  shift
  echo "sanitizers: == ${name}: $*"
  local start rc=0
  start=$(date +%s)
  "$@" || rc=$?
  local took=$(($(date +%s) - start))
  timings+=("$(printf '%-16s %5ss' "${name}" "${took}")")
  echo "sanitizers: == ${name}: ${took}s (exit ${rc})"
  if [ "${rc}" -ne 0 ]; then
    summary
    echo "sanitizers: FAILED in stage ${name}" >&2
    exit "${rc}"
  fi
}
summary() {
  echo "sanitizers: stage times"
  printf '  %s\n' "${timings[@]}"
  echo "sanitizers: total $(($(date +%s) - total_start))s"
}

stage asan-configure cmake -S . -B build-asan "${common[@]}" \
  -DOKR_SANITIZE=address,undefined -DOKR_BUILD_FUZZ=ON -DOKR_BUILD_BENCH=ON
stage asan-build "${wrap[@]}" cmake --build build-asan -j "${jobs}"
stage asan-test "${wrap[@]}" ctest --test-dir build-asan --output-on-failure -j "${jobs}"
if [ -x .ci/fuzz.sh ]; then
  stage fuzz "${wrap[@]}" .ci/fuzz.sh build-asan "${fuzz_seconds}"
else
  echo "sanitizers: .ci/fuzz.sh not found, no fuzzing"
fi

stage tsan-configure cmake -S . -B build-tsan "${common[@]}" -DOKR_SANITIZE=thread \
  -DOKR_BUILD_BENCH=OFF
# The event, API and store tests: every target of those test folders.
stage tsan-build "${wrap[@]}" cmake --build build-tsan -j "${jobs}" --target \
  tests/events/all tests/api/all tests/storage/all tsan_absl_sync_test
stage tsan-test "${wrap[@]}" ctest --test-dir build-tsan --output-on-failure -j "${jobs}" -L tsan

summary
