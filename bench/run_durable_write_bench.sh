#!/usr/bin/env bash
# run_durable_write_bench.sh: durable CreateCheckIn (okr-server, SQLite, --sqlite-sync=full)
# against raw one-row durable SQLite transactions on the same disk (issue #19, bench/README.md).
# Builds nothing; give it the build dir:
#
#   cmake --build build --target okr-server okr_grpc_load okr_sqlite_raw_writer &&
#       bench/run_durable_write_bench.sh build
#
# Baseline: okr_sqlite_raw_writer, one thread committing BEGIN IMMEDIATE; one INSERT; one
# UPDATE; COMMIT in WAL mode with synchronous=FULL, as fast as it can. Service: okr-server on
# a fresh SQLite file (--sqlite-sync=full, --auth=none) with a metric key result, loaded
# with CreateCheckIn by h2load (the independent generator: STREAMS streams over CHANNELS
# connections, the same request every time) and by okr_grpc_load (STREAMS callers, a new
# value every call). ROUNDS rounds, each running the baseline, then h2load, then
# okr_grpc_load for DURATION seconds, so all see the same machine; prints each round's
# rates, the server's CPU time per check-in, and per load generator the median of the
# per-round ratios check-ins/s / raw commits/s with their range.
#
# BASE_SERVER=/path/to/okr-server also measures that binary (e.g. a build of the previous
# commit) in the same rounds, on its own database, and prints its ratios too.
#
# Environment: ROUNDS (3), DURATION (5 s), STREAMS (256), CHANNELS (4), WARMUP (1 s of
# load before each service measurement), BENCH_TMP (parent of the scratch databases;
# default the build dir, so that fsync hits the real disk, not a tmpfs). Every process it
# starts is stopped on exit.
set -euo pipefail

BUILD_DIR=${1:-./build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
STREAMS=${STREAMS:-256}
CHANNELS=${CHANNELS:-4}
WARMUP=${WARMUP:-1}

OKR_SERVER=$BUILD_DIR/service/server/okr-server
LOAD=$BUILD_DIR/bench/okr_grpc_load
RAW=$BUILD_DIR/bench/okr_sqlite_raw_writer

die() {
  echo "run_durable_write_bench: $*" >&2
  exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

for bin in "$OKR_SERVER" "$LOAD" "$RAW" ${BASE_SERVER:+"$BASE_SERVER"}; do
  [[ -x $bin ]] || die "missing $bin; build it first: cmake --build $BUILD_DIR --target" \
    "okr-server okr_grpc_load okr_sqlite_raw_writer"
done
command -v h2load >/dev/null || die "h2load is needed (apt-get install -y nghttp2-client)"
command -v curl >/dev/null || die "curl is needed"
((STREAMS % CHANNELS == 0)) || die "STREAMS ($STREAMS) must be a multiple of CHANNELS ($CHANNELS)"

WORK=$(mktemp -d "${BENCH_TMP:-$BUILD_DIR}/durable-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME BINARY: okr-server on a fresh database under $WORK/NAME; sets
# GRPC_PORT_<NAME>, PID_<NAME> and writes the CreateCheckIn body to $WORK/NAME/put.bin.
declare -A GRPC_PORT PID
start_server() {
  local name=$1 binary=$2 grpc http
  mkdir -p "$WORK/$name"
  read -r grpc http < <(free_ports 2)
  "$binary" --grpc-address="127.0.0.1:$grpc" --http-address="127.0.0.1:$http" \
    --database="sqlite:$WORK/$name/okr.db" --sqlite-sync=full --auth=none \
    >"$WORK/$name/server.log" 2>&1 &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  GRPC_PORT[$name]=$grpc
  wait_until 30 "${PID[$name]}" "$WORK/$name/server.log" \
    curl -fsS --max-time 1 "http://127.0.0.1:$http/healthz"
  "$LOAD" --write-request=create_check_in --address="127.0.0.1:$grpc" \
    --out="$WORK/$name/put.bin" 2>"$WORK/$name/write.log" ||
    { cat "$WORK/$name/write.log" >&2; die "cannot create the $name fixture"; }
  check_grpc_ok "$(url_of "$name")" "$WORK/$name/put.bin"
}
url_of() { echo "http://127.0.0.1:${GRPC_PORT[$1]}/okr.v1.OkrService/CreateCheckIn"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# median_range V...: "median (min-max)" of the values.
median_range() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}

# h2load_rate NAME: prints "RATE CPU": check-ins/s h2load measured, and the server's CPU
# microseconds per check-in.
h2load_rate() {
  local name=$1 out before after n
  timeout $((${WARMUP%.*} + ${DURATION%.*} + 30)) h2load -D "$WARMUP" -c "$CHANNELS" \
    -m $((STREAMS / CHANNELS)) -d "$WORK/$name/put.bin" "${GRPC_HEADERS[@]}" \
    "$(url_of "$name")" >/dev/null
  before=$(cpu_ticks "${PID[$name]}")
  out=$(timeout $((${DURATION%.*} + 30)) h2load -D "$DURATION" -c "$CHANNELS" \
    -m $((STREAMS / CHANNELS)) -d "$WORK/$name/put.bin" "${GRPC_HEADERS[@]}" "$(url_of "$name")")
  after=$(cpu_ticks "${PID[$name]}")
  n=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
  grep -q '^status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$out" ||
    die "h2load saw non-2xx answers: $(grep '^status codes' <<<"$out")"
  echo "$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")" \
    "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
      'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : -1) }')"
}

# client_rate NAME: prints "RATE CPU" as h2load_rate does, from okr_grpc_load (a new value
# every call); fails on any error.
client_rate() {
  local name=$1 line errors
  line=$(timeout $((${WARMUP%.*} + ${DURATION%.*} + 60)) "$LOAD" \
    --address="127.0.0.1:${GRPC_PORT[$name]}" --server-pid="${PID[$name]}" \
    --target=create_check_in --concurrency="$STREAMS" --channels="$CHANNELS" \
    --duration="$DURATION" --warmup="$WARMUP" 2>"$WORK/$name/load.log" | grep '^RESULT') ||
    { cat "$WORK/$name/load.log" >&2; die "okr_grpc_load failed against $name"; }
  errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
  [[ $errors == 0 ]] || die "okr_grpc_load saw $errors errors against $name"
  echo "$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")" \
    "$(sed -n 's/.* server_cpu_us=\([-0-9.]*\).*/\1/p' <<<"$line")"
}

