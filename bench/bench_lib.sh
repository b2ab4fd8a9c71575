# Shell helpers the benchmark drivers share (bench/run_grpc_bench.sh, bench/soak/run_soak.sh).
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
