#!/usr/bin/python3
"""/metrics scraped by a real Prometheus server (Debian's `prometheus`), issue #18.

Starts okr-server on a temporary SQLite database (--auth=none, ports picked by the
kernel), makes a few RPCs with python3-grpcio (unary ones, a NOT_FOUND, a WatchEvents
stream that the client cancels), then starts Prometheus with a temporary configuration
that scrapes 127.0.0.1:<http_port>/metrics every second and loads the chart's alert rules,
waits for a scrape, and asks Prometheus' HTTP API for:
  - a grpc_server_handling_seconds bucket by its `le` value as written in the code
    (le="0.00025"; the old renderer printed le="0.00025000000000000001"),
  - grpc_server_handled_total with grpc_code="OK", and the NOT_FOUND,
  - okr_build_info, the database pool gauges, the loaded alerting rules.
Streams must stay out of the latency histogram. Prometheus and okr-server are killed
however the test ends.

Usage: prometheus_scrape_test.py OKR_SERVER_BINARY PROTO_ROOT ALERT_RULES_FILE
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import okr_e2e  # noqa: E402

DEADLINE_S = 40  # for each wait below; the whole test takes a few seconds


def wait_for(what, fn, log_path=None):
    deadline = time.time() + DEADLINE_S
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.2)
    detail = open(log_path).read()[-4000:] if log_path else ""
    raise RuntimeError(f"timed out waiting for {what} (last: {last!r})\n{detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def main():
    binary, proto_root, rules_file = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("FAIL prometheus is not installed (apt-get install prometheus)")
        return 1
    r = okr_e2e.Checks()
    check = r.check
    with okr_e2e.temp_dir("okr-prom-") as tmp:
        procs = []

        def stop_all(*_):
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        # ctest's timeout sends SIGTERM: still kill both children.
        signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(1)))
        try:
            scenario(check, binary, proto_root, rules_file, prometheus, tmp, procs)
        except Exception as e:  # report, then clean up
            check("test ran to the end", False, e)
        finally:
            stop_all()
    r.finish()


def scenario(check, binary, proto_root, rules_file, prometheus, tmp, procs):
    pb = okr_e2e.build_messages(proto_root, tmp)
    server = okr_e2e.start_server(binary, tmp, ["--auth=none"], timeout=DEADLINE_S)
    procs.append(server.proc)
    grpc_port, http_port = server.grpc_port, server.http_port

    # --- RPCs: unary OK, a NOT_FOUND, a server stream -------------------------------------
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as ch:
        c = okr_e2e.Client(ch, pb)
        c.CreateTeam(pb.CreateTeamRequest(team_id="payments",
                                          team=pb.Team(display_name="Payments")))
        for _ in range(3):
            c.GetTeam(pb.GetTeamRequest(name="teams/payments"))
        try:
            c.GetTeam(pb.GetTeamRequest(name="teams/nope"))
            check("GetTeam of a missing team fails", False)
        except grpc.RpcError as e:
            check("GetTeam of a missing team is NOT_FOUND",
                  e.code() == grpc.StatusCode.NOT_FOUND, e.code())
        stream = c.WatchEvents(pb.WatchEventsRequest(), timeout=30)
        threading.Timer(0.5, stream.cancel).start()
        try:
            for _ in stream:
                pass
        except grpc.RpcError as e:
            check("the client cancelled WatchEvents", e.code() == grpc.StatusCode.CANCELLED,
                  e.code())

    metrics_url = f"http://127.0.0.1:{http_port}/metrics"
    text = wait_for("the stream to be reported handled", lambda: (lambda t: t if
                    'grpc_method="WatchEvents"' in t and "grpc_server_handled_total{grpc_code="
                    '"CANCELLED",grpc_method="WatchEvents"' in t else None)(
                        http_get(metrics_url)))
    svc = 'grpc_service="okr.v1.OkrService"'
    check("/metrics: bucket bounds in shortest form",
          'le="0.00025"' in text and
          not any("00000000" in le for le in re.findall(r'le="([^"]*)"', text)),
          [line for line in text.splitlines() if "le=" in line][:5])
    check("/metrics: grpc_server_started_total for the stream",
          f'grpc_server_started_total{{grpc_method="WatchEvents",{svc},'
          'grpc_type="server_stream"} 1' in text, text)
    check("/metrics: grpc_server_handled_total for GetTeam OK",
          f'grpc_server_handled_total{{grpc_code="OK",grpc_method="GetTeam",{svc},'
          'grpc_type="unary"} 3' in text, text)
    check("/metrics: no latency histogram for streams",
          not re.search(r'grpc_server_handling_seconds\w*\{[^}]*server_stream', text))

    # --- A real Prometheus scrapes it ------------------------------------------------
    prom_port = free_port()
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {json.dumps(rules_file)}
scrape_configs:
  - job_name: okr
    scrape_interval: 1s
    static_configs:
      - targets: ["127.0.0.1:{http_port}"]
""")
    prom_log = os.path.join(tmp, "prometheus.log")
    with open(prom_log, "w") as log:
        procs.append(subprocess.Popen(
            [prometheus, f"--config.file={config}",
             f"--storage.tsdb.path={tmp}/tsdb", f"--web.listen-address=127.0.0.1:{prom_port}",
             "--web.console.templates=/dev/null", "--web.console.libraries=/dev/null"],
            stdout=log, stderr=log, cwd=tmp))
    api = f"http://127.0.0.1:{prom_port}/api/v1"

    def query(q):
        body = json.loads(http_get(f"{api}/query?" + urllib.parse.urlencode({"query": q})))
        if body.get("status") != "success":
            raise RuntimeError(body)
        return body["data"]["result"]

    up = wait_for("Prometheus to scrape okr-server",
                  lambda: [r for r in query('up{job="okr"}') if r["value"][1] == "1"],
                  prom_log)
    check("Prometheus scraped /metrics (up == 1)", up, up)

    bucket = query('grpc_server_handling_seconds_bucket{le="0.00025",grpc_method="GetTeam"}')
    check('query by le="0.00025" finds the GetTeam bucket', len(bucket) == 1, bucket)
    inf = query('grpc_server_handling_seconds_bucket{le="+Inf",grpc_method="GetTeam"}')
    check("the +Inf bucket counts the 4 GetTeam calls",
          [r["value"][1] for r in inf] == ["4"], inf)
    long_le = query('grpc_server_handling_seconds_bucket{le="0.00025000000000000001"}')
    check("no bucket under the long float form", long_le == [], long_le)
    ok = query('grpc_server_handled_total{grpc_code="OK",grpc_service="okr.v1.OkrService"}')
    check('grpc_server_handled_total{grpc_code="OK"} is not empty', ok, ok)
    ok_team = {r["metric"]["grpc_method"]: r["value"][1] for r in ok}
    check("handled OK: CreateTeam 1, GetTeam 3",
          ok_team.get("CreateTeam") == "1" and ok_team.get("GetTeam") == "3", ok_team)
    nf = query('grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="GetTeam"}')
    check("handled NOT_FOUND: GetTeam 1", [r["value"][1] for r in nf] == ["1"], nf)
    streams = query('grpc_server_handling_seconds_count{grpc_type="server_stream"}')
    check("no server_stream series in the latency histogram", streams == [], streams)
    info = query("okr_build_info")
    check("okr_build_info has version and revision",
          len(info) == 1 and info[0]["metric"].get("version") and
          info[0]["metric"].get("revision"), info)
    pool = query("okr_database_pool_connections")
    check("pool gauges by state",
          sorted(r["metric"]["state"] for r in pool) == ["idle", "in_use"], pool)

    rules = json.loads(http_get(f"{api}/rules"))["data"]["groups"]
    names = sorted(r["name"] for g in rules for r in g["rules"])
    check("Prometheus loaded the chart's alerting rules",
          {"OkrWebhooksRejected", "OkrReconciliationFailing", "OkrTrackerStale",
           "OkrSubscriptionsFailing", "OkrOutboxLag"} <= set(names), names)
    evaluated = wait_for("every rule to be evaluated", lambda: all(
        r.get("health") == "ok" for g in json.loads(http_get(f"{api}/rules"))["data"]
        ["groups"] for r in g["rules"]), prom_log)
    check("every rule evaluates without error", evaluated)


if __name__ == "__main__":
    sys.exit(main())