SERVERS=(current)
start_server current "$OKR_SERVER"
if [[ -n ${BASE_SERVER:-} ]]; then
  SERVERS+=(base)
  start_server base "$BASE_SERVER"
fi

echo "durable writes: $(nproc) cores shared by load and servers; ${DURATION} s per measurement," \
  "$ROUNDS rounds; $STREAMS streams over $CHANNELS connections; disk: $WORK ($(stat -f -c %T "$WORK"))"
declare -A RATIOS
for ((r = 1; r <= ROUNDS; r++)); do
  rm -f "$WORK"/raw.db*
  raw=$("$RAW" --db="$WORK/raw.db" --seconds="$DURATION" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
  [[ -n $raw ]] || die "okr_sqlite_raw_writer printed no rate"
  printf 'round %d: raw durable SQLite transactions %8.0f/s\n' "$r" "$raw"
  for name in "${SERVERS[@]}"; do
    for gen in h2load okr_grpc_load; do
      if [[ $gen == h2load ]]; then out=$(h2load_rate "$name"); else out=$(client_rate "$name"); fi
      read -r rate cpu <<<"$out"
      [[ -n $rate ]] || die "$gen measured no rate against $name"
      r_=$(ratio "$rate" "$raw")
      RATIOS[$name/$gen]+="$r_ "
      printf '  %-8s %-14s CreateCheckIn %8.0f/s  server CPU %5.0f us/check-in  ratio %s\n' \
        "$name" "$gen" "$rate" "$cpu" "$r_"
    done
  done
done
echo
for name in "${SERVERS[@]}"; do
  for gen in h2load okr_grpc_load; do
    # shellcheck disable=SC2086
    echo "$name, $gen: durable CreateCheckIn / raw durable SQLite transactions =" \
      "$(median_range ${RATIOS[$name/$gen]}) (median of $ROUNDS rounds, range; target >= 1.0)"
  done
done
