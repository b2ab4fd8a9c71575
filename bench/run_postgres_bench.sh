#!/usr/bin/env bash
# run_postgres_bench.sh: CreateCheckIn and GetObjective through OkrCore on PostgreSQL against
# the ceiling of a raw libpq one-row transaction loop on the same server, in the same run
# (issue #19, row 5; bench/README.md). Builds nothing; give it the build dir:
#
#   cmake --build build --target okr_store_backends_bench && bench/run_postgres_bench.sh build
#
# Starts a throwaway PostgreSQL server with .ci/start-postgres.sh (fsync off,
# synchronous_commit off: commits do not wait for the disk; the header says what the server
# runs with) and stops it on exit, also on failure. Then ROUNDS runs of
# okr_store_backends_bench, one client thread each: the baseline (a prepared single-row
# UPDATE in autocommit, i.e. a one-row transaction per call, as fast as it goes), then
# CreateCheckIn and GetObjective through OkrCore on PostgresStore, then the same on a SQLite
# file (synchronous=FULL) for comparison. Prints each run's rates and ratios, then per
# figure the median of the runs with its range; the CreateCheckIn ratio is judged against
# the target 0.5.
#
# Environment: ROUNDS (5 runs), DURATION (3 s per measure; five measures a run, so about
# 17 s a run; not named SECONDS, which is bash's clock), BENCH_TMP (parent of the scratch
# directory for the SQLite file; default the build dir, so that fsync hits the real disk,
# not a tmpfs). The PostgreSQL data directory goes under TMPDIR (default /tmp).
set -euo pipefail

BUILD_DIR=${1:-./build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3}
TARGET=0.5

BENCH=$BUILD_DIR/bench/okr_store_backends_bench
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
START_PG=$REPO/.ci/start-postgres.sh

die() {
  echo "run_postgres_bench: $*" >&2
  exit 1
}
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

[[ -x $BENCH ]] || die "missing $BENCH; build it first:" \
  "cmake --build $BUILD_DIR --target okr_store_backends_bench"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$ROUNDS'"
