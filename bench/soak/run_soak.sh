#!/usr/bin/env bash
# run_soak.sh: the soak benchmark of okr-server (bench/README.md, "Soak"): DURATION seconds
# of mixed load -- RPCs, signed Jira webhooks, 50 WatchEvents streams, 5 subscriptions --
# with the server's resident memory, open descriptors and threads sampled every second.
# Builds nothing; give it the build dir:
#
#   cmake --build build --target okr-server fake_jira_main && bench/soak/run_soak.sh build
#
# It copies BUILD_DIR/service/server/okr-server and the fake Jira
# (BUILD_DIR/tests/testing/fake_jira/fake_jira_main; needs -DOKR_BUILD_TESTS=ON) into a
# scratch directory and runs the copies, so a rebuild during the run does not disturb it;
# starts the fake Jira (the server's Jira site: write-backs and reconciliation hit it) and
# okr-server on a fresh SQLite file (--auth=none, subscriptions allowed to loopback), then
# bench/soak/soak.py for the load, the sampling and the summary. Every process it starts
# is stopped on exit. Exits non-zero if the driver found an error or a broken stream.
#
# Environment: DURATION (600 s of load), BENCH_OUT (the CSV of samples t,rss_kib,fds,threads;
# default a new file under /tmp, its path printed; the server log is kept beside it as
# BENCH_OUT.server.log), RPC_RATE (200 calls/s), WEBHOOK_RATE (100 deliveries/s),
# SQLITE_SYNC (full, the server's default), BENCH_TMP (parent directory of the scratch
# database; default the build dir, so that fsync hits a real disk, not tmpfs).
set -euo pipefail

BUILD_DIR=${1:-./build}
DURATION=${DURATION:-600}
RPC_RATE=${RPC_RATE:-200}
WEBHOOK_RATE=${WEBHOOK_RATE:-100}
SQLITE_SYNC=${SQLITE_SYNC:-full}
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=/usr/bin/python3 # Debian's, with python3-grpcio and python3-protobuf

die() {
  echo "run_soak: $*" >&2
  exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/../bench_lib.sh"

OKR_SERVER=$BUILD_DIR/service/server/okr-server
FAKE_JIRA=$BUILD_DIR/tests/testing/fake_jira/fake_jira_main
for bin in "$OKR_SERVER" "$FAKE_JIRA"; do
  [[ -x $bin ]] || die "missing $bin; build it first: cmake --build $BUILD_DIR --target" \
    "okr-server fake_jira_main (the fake Jira needs -DOKR_BUILD_TESTS=ON)"
done
"$PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null ||
  die "$PYTHON lacks grpc/protobuf: apt-get install -y python3-grpcio python3-protobuf"
command -v protoc >/dev/null || die "protoc is needed (apt-get install -y protobuf-compiler)"
command -v curl >/dev/null || die "curl is needed to poll /healthz"

WORK=$(mktemp -d "${BENCH_TMP:-$BUILD_DIR}/soak.XXXXXX")
if [[ -z ${BENCH_OUT:-} ]]; then
  BENCH_OUT=$(mktemp /tmp/okr-soak.XXXXXX.csv)
fi
PIDS=()

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  [[ -f $WORK/okr.log ]] && cp "$WORK/okr.log" "$BENCH_OUT.server.log"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The copies that run: a rebuild of BUILD_DIR during the run does not touch them.
cp "$OKR_SERVER" "$WORK/okr-server"
cp "$FAKE_JIRA" "$WORK/fake_jira_main"

# Two free loopback ports for okr-server: gRPC, HTTP (webhooks, /healthz).
read -r GRPC_PORT HTTP_PORT < <(free_ports 2)

# The fake Jira: OKRX-1..40 (the issues the driver links), on a port of its choosing.
"$WORK/fake_jira_main" --port=0 --port_file="$WORK/jira.port" --seed=40 \
  --email=okr-soak@example.com --api_token=soak-api-token >"$WORK/jira.log" 2>&1 &
JIRA_PID=$!
PIDS+=("$JIRA_PID")
wait_until 15 "$JIRA_PID" "$WORK/jira.log" test -s "$WORK/jira.port"
JIRA_URL="http://127.0.0.1:$(cat "$WORK/jira.port")"

export OKR_JIRA_WEBHOOK_SECRET=soak-jira-webhook-secret
OKR_JIRA_URL=$JIRA_URL OKR_JIRA_EMAIL=okr-soak@example.com OKR_JIRA_API_TOKEN=soak-api-token \
  OKR_PUBLIC_URL=https://okr.example.test "$WORK/okr-server" \
  --grpc-address="127.0.0.1:$GRPC_PORT" --http-address="127.0.0.1:$HTTP_PORT" \
  --database="sqlite:$WORK/okr.db" --sqlite-sync="$SQLITE_SYNC" --auth=none \
  --outbound-allow-cidrs=127.0.0.0/8 >"$WORK/okr.log" 2>&1 &
OKR_PID=$!
PIDS+=("$OKR_PID")
wait_until 30 "$OKR_PID" "$WORK/okr.log" \
  curl -fsS --max-time 1 "http://127.0.0.1:$HTTP_PORT/healthz"

echo "okr soak: ${DURATION} s, ${RPC_RATE} RPCs/s, ${WEBHOOK_RATE} webhooks/s, 50 watchers," \
  "5 subscriptions; $(nproc) cores shared by the server, the driver and whatever else runs"
echo "server: $OKR_SERVER (copy; $(stat -c %y "$OKR_SERVER" | cut -d. -f1)), pid $OKR_PID," \
  "database $WORK/okr.db ($(stat -f -c %T "$WORK"), --sqlite-sync=$SQLITE_SYNC)"
echo "samples: $BENCH_OUT; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
"$PYTHON" "$SOURCE_DIR/bench/soak/soak.py" --server-pid="$OKR_PID" --grpc-port="$GRPC_PORT" \
  --http-port="$HTTP_PORT" --proto-root="$SOURCE_DIR/proto" --work-dir="$WORK" \
  --jira-url="$JIRA_URL" --database-file="$WORK/okr.db" --duration="$DURATION" \
  --out="$BENCH_OUT" --rpc-rate="$RPC_RATE" --webhook-rate="$WEBHOOK_RATE" || status=$?

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
kill -0 "$OKR_PID" 2>/dev/null || die "okr-server exited during the run: see $BENCH_OUT.server.log"
echo "server log: $BENCH_OUT.server.log ($(grep -c ' WARN ' "$WORK/okr.log" || true) WARN," \
  "$(grep -c ' ERROR ' "$WORK/okr.log" || true) ERROR lines)"
exit "$status"
