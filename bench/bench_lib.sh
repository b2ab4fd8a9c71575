# Shell helpers the benchmark drivers share (bench/run_grpc_bench.sh,
# bench/run_durable_write_bench.sh, bench/run_postgres_bench.sh, bench/soak/run_soak.sh).
# Source it after defining die MESSAGE (print and exit non-zero).

# free_ports N: prints N distinct free loopback ports on one line.
free_ports() {
  /usr/bin/python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
' "$1"
}

# wait_until DEADLINE_S PID LOG CMD...: polls CMD every 50 ms until it succeeds; fails if
# PID exits or the deadline passes (showing the tail of LOG).
wait_until() {
  local deadline=$((SECONDS + $1)) pid=$2 log=$3
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2
      die "process $pid exited during startup (log above)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$log" >&2
      die "not ready after $1 s: $*"
    fi
    sleep 0.05
  done
}

# The headers h2load (or curl) needs to post a gRPC-framed body.
GRPC_HEADERS=(-H 'content-type: application/grpc' -H 'te: trailers')

# check_grpc_ok URL BODY: h2load only sees HTTP status 200 and a gRPC error travels in the
# grpc-status trailer, so send the body once with curl first and insist on grpc-status: 0.
check_grpc_ok() {
  local url=$1 body=$2
  curl -fsS --http2-prior-knowledge --max-time 5 -o /dev/null -D - --data-binary "@$body" \
    "${GRPC_HEADERS[@]}" "$url" | tr -d '\r' | grep -qx 'grpc-status: 0' ||
    die "$url does not answer grpc-status 0 to $body"
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks (/proc/PID/stat
# fields 14 and 15, counted after the parenthesised command name).
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# median_min_max V...: prints "MEDIAN MIN MAX" of the numbers V (the median of an even
# count is the mean of the middle two), unformatted, for the caller to print as it likes.
median_min_max() {
  printf '%s\n' "$@" | sort -g | awk 'BEGIN { OFMT = "%.10g" } { v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR] }'
}
