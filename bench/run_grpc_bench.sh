#!/usr/bin/env bash
# run_grpc_bench.sh: the gRPC load benchmark of okr-server against a bare callback-API echo
# server, in one run on loopback (bench/README.md). Builds nothing; give it the build dir:
#
#   cmake --build build --target okr_progress_bench okr_grpc_load okr_bench_echo_server \
#       okr-server && bench/run_grpc_bench.sh build
#
# For --sqlite-sync=full and =normal it starts okr-server on a fresh SQLite file, runs
# okr_grpc_load for echo, GetObjective and CreateCheckIn (interleaved) with the same client
# settings and prints calls/s, p50, p99, the CPU time per call of server and client, and the
# ratio to echo. Then it cross-checks GetObjective vs echo with h2load (nghttp2-client), an
# independent HTTP/2 load generator sending gRPC frames. Every process it starts is stopped
# on exit. About 100 s with the defaults.
#
# Issue #19's read row: CONCURRENCY=256 bench/run_grpc_bench.sh build (h2load, 256 streams).
# Environment: OKR_SERVER (another okr-server binary, e.g. a baseline build), CONCURRENCY
# (64 calls in flight), CHANNELS (4 connections), DURATION (10 s
# measured per call type), ROUNDS (4: the three call types alternate in slices of
# DURATION/ROUNDS, so that they see the same machine), WARMUP (2 s before a call type's first
# slice; 0.5 s before the others), H2LOAD_DURATION (5 s), BENCH_TMP (parent directory of
# the scratch database; default the build dir, so that fsync hits a real disk, not tmpfs).
# Note: gRPC servers bind with SO_REUSEPORT, so a stray server on the same port would
# silently take a share of the connections; the ports here come fresh from the kernel.
set -euo pipefail

BUILD_DIR=${1:-./build}
CONCURRENCY=${CONCURRENCY:-64}
CHANNELS=${CHANNELS:-4}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-4}
WARMUP=${WARMUP:-2}
H2LOAD_DURATION=${H2LOAD_DURATION:-5}

OKR_SERVER=${OKR_SERVER:-$BUILD_DIR/service/server/okr-server}
ECHO_SERVER=$BUILD_DIR/bench/okr_bench_echo_server
LOAD=$BUILD_DIR/bench/okr_grpc_load

