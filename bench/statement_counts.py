#!/usr/bin/python3
"""statement_counts.py: how many SQL statements one use case costs, counted inside the real
okr-server binary (SQLite store) by the LD_PRELOAD shim bench/stmt_count/stmt_count_preload.c.

    bench/statement_counts.py --server build/service/server/okr-server \\
        --preload build/bench/libokr_bench_stmt_count.so \\
        [--fake-jira build/tests/testing/fake_jira/fake_jira_main] [--n=200] [--items=64] \\
        [--sqlite-sync=full] [--detail] [--out=FILE]

What it does: starts the given okr-server (`--auth=none`, a fresh SQLite file in a temp
directory, the Jira connector pointed at a fake Jira so that POST /webhooks/jira exists,
reconcile / write-back / rule intervals of 1h so that nothing periodic of the connectors or
rules runs unasked) with the shim preloaded; creates a team, a cycle around today, an
objective with a metric key result and a work-items key result with --items linked Jira
issues (OKRX-1..); warms up; then measures, sequentially on one client:
  CreateCheckIn    --n check-ins on the metric key result (a new value each);
  Jira webhook     --n signed `jira:issue_updated` deliveries, each a real new state of one of
                   the linked issues (done / not done in turn, growing `updated`, a new
                   delivery id), answered 200 {"status":"accepted"};
  GetObjective     --n reads of the objective.
For each it signals the server (SIGUSR2) before and after and divides the difference by n.

Which statements count for a use case: the shim counts per thread. Threads that run SQL
while the server is idle (a 2.5 s window before measuring: the event hub's 20 ms poll, the
subscription deliverer's poll, the health ping) are "pollers". Of the other threads, those
serving the call are the "request path" (for gRPC methods: the threads gRPC named,
GRPC_THREAD_NAMES; for webhooks: the HTTP server's threads, i.e. threads that ran no SQL
during the gRPC phases); the rest ran "async" work the calls
triggered (the rule engine's round after new events), which batches with timing. Columns,
per call: request path | async | pollers (during the phase and SETTLE_S after it) | all
(every statement of the process in that time). The request-path figures are deterministic
for a given binary; async, pollers and all move with timing. --detail adds the request
path's statement texts per call.

Caveat for a changed binary: the split relies on the request running its SQL on the thread
that serves it. If a version hands its writes to a dedicated (unnamed) thread, they show up
as "async"; compare the request path + async sum, and the per-thread list printed below
the table, before reading a drop in the request path as fewer statements.

Exit status: 0 on success; 1 if any request fails or the shim does not report; 2 on usage.
"""
import argparse
import collections
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import grpc  # noqa: E402
import okr_e2e  # noqa: E402

KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "other")
SECRET = "bench-webhook-secret"
STORY_POINTS_FIELD = "customfield_10016"
JIRA_EMAIL = "okr-bot@example.com"
JIRA_TOKEN = "bench-api-token"
SITE_API = "https://acme.atlassian.net/rest/api/2"
# Names gRPC (Debian's 1.51) gives the threads it runs callback-API handlers on; the
# service's own threads (std::thread, cpp-httplib's pool) keep the process name.
GRPC_THREAD_NAMES = re.compile(r"^(nexting_thread|grpc|default-exec|global-exec|event_engine)")
IDLE_WINDOW_S = 2.5
SETTLE_S = 0.3


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------
# The shim's output

class Snapshot:
    """One SIGUSR2 dump: totals[kind], threads[tid] = (name, counts[kind]), sql[(tid, text)]."""

    def __init__(self, seq, totals, threads, sql):
        self.seq, self.totals, self.threads, self.sql = seq, totals, threads, sql


def parse_counts(fields):
    return {k: int(fields[k]) for k in KINDS}


def parse_line(line):
    parts = line.strip().split(" | ")
    head = dict(kv.split("=", 1) for kv in parts[0].split()[1:])
    threads = {}
    for part in parts[1:]:
        f = dict(kv.split("=", 1) for kv in part.split())
        threads[int(f["tid"])] = (f["name"], parse_counts(f))
    return int(head["seq"]), parse_counts(head), threads


