#!/bin/bash
# Runs every candidate HTTP edge server through the same abuse scenarios and a wrk
# throughput run, and prints one row per candidate (median and spread over RUNS runs).
#
# Usage: bench/http_edge/compare.sh BIN_DIR [RUNS] [SECONDS]
#   BIN_DIR  where build_candidates.sh put the servers
#   RUNS     repetitions (default 2); SECONDS per abuse scenario (default 20)
# Env: CANDIDATES="httplib_server beast_server ..." to choose; RESULTS_DIR for raw JSON;
#      OKR_BUILD_LOCK (default /tmp/okr-build.lock) is held during each run so
#      that builds through the lock do not share the cores with a measurement.
set -euo pipefail
bin=$(cd "${1:?usage: compare.sh BIN_DIR [RUNS] [SECONDS]}" && pwd)
runs=${2:-2}
secs=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
candidates=${CANDIDATES:-"httplib_server mhd_server beast_server evhttp_server"}
lock=${OKR_BUILD_LOCK:-/tmp/okr-build.lock}
results=${RESULTS_DIR:-$(mktemp -d /tmp/http_edge.XXXXXX)}
mkdir -p "$results"
echo "raw results in $results" >&2

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# utime + stime of a process, in clock ticks.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_candidate() {
  local cand=$1 run=$2 port pid out
  out="$results/$cand.$run"
  port=$(free_port)
  nice -n 19 "$bin/$cand" "$port" >"$out.server.log" 2>&1 9>&- &
  pid=$!
  for _ in $(seq 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.1
  done
  echo "== run $run $cand (pid $pid, port $port): 250 trickle + 250 idle" >&2
  nice -n 19 python3 "$here/http_abuse.py" --port "$port" --pid "$pid" \
    --trickle 250 --idle 250 --warmup 3 --duration "$secs" >"$out.conns.json" || true
  sleep 2
  echo "== run $run $cand: 64 posters x 1 MiB" >&2
  nice -n 19 python3 "$here/http_abuse.py" --port "$port" --pid "$pid" \
    --posters 64 --warmup 3 --duration "$secs" >"$out.posters.json" || true
  sleep 2
  echo "== run $run $cand: wrk 1 KiB POSTs" >&2
  cpu_ticks "$pid" >"$out.cpu0"
  nice -n 19 wrk -t2 -c16 -d10s -s "$here/post.lua" "http://127.0.0.1:$port/webhooks/x" \
    >"$out.wrk.txt" 2>&1 || true
  cpu_ticks "$pid" >"$out.cpu1"
  grep -E 'Requests/sec|Non-2xx|Socket errors' "$out.wrk.txt" >&2 || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

exec 9>"$lock"
for run in $(seq "$runs"); do
  flock 9
  for cand in $candidates; do
    run_candidate "$cand" "$run"
  done
  flock -u 9
done

python3 - "$results" "$runs" "$secs" $candidates <<'PY'
import json, os, re, statistics, sys
results, runs, secs, cands = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]

def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, IndexError, ValueError):
        return None

def wrk_requests(path):
    try:
        m = re.search(r"([0-9]+) requests in", open(path).read())
        return int(m.group(1)) if m else None
    except OSError:
        return None

def server_cpu_us_per_req(prefix):
    try:
        t0 = int(open(prefix + ".cpu0").read().split()[0])
        t1 = int(open(prefix + ".cpu1").read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    n = wrk_requests(prefix + ".wrk.txt")
    tick = os.sysconf("SC_CLK_TCK")
    return (t1 - t0) * 1e6 / tick / n if n else None

def wrk_rps(path):
    try:
        m = re.search(r"Requests/sec:\s*([0-9.]+)", open(path).read())
        return float(m.group(1)) if m else None
    except OSError:
        return None

rows = {c: [] for c in cands}
for r in range(1, runs + 1):
    base = wrk_rps(f"{results}/{cands[0]}.{r}.wrk.txt")
    for c in cands:
        a = load(f"{results}/{c}.{r}.conns.json") or {}
        b = load(f"{results}/{c}.{r}.posters.json") or {}
        rps = wrk_rps(f"{results}/{c}.{r}.wrk.txt")
        ok = (b.get("post_status_counts") or {}).get("200", 0)
        rows[c].append({
            "conn_p50": a.get("probe_p50_ms"), "conn_p99": a.get("probe_p99_ms"),
            "conn_max": a.get("probe_max_ms"), "conn_err": a.get("probe_errors"),
            "trickle_closes_s": a.get("trickle_closes_per_s"),
            "conn_rss_mib": (a.get("rss_max_kib") or 0) / 1024,
            "post_p50": b.get("probe_p50_ms"), "post_p99": b.get("probe_p99_ms"),
            "post_max": b.get("probe_max_ms"), "post_err": b.get("probe_errors"),
            "posts_ok_s": ok / (secs + 3), "post_rss_mib": (b.get("rss_max_kib") or 0) / 1024,
            "wrk_rps": rps, "wrk_ratio": (rps / base) if rps and base else None,
            "wrk_srv_cpu_us": server_cpu_us_per_req(f"{results}/{c}.{r}"),
        })

cols = list(rows[cands[0]][0].keys()) if rows[cands[0]] else []
def cell(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    med = statistics.median(vals)
    fmt = (lambda v: f"{v:.2f}") if abs(med) < 10 else (lambda v: f"{v:.0f}")
    if len(vals) == 1 or min(vals) == max(vals):
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(vals))}-{fmt(max(vals))})"

print("| candidate | " + " | ".join(cols) + " |")
print("|---" * (len(cols) + 1) + "|")
for c in cands:
    print(f"| {c} | " + " | ".join(cell([r[k] for r in rows[c]]) for k in cols) + " |")
PY