[[ $DURATION =~ ^[0-9]+([.][0-9]+)?$ ]] || die "DURATION must be a number of seconds"
PSQL=$(command -v psql || true)
if [[ -z $PSQL ]]; then
  for d in /usr/lib/postgresql/*/bin; do [[ -x $d/psql ]] && PSQL=$d/psql; done
fi
[[ -n $PSQL ]] || die "psql is needed (apt-get install -y postgresql-client)"

WORK=$(mktemp -d "${BENCH_TMP:-$BUILD_DIR}/postgres-bench.XXXXXX")
PG_DIR=
RUN_PID=
cleanup() {
  if [[ -n $RUN_PID ]]; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  if [[ -n $PG_DIR ]]; then "$START_PG" stop "$PG_DIR" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Our own server only: never the caller's (a test environment may export these).
unset OKR_TEST_POSTGRES_URL OKR_TEST_POSTGRES_DIR OKR_TEST_POSTGRES_CTL
exports=$("$START_PG" start 2>"$WORK/start-postgres.log") ||
  { cat "$WORK/start-postgres.log" >&2; die "cannot start a throwaway PostgreSQL server"; }
eval "$exports"
PG_DIR=${OKR_TEST_POSTGRES_DIR:?start-postgres.sh printed no OKR_TEST_POSTGRES_DIR}
: "${OKR_TEST_POSTGRES_URL:?start-postgres.sh printed no OKR_TEST_POSTGRES_URL}"
export OKR_TEST_POSTGRES_URL

read -r fsync sync_commit fpw pg_version < <("$PSQL" "$OKR_TEST_POSTGRES_URL" -XAtq -F ' ' -c \
  "SELECT current_setting('fsync'), current_setting('synchronous_commit'),
          current_setting('full_page_writes'), current_setting('server_version')") || true
[[ -n ${pg_version:-} ]] || die "cannot read the server's settings with $PSQL"
if [[ $fsync == off ]]; then
  durability="fsync=OFF, synchronous_commit=$sync_commit, full_page_writes=$fpw: no commit"
  durability+=" waits for the disk, so the ratio compares round trips and server CPU only"
else
  durability="fsync=on, synchronous_commit=$sync_commit, full_page_writes=$fpw"
fi

echo "PostgreSQL store: $(nproc) cores shared by client and server (load average" \
  "$(cut -d ' ' -f 1-3 /proc/loadavg)); $ROUNDS runs, one client thread, $DURATION s per measure"
echo "server: PostgreSQL $pg_version on loopback (throwaway, .ci/start-postgres.sh), $durability"
echo "SQLite (comparison only): synchronous=FULL on $WORK ($(stat -f -c %T "$WORK"))"

FIELDS=(raw pg_check_in pg_get_objective sqlite_check_in sqlite_get_objective check_in_ratio
  get_objective_ratio)
declare -A VALUES RUN
for ((r = 1; r <= ROUNDS; r++)); do
  log=$WORK/run-$r.log
  # Five measures of DURATION plus setup; a wedged server must not hang the script.
  # In the background so that a signal runs the trap at once (it stops the run too).
  rc=0
  timeout "$(awk -v d="$DURATION" 'BEGIN { printf "%d", 5 * d + 120 }')" \
    "$BENCH" --seconds="$DURATION" --dir="$WORK" >"$log" 2>&1 &
  RUN_PID=$!
  wait "$RUN_PID" || rc=$?
  RUN_PID=
  ((rc == 0)) || { cat "$log" >&2; die "run $r: okr_store_backends_bench failed (exit $rc)"; }
  line=$(grep '^RESULT ' "$log") || { cat "$log" >&2; die "run $r printed no RESULT line"; }
  for f in "${FIELDS[@]}"; do
    v=$(sed -n "s/.* $f=\([0-9.]*\).*/\1/p" <<<"$line")
    [[ -n $v ]] || die "run $r: no $f in: $line"
    [[ $f == *ratio ]] || awk -v v="$v" 'BEGIN { exit !(v > 0) }' ||
      { cat "$log" >&2; die "run $r: $f measured 0 (a call failed; output above)"; }
    RUN[$f]=$v
    VALUES[$f]+="$v "
  done
  printf 'run %d: raw %6.0f/s  PG CreateCheckIn %5.0f/s (%.3f)  PG GetObjective %5.0f/s (%.3f)' \
    "$r" "${RUN[raw]}" "${RUN[pg_check_in]}" "${RUN[check_in_ratio]}" \
    "${RUN[pg_get_objective]}" "${RUN[get_objective_ratio]}"
  printf '  SQLite CreateCheckIn %5.0f/s  GetObjective %6.0f/s\n' \
    "${RUN[sqlite_check_in]}" "${RUN[sqlite_get_objective]}"
done

# summary LABEL FIELD FORMAT: "LABEL: MEDIAN (MIN-MAX)" over the runs, numbers in FORMAT.
summary() {
  local m lo hi
  # shellcheck disable=SC2086  # one word per run
  read -r m lo hi < <(median_min_max ${VALUES[$2]})
  # shellcheck disable=SC2059  # the format is the caller's
  printf "  %-45s $3 ($3-$3)\n" "$1" "$m" "$lo" "$hi"
}
echo
echo "median of $ROUNDS runs (min-max):"
# shellcheck disable=SC2086
read -r check_in_median _ < <(median_min_max ${VALUES[check_in_ratio]})
summary "PostgreSQL CreateCheckIn / raw ceiling" check_in_ratio %.3f
echo "    -> $(awk -v r="$check_in_median" -v t="$TARGET" \
  'BEGIN { print (r >= t ? "meets" : "BELOW") }') the target $TARGET (issue #19, row 5)"
summary "PostgreSQL GetObjective / raw ceiling" get_objective_ratio %.3f
summary "raw libpq single-row UPDATE (ceiling), /s" raw %.0f
summary "PostgreSQL CreateCheckIn (core), /s" pg_check_in %.0f
summary "PostgreSQL GetObjective (core), /s" pg_get_objective %.0f
summary "SQLite CreateCheckIn (synchronous=FULL), /s" sqlite_check_in %.0f
summary "SQLite GetObjective, /s" sqlite_get_objective %.0f
