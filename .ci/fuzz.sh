#!/usr/bin/env bash
# Runs every libFuzzer target of fuzz/ (one per fuzz/<name>_fuzz.cc) from a build tree
# configured with -DOKR_BUILD_FUZZ=ON, for SECONDS_PER_TARGET seconds each, two at a time.
#
#   .ci/fuzz.sh BUILD_DIR SECONDS_PER_TARGET
#
# Each target starts from a writable copy of its seeds (fuzz/corpus/<name>) and regression
# inputs (fuzz/regressions/<name>) in a temporary directory, so the repository is not
# modified. Prints per target the executions and the final coverage line. Fails (non-zero)
# when a target binary is missing, and on any crash, leak, timeout or out-of-memory,
# printing the input's path and its base64 (save it as fuzz/regressions/<name>/<file>
# once fixed). FUZZ_TARGETS="name ..." runs only those targets; FUZZ_KEEP=1 keeps the
# temporary directory.
set -uo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BUILD_DIR SECONDS_PER_TARGET" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd) || exit 2
seconds=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
max_len=${FUZZ_MAX_LEN:-65536}
jobs=${FUZZ_JOBS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/okr-fuzz.XXXXXX")
if [ "${FUZZ_KEEP:-0}" != 1 ]; then
  trap 'rm -rf "$work"' EXIT
fi

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<< "$FUZZ_TARGETS"
else
  for src in "$repo"/fuzz/*_fuzz.cc; do
    targets+=("$(basename "$src" _fuzz.cc)")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz/*_fuzz.cc targets found" >&2
  exit 1
fi

missing=0
for name in "${targets[@]}"; do
  if [ ! -x "$build_dir/fuzz/fuzz_$name" ]; then
    echo "fuzz: MISSING $build_dir/fuzz/fuzz_$name (configure with -DOKR_BUILD_FUZZ=ON and" \
         "build fuzz_all)" >&2
    missing=1
  fi
done
[ $missing -eq 0 ] || exit 1

# run_one NAME: fuzzes one target; its log and crash artifacts go to $work/NAME/.
run_one() {
  local name=$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local d
  for d in corpus regressions; do
    if [ -d "$repo/fuzz/$d/$name" ]; then
      cp -R "$repo/fuzz/$d/$name/." "$dir/corpus/"
    fi
  done
  "$build_dir/fuzz/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" > "$dir/log" 2>&1
  echo $? > "$dir/rc"
}

running=0
for name in "${targets[@]}"; do
  run_one "$name" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

failed=0
printf '%-22s %12s %8s %8s  %s\n' target execs cov ft result
for name in "${targets[@]}"; do
  dir=$work/$name
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  artifacts=$(find "$dir/artifacts" -type f 2>/dev/null)
  result=ok
  if [ "$rc" != 0 ] || [ -n "$artifacts" ]; then
    result="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-22s %12s %8s %8s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
  echo "    $last"
  if [ "$result" != ok ]; then
    grep -E 'ERROR: |SUMMARY: |fuzz check failed|runtime error' "$dir/log" | head -5 | sed 's/^/    /'
    for f in $artifacts; do
      echo "    crash input: $f ($(stat -c %s "$f") bytes), base64:"
      base64 -w 0 "$f" | fold -w 100 | sed 's/^/      /'
      echo
    done
    echo "    log: $dir/log"
  fi
done

if [ $failed -ne 0 ]; then
  # Keep the evidence of a failed run.
  trap - EXIT
  echo "fuzz: FAILED (logs and inputs in $work)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a crash"