class Counter:
    """Signals the server and reads what the shim appended."""

    def __init__(self, pid, count_file, sql_file):
        self.pid, self.count_file, self.sql_file = pid, count_file, sql_file
        self.seq = 0

    def _lines(self):
        if not os.path.exists(self.count_file):
            return []
        with open(self.count_file) as f:
            return [l for l in f.read().split("\n") if l.startswith("stmt_count ")]

    def snapshot(self, timeout=5.0):
        # The shim numbers dumps itself; find the first one after the last we read.
        before = len(self._lines())
        os.kill(self.pid, signal.SIGUSR2)
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines = self._lines()
            if len(lines) > before:
                seq, totals, threads = parse_line(lines[before])
                return Snapshot(seq, totals, threads, self._sql(seq))
            time.sleep(0.01)  # polling the file the handler appends to, bounded
        raise BenchError(f"no statement counts in {self.count_file} {timeout} s after SIGUSR2: "
                         "is the preload active (LD_PRELOAD, libsqlite3 shared)?")

    def _sql(self, seq):
        out = collections.Counter()
        if self.sql_file is None or not os.path.exists(self.sql_file):
            return out
        tag = f"sql seq={seq} "
        with open(self.sql_file) as f:
            for line in f:
                if not line.startswith(tag):
                    continue
                m = re.match(r"sql seq=\d+ tid=(\d+) n=(\d+) (.*)$", line.rstrip("\n"))
                if m:
                    out[(int(m.group(1)), m.group(3))] += int(m.group(2))
        return out


def diff_counts(a, b):
    return {k: b[k] - a[k] for k in KINDS}


def thread_delta(before, after, tid):
    old = before.threads.get(tid, (None, {k: 0 for k in KINDS}))[1]
    return diff_counts(old, after.threads[tid][1])


def active_threads(before, after):
    return {tid for tid in after.threads if sum(thread_delta(before, after, tid).values()) > 0}


def add(a, b):
    return {k: a[k] + b[k] for k in KINDS}


ZERO = {k: 0 for k in KINDS}


# ---------------------------------------------------------------------------------------
# Jira deliveries (shaped like bench/jira_ingest_bench.cc's, Jira Cloud's v2 representation)

def jira_time(ms):
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{ms % 1000:03d}+0000"


def issue_id(n):
    return str(10000 + n)  # fake_jira_main seeds OKRX-1.. with ids 10001..


def issue_key(n):
    return f"OKRX-{n}"


def story_points(n):
    return 1 + n % 5


def updated_event(n, done, updated_ms):
    if done:
        status = {"self": f"{SITE_API}/status/10002", "description": "", "name": "Done",
                  "id": "10002", "iconUrl": f"{SITE_API}/images/icons/statuses/generic.png",
                  "statusCategory": {"self": f"{SITE_API}/statuscategory/3", "id": 3,
                                     "key": "done", "colorName": "green", "name": "Done"}}
        resolution = {"self": f"{SITE_API}/resolution/10000", "id": "10000",
                      "description": "Work has been done.", "name": "Done"}
    else:
        status = {"self": f"{SITE_API}/status/3", "description": "", "name": "In Progress",
                  "id": "3", "iconUrl": f"{SITE_API}/images/icons/statuses/generic.png",
                  "statusCategory": {"self": f"{SITE_API}/statuscategory/4", "id": 4,
                                     "key": "indeterminate", "colorName": "yellow",
                                     "name": "In Progress"}}
        resolution = None
    body = {
        "timestamp": updated_ms + 120,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"self": f"{SITE_API}/user?accountId=557058:f58131cb",
                 "accountId": "557058:f58131cb", "displayName": "Ada Lovelace",
                 "active": True, "timeZone": "Europe/Berlin", "accountType": "atlassian"},
        "issue": {
            "id": issue_id(n), "self": f"{SITE_API}/{issue_id(n)}", "key": issue_key(n),
            "fields": {
                "summary": f"Checkout epic {n}", "status": status,
                "created": jira_time(1748772000000), "updated": jira_time(updated_ms),
                "statuscategorychangedate": jira_time(updated_ms),
                "project": {"self": f"{SITE_API}/project/OKRX", "id": "10000", "key": "OKRX",
                            "name": "OKRX project", "projectTypeKey": "software"},
                "issuetype": {"self": f"{SITE_API}/issuetype/10001", "id": "10001",
                              "name": "Story", "subtask": False, "hierarchyLevel": 0},
                "labels": ["checkout"], "resolution": resolution, "resolutiondate": None,
                "assignee": None, "customfield_10020": None,
                STORY_POINTS_FIELD: story_points(n),
                "description": "As a shopper I want checkout to be fast.",
            },
        },
        "changelog": {"id": str(10100 + n % 1000), "items": [{
            "field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": "3" if done else "10002", "fromString": "In Progress" if done else "Done",
            "to": status["id"], "toString": status["name"]}]},
    }
    return json.dumps(body).encode()