die() {
  echo "run_grpc_bench: $*" >&2
  exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

for bin in "$OKR_SERVER" "$ECHO_SERVER" "$LOAD"; do
  [[ -x $bin ]] || die "missing $bin; build it first: cmake --build $BUILD_DIR --target" \
    "okr_grpc_load okr_bench_echo_server okr-server"
done
command -v python3 >/dev/null || die "python3 is needed to pick free ports"
command -v curl >/dev/null || die "curl is needed to poll /healthz"

WORK=$(mktemp -d "${BENCH_TMP:-$BUILD_DIR}/grpc-bench.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three distinct free loopback ports: echo, okr-server gRPC, okr-server HTTP.
read -r ECHO_PORT GRPC_PORT HTTP_PORT < <(free_ports 3)

start_echo() {
  "$ECHO_SERVER" --port="$ECHO_PORT" >"$WORK/echo.log" 2>&1 &
  ECHO_PID=$!
  PIDS+=("$ECHO_PID")
  wait_until 15 "$ECHO_PID" "$WORK/echo.log" grep -q "listening on" "$WORK/echo.log"
}

# start_okr SYNC: okr-server on a fresh database with --sqlite-sync=SYNC (and --auth=none:
# the benchmark measures the API, not token checks; okr_grpc_load sends no token).
start_okr() {
  local sync=$1
  rm -f "$WORK"/okr-"$sync".db*
  "$OKR_SERVER" --grpc-address="127.0.0.1:$GRPC_PORT" --http-address="127.0.0.1:$HTTP_PORT" \
    --database="sqlite:$WORK/okr-$sync.db" --sqlite-sync="$sync" --auth=none \
    >"$WORK/okr-$sync.log" 2>&1 &
  OKR_PID=$!
  PIDS+=("$OKR_PID")
  wait_until 30 "$OKR_PID" "$WORK/okr-$sync.log" \
    curl -fsS --max-time 1 "http://127.0.0.1:$HTTP_PORT/healthz"
}

stop_okr() {
  kill -TERM "$OKR_PID"
  wait "$OKR_PID" || true
}

declare -A RATE P50 P99 ERRORS CLIENT_CPU SERVER_CPU ROUND_RATIOS
declare -A CALL_OF=([echo]=echo [get_objective]=GetObjective [create_check_in]=CreateCheckIn)

# run_block SYNC: one okr_grpc_load run over echo, GetObjective and CreateCheckIn,
# interleaved in ROUNDS rounds; stores the figures under SYNC/CALL.
run_block() {
  local sync=$1 out=$WORK/load-$1.txt line target key
  timeout $((3 * (${WARMUP%.*} + ${DURATION%.*} + ROUNDS) + 90)) "$LOAD" \
    --echo-address="127.0.0.1:$ECHO_PORT" --echo-pid="$ECHO_PID" \
    --address="127.0.0.1:$GRPC_PORT" --server-pid="$OKR_PID" \
    --target=echo,get_objective,create_check_in --concurrency="$CONCURRENCY" \
    --channels="$CHANNELS" --duration="$DURATION" --rounds="$ROUNDS" --warmup="$WARMUP" \
    >"$out" 2>"$WORK/load-$sync.log" || {
    cat "$out" "$WORK/load-$sync.log" >&2
    die "okr_grpc_load failed (--sqlite-sync=$sync)"
  }
  while read -r line; do
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    target=$(field target)
    key=$sync/${CALL_OF[$target]}
    case $line in
      RESULT*)
        RATE[$key]=$(field rate)
        P50[$key]=$(field p50_us)
        P99[$key]=$(field p99_us)
        ERRORS[$key]=$(field errors)
        CLIENT_CPU[$key]=$(field client_cpu_us)
        SERVER_CPU[$key]=$(field server_cpu_us)
        printf '  %-22s %8.0f calls/s  p50 %7.2f ms  p99 %7.2f ms  errors %s' "$key" \
          "${RATE[$key]}" "$(ratio "${P50[$key]}" 1000)" "$(ratio "${P99[$key]}" 1000)" \
          "${ERRORS[$key]}"
        printf '  CPU/call: server %.0f us, client %.0f us\n' "${SERVER_CPU[$key]}" \
          "${CLIENT_CPU[$key]}"
        ;;
      RATIO*) ROUND_RATIOS[$key]=$(field rounds) ;;
    esac
  done <"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "meets" : "BELOW") }'; }

echo "okr gRPC benchmark: $(nproc) cores shared by client and servers, $CONCURRENCY calls in" \
  "flight over $CHANNELS connections; per call type ${DURATION} s measured, interleaved in" \
  "$ROUNDS rounds (warm-up ${WARMUP} s first, then 0.5 s per slice)"
echo "database dir: $WORK ($(stat -f -c %T "$WORK"))"
start_echo

SYNCS=(full normal)
for sync in "${SYNCS[@]}"; do
  echo "--sqlite-sync=$sync"
  start_okr "$sync"
  run_block "$sync"
  # The last server stays up for the h2load cross-check.
  [[ $sync == "${SYNCS[-1]}" ]] || stop_okr
done

echo
echo "Results (ratio = rate / echo rate, interleaved in the same block; targets 0.7 and 0.3;"
echo "srv_cpu/cli_cpu = CPU microseconds per call of the server / of the load client)"
printf '%-7s %-14s %9s %8s %8s %7s %8s %8s %7s\n' sync call calls/s p50_ms p99_ms errors \
  srv_cpu cli_cpu ratio
for sync in "${SYNCS[@]}"; do
  for call in echo GetObjective CreateCheckIn; do
    key=$sync/$call
    printf '%-7s %-14s %9.0f %8.2f %8.2f %7s %8.0f %8.0f %7s\n' "$sync" "$call" \
      "${RATE[$key]}" "$(ratio "${P50[$key]}" 1000)" "$(ratio "${P99[$key]}" 1000)" \
      "${ERRORS[$key]}" "${SERVER_CPU[$key]}" "${CLIENT_CPU[$key]}" \
      "$(ratio "${RATE[$key]}" "${RATE[$sync/echo]}")"
  done
done
echo
for sync in "${SYNCS[@]}"; do
  get=$(ratio "${RATE[$sync/GetObjective]}" "${RATE[$sync/echo]}")
  put=$(ratio "${RATE[$sync/CreateCheckIn]}" "${RATE[$sync/echo]}")
  echo "sqlite-sync=$sync: GetObjective/echo = $get ($(verdict "$get" 0.7) 0.7; rounds" \
    "${ROUND_RATIOS[$sync/GetObjective]}), CreateCheckIn/echo = $put ($(verdict "$put" 0.3)" \
    "0.3; rounds ${ROUND_RATIOS[$sync/CreateCheckIn]})"
done

# Cross-check with h2load: the same 64 streams (CHANNELS connections x streams each).
echo
if ! command -v h2load >/dev/null; then
  echo "h2load cross-check skipped: h2load not found (apt-get install -y nghttp2-client)"
  exit 0
fi
"$LOAD" --write-request=echo --out="$WORK/ping.bin"
"$LOAD" --write-request=get_objective --address="127.0.0.1:$GRPC_PORT" \
  --out="$WORK/get.bin" 2>"$WORK/write-get.log" ||
  {
    cat "$WORK/write-get.log" >&2
    die "cannot create the GetObjective request"
  }


# run_h2load NAME URL BODY SERVER_PID: prints and stores the req/s h2load measured and the
# server's CPU time per request. No h2load warm-up, so that the CPU time and the request
# count cover the same interval.
declare -A H2_RATE H2_CPU
run_h2load() {
  local name=$1 url=$2 body=$3 pid=$4 out before after done_count
  check_grpc_ok "$url" "$body"
  before=$(cpu_ticks "$pid")
  out=$(timeout $((${H2LOAD_DURATION%.*} + 30)) h2load -D "$H2LOAD_DURATION" \
    -c "$CHANNELS" -m $((CONCURRENCY / CHANNELS)) -d "$body" "${GRPC_HEADERS[@]}" "$url")
  after=$(cpu_ticks "$pid")
  H2_RATE[$name]=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  done_count=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
  H2_CPU[$name]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$done_count" \
    'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : -1) }')
  printf '  %-14s %8.0f req/s  server CPU/call %s us  (%s)\n' "$name" "${H2_RATE[$name]}" \
    "${H2_CPU[$name]}" "$(grep '^requests:' <<<"$out")"
}

echo "h2load cross-check (-c $CHANNELS -m $((CONCURRENCY / CHANNELS)), ${H2LOAD_DURATION} s," \
  "okr-server --sqlite-sync=${SYNCS[-1]})"
run_h2load echo "http://127.0.0.1:$ECHO_PORT/okr.bench.Echo/Ping" "$WORK/ping.bin" "$ECHO_PID"
run_h2load GetObjective "http://127.0.0.1:$GRPC_PORT/okr.v1.OkrService/GetObjective" \
  "$WORK/get.bin" "$OKR_PID"
h2get=$(ratio "${H2_RATE[GetObjective]}" "${H2_RATE[echo]}")
echo "h2load: GetObjective/echo = $h2get ($(verdict "$h2get" 0.9) 0.9, issue #19 with" \
  "CONCURRENCY=256), server CPU per call GetObjective/echo =" \
  "$(ratio "${H2_CPU[GetObjective]}" "${H2_CPU[echo]}")"