class JiraSender:
    """Signed deliveries to POST /webhooks/jira over one kept-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.deliveries = 0

    def deliver(self, n, done, updated_ms):
        body = updated_event(n, done, updated_ms)
        self.deliveries += 1
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), body,
                                                    hashlib.sha256).hexdigest(),
            "X-Atlassian-Webhook-Identifier": f"bench-{os.getpid()}-{self.deliveries}",
            "X-Atlassian-Webhook-Flow": "Primary",
            "User-Agent": "Atlassian Webhook HTTP Client",
        }
        try:
            self.conn.request("POST", "/webhooks/jira", body=body, headers=headers)
            resp = self.conn.getresponse()
            text = resp.read().decode()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            raise
        if resp.status != 200:
            raise BenchError(f"Jira delivery {issue_key(n)} done={done}: HTTP {resp.status} {text}")
        return json.loads(text).get("status")

    def close(self):
        self.conn.close()


# ---------------------------------------------------------------------------------------
# The scenario

def start_fake_jira(binary, tmp, items):
    port_file = os.path.join(tmp, "jira.port")
    log = open(os.path.join(tmp, "fake_jira.log"), "w")
    proc = subprocess.Popen([binary, "--port=0", f"--port_file={port_file}", f"--seed={items}",
                             f"--email={JIRA_EMAIL}", f"--api_token={JIRA_TOKEN}",
                             f"--story_points_field={STORY_POINTS_FIELD}"],
                            stdout=log, stderr=log)
    deadline = time.time() + 10
    while time.time() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                return proc, int(text)
        if proc.poll() is not None:
            break
        time.sleep(0.05)  # polling the port file, bounded
    proc.kill()
    proc.wait()
    raise BenchError(f"fake Jira did not start: {open(log.name).read()}")


def default_fake_jira(server):
    # <build>/service/server/okr-server -> <build>/tests/testing/fake_jira/fake_jira_main
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(server))))
    path = os.path.join(build, "tests", "testing", "fake_jira", "fake_jira_main")
    return path if os.access(path, os.X_OK) else None


def set_up(c, pb, items):
    now = int(time.time())
    c.CreateTeam(pb.CreateTeamRequest(team_id="checkout", team=pb.Team(display_name="Checkout")))
    cycle = pb.Cycle(display_name="This quarter")
    cycle.start_time.seconds = now - 45 * 86400
    cycle.end_time.seconds = now + 45 * 86400
    c.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=cycle))
    obj = c.CreateObjective(pb.CreateObjectiveRequest(objective_id="fast", objective=pb.Objective(
        title="Make checkout fast", team="teams/checkout", cycle="cycles/now")))
    metric = c.CreateKeyResult(pb.CreateKeyResultRequest(
        parent=obj.name, key_result_id="latency", key_result=pb.KeyResult(
            title="p99 checkout latency from 900 ms to 300 ms",
            metric=pb.MetricKeyResult(start_value=900, target_value=300, unit="ms"))))
    work = c.CreateKeyResult(pb.CreateKeyResultRequest(
        parent=obj.name, key_result_id="epics", key_result=pb.KeyResult(
            title="Ship the checkout epics", work_items=pb.WorkItemsKeyResult())))
    for n in range(1, items + 1):
        c.LinkWorkItem(pb.LinkWorkItemRequest(parent=work.name, work_item=pb.WorkItem(
            tracker=pb.JIRA, key=issue_key(n), title=f"Checkout epic {n}")))
    got = c.GetKeyResult(pb.GetKeyResultRequest(name=work.name))
    if got.work_items.item_count != items:
        raise BenchError(f"{work.name} has {got.work_items.item_count} items, want {items}")
    return obj, metric, work


class Clockwork:
    """Growing `updated` times (ms) and the next state of each issue: issues in turn, each
    delivery flipping its issue's done state. After first() has set odd issues done and even
    ones not, one flip per issue per round makes consecutive deliveries alternate between
    done and not done while each is a real change of its issue."""

    def __init__(self, items):
        self.items = items
        self.ms = int(time.time() * 1000) - 3600 * 1000
        self.done = {n: False for n in range(1, items + 1)}
        self.turn = 0

    def first(self, n):
        self.done[n] = n % 2 == 1
        self.ms += 7
        return n, self.done[n], self.ms

    def next(self):
        n = self.turn % self.items + 1
        self.turn += 1
        self.done[n] = not self.done[n]
        self.ms += 7
        return n, self.done[n], self.ms


def check_in(c, pb, kr, i):
    c.CreateCheckIn(pb.CreateCheckInRequest(parent=kr.name, check_in=pb.CheckIn(
        value=900 - (i % 600), confidence=0.5 + (i % 5) / 10, note=f"check-in {i}",
        author="bench")))


def measure(counter, fn, n):
    before = counter.snapshot()
    t0 = time.time()
    for i in range(n):
        fn(i)
    elapsed = time.time() - t0
    time.sleep(SETTLE_S)  # let async work the last calls triggered finish
    after = counter.snapshot()
    return before, after, elapsed


def summarize(name, n, before, after, elapsed, request_threads, pollers):
    active = active_threads(before, after)
    req = dict(ZERO)
    asyn = dict(ZERO)
    poll = dict(ZERO)
    for tid in active:
        d = thread_delta(before, after, tid)
        if tid in pollers:
            poll = add(poll, d)
        elif tid in request_threads:
            req = add(req, d)
        else:
            asyn = add(asyn, d)
    total = diff_counts(before.totals, after.totals)
    sql = collections.Counter()
    for (tid, text), count in after.sql.items():
        if tid in request_threads and tid not in pollers:
            delta = count - before.sql.get((tid, text), 0)
            if delta:
                sql[text] += delta
    return {"name": name, "n": n, "elapsed": elapsed, "request": req, "async": asyn,
            "pollers": poll, "all": total, "sql": sql,
            "threads": sorted((after.threads[t][0], t) for t in active - pollers)}


def per_op(counts, n):
    return sum(counts.values()) / n


def fmt(x):
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def breakdown(counts, n):
    return " ".join(f"{k}={fmt(counts[k] / n)}" for k in KINDS if counts[k])


def report(results, idle, meta, detail):
    lines = []
    lines.append(f"# SQL statements per call: {meta}")
    lines.append(f"# pollers while idle: {fmt(idle['rate'])} statements/s "
                 f"({breakdown(idle['counts'], idle['seconds'])} per s) on threads "
                 f"{', '.join(f'{nm}/{t}' for nm, t in idle['threads'])}")
    lines.append("")
    header = (f"{'use case':<16} {'n':>4} {'request path':>12} {'async':>6} {'pollers':>7} "
              f"{'all':>7}   request-path breakdown per call")
    lines.append(header)
    lines.append("-" * len(header))
    for r in results:
        n = r["n"]
        lines.append(f"{r['name']:<16} {n:>4} {fmt(per_op(r['request'], n)):>12} "
                     f"{fmt(per_op(r['async'], n)):>6} {fmt(per_op(r['pollers'], n)):>7} "
                     f"{fmt(per_op(r['all'], n)):>7}   "
                     f"{breakdown(r['request'], n)}")
    lines.append("")
    for r in results:
        n = r["n"]
        lines.append(f"# {r['name']}: {n} calls in {r['elapsed']:.2f} s (+{SETTLE_S} s settling); "
                     f"async per call: {breakdown(r['async'], n) or '-'}; "
                     f"all per call: {breakdown(r['all'], n)}; "
                     f"threads with SQL (pollers excluded): "
                     f"{', '.join(f'{nm}/{t}' for nm, t in r['threads'])}")
    if detail:
        for r in results:
            n = r["n"]
            lines.append("")
            lines.append(f"## {r['name']}: request-path statements per call, by text")
            for text, count in sorted(r["sql"].items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {fmt(count / n):>6}  {text}")
    return "\n".join(lines) + "\n"


def run(args):
    tmp = tempfile.mkdtemp(prefix="okr-stmt-count-")
    cleanup = []
    try:
        pb = okr_e2e.build_messages(args.proto_root, os.path.join(tmp, "gen"))
        fake = args.fake_jira or default_fake_jira(args.server)
        if fake:
            jira_proc, jira_port = start_fake_jira(fake, tmp, args.items)
            cleanup.append(lambda: (jira_proc.send_signal(signal.SIGTERM),
                                    jira_proc.wait(timeout=10)))
            jira_url = f"http://127.0.0.1:{jira_port}"
        else:
            # Nothing below calls Jira (reconcile and write-back wait an hour); the connector
            # only needs a site to exist for POST /webhooks/jira.
            jira_url = "http://127.0.0.1:9"
        count_file = os.path.join(tmp, "counts.txt")
        sql_file = os.path.join(tmp, "sql.txt")
        env = {
            "LD_PRELOAD": os.path.abspath(args.preload),
            "STMT_COUNT_FILE": count_file,
            "STMT_COUNT_SQL_FILE": sql_file,
            "OKR_JIRA_URL": jira_url,
            "OKR_JIRA_EMAIL": JIRA_EMAIL,
            "OKR_JIRA_API_TOKEN": JIRA_TOKEN,
            "OKR_JIRA_WEBHOOK_SECRET": SECRET,
            "OKR_JIRA_STORY_POINTS_FIELD": STORY_POINTS_FIELD,
        }
        server = okr_e2e.start_server(
            args.server, tmp,
            ["--auth=none", f"--sqlite-sync={args.sqlite_sync}", "--reconcile-interval=1h",
             "--writeback-interval=1h", "--rule-interval=1h"], env=env)
        cleanup.append(server.stop)
        counter = Counter(server.proc.pid, count_file, sql_file)
        first = counter.snapshot()
        if sum(first.totals.values()) == 0:
            raise BenchError("the shim reported no statements at all after startup "
                             "(migrations ran): the trace is not installed")
        c = okr_e2e.Client(server.channel(), pb)
        obj, metric, work = set_up(c, pb, args.items)
        sender = JiraSender(server.http_port)
        cleanup.append(sender.close)
        clock = Clockwork(args.items)

        def deliver(_, state=None):
            n, done, ms = state or clock.next()
            status = sender.deliver(n, done, ms)
            if status != "accepted":
                raise BenchError(f"Jira delivery {issue_key(n)} done={done}: status {status}, "
                                 "want accepted")

        def get_objective(_):
            got = c.GetObjective(pb.GetObjectiveRequest(name=obj.name))
            if got.name != obj.name:
                raise BenchError(f"GetObjective returned {got.name}")

        # Warm-up: every path once and more (first deliveries also store the issue ids).
        for i in range(args.warmup):
            check_in(c, pb, metric, i)
        for n in range(1, args.items + 1):  # also stores each issue's Jira id
            deliver(None, clock.first(n))
        for _ in range(2 * args.items):
            deliver(None)
        for i in range(args.warmup):
            get_objective(i)
        time.sleep(SETTLE_S)

        # Pollers: threads that run SQL while nothing is asked of the server.
        idle_before = counter.snapshot()
        time.sleep(IDLE_WINDOW_S)
        idle_after = counter.snapshot()
        pollers = active_threads(idle_before, idle_after)
        idle_counts = diff_counts(idle_before.totals, idle_after.totals)
        idle = {"counts": idle_counts, "seconds": IDLE_WINDOW_S,
                "rate": sum(idle_counts.values()) / IDLE_WINDOW_S,
                "threads": sorted((idle_after.threads[t][0], t) for t in pollers)}

        def grpc_threads(snap):
            return {t for t, (nm, _) in snap.threads.items() if GRPC_THREAD_NAMES.match(nm)}

        results = []
        seen_in_grpc_phases = set()
        b, a, el = measure(counter, lambda i: check_in(c, pb, metric, 1000 + i), args.n)
        results.append(summarize("CreateCheckIn", args.n, b, a, el, grpc_threads(a), pollers))
        seen_in_grpc_phases |= active_threads(b, a)
        b, a, el = measure(counter, get_objective, args.n)
        results.append(summarize("GetObjective", args.n, b, a, el, grpc_threads(a), pollers))
        seen_in_grpc_phases |= active_threads(b, a)
        b, a, el = measure(counter, deliver, args.n)
        # HTTP threads: unnamed, not pollers, and not the async threads of the gRPC phases.
        http_threads = {t for t in active_threads(b, a)
                        if t not in grpc_threads(a) and t not in pollers
                        and t not in seen_in_grpc_phases}
        results.append(summarize("Jira webhook", args.n, b, a, el, http_threads, pollers))
        results = [results[0], results[2], results[1]]

        meta = (f"server {args.server}, --sqlite-sync={args.sqlite_sync}, n={args.n}, "
                f"{args.items} linked Jira issues, fake Jira {fake or 'none'}, "
                f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
        text = report(results, idle, meta, args.detail)
        rc = server.stop()
        cleanup.remove(server.stop)
        if rc != 0:
            raise BenchError(f"okr-server exited {rc}: {server.log()[-2000:]}")
        return text
    finally:
        for fn in reversed(cleanup):
            try:
                fn()
            except Exception:  # noqa: BLE001 -- best effort while cleaning up
                pass
        if args.keep_tmp:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True, help="okr-server binary")
    p.add_argument("--preload", required=True, help="libokr_bench_stmt_count.so")
    p.add_argument("--fake-jira", default=None,
                   help="fake_jira_main binary (default: next to the server's build tree, "
                        "if there; without one the Jira URL points nowhere)")
    p.add_argument("--proto-root", default=os.path.join(HERE, "..", "proto"))
    p.add_argument("--n", type=int, default=200, help="measured calls per use case")
    p.add_argument("--items", type=int, default=64, help="Jira issues linked to the key result")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--sqlite-sync", default="full", choices=("full", "normal"))
    p.add_argument("--detail", action="store_true", help="statement texts per call")
    p.add_argument("--out", default=None, help="also append the table to this file")
    p.add_argument("--keep-tmp", action="store_true")
    args = p.parse_args()
    if args.n < 1 or args.items < 1:
        p.error("--n and --items must be positive")
    try:
        text = run(args)
    except (BenchError, okr_e2e.ServerError, grpc.RpcError, OSError,
            http.client.HTTPException) as e:
        print(f"statement_counts: FAILED: {e!r}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
