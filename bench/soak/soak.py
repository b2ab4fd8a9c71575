#!/usr/bin/python3
"""Soak driver of okr-server (issue #15): mixed load for a fixed time against a running
server, its resident memory, open descriptors and threads sampled every second.

bench/soak/run_soak.sh starts the server (and the fake Jira it writes back to) and calls
this; run by hand:

    OKR_JIRA_WEBHOOK_SECRET=... soak.py --server-pid=PID --grpc-port=N --http-port=M \
        --proto-root=proto --work-dir=DIR --jira-url=URL --duration=600 --out=samples.csv

The server must run with --auth=none and --outbound-allow-cidrs=127.0.0.0/8 (the
subscription receiver is on loopback), with the Jira connector enabled; the Jira webhook
secret comes from OKR_JIRA_WEBHOOK_SECRET.

All at once, for --duration seconds (each load in its own process, so that Python's global
lock does not couple them):
  * RPCs: --rpc-threads threads at --rpc-rate calls/s in total, each cycling through
    Create/Get/List/Update/Delete of objectives and key results, CreateCheckIn and
    ListCheckIns (a scratch objective per cycle, deleted at its end, so the number of
    objectives stays the same), plus a check-in on a long-lived key result that watchers
    follow. Events and those check-ins accumulate, as they do in production.
  * webhooks: signed jira:issue_updated deliveries at --webhook-rate/s for the issues linked
    to the work-items key results, each a new status (To Do -> In Progress -> Done -> ...),
    a later `updated` and a new X-Atlassian-Webhook-Identifier; each must be "accepted".
  * 50 WatchEvents streams (filtered by objective, 5 per objective) open the whole run,
    reading every event.
  * 5 subscriptions (one per objective of the first five) to a local HTTP receiver that
    checks X-OKR-Signature and answers 200.
Then the load stops, the driver waits for the watchers and the receiver to go quiet, and
checks that the watchers of one objective saw the same events and that each subscription
delivered exactly what its objective's watchers saw.

Writes the samples as CSV (t, rss_kib, fds, threads; t in seconds from the start of the
load), prints a summary and exits 1 if any stream broke, any call or delivery failed, or a
consistency check failed.
"""
import argparse
import collections
import hashlib
import hmac
import http.client
import http.server
import json
import multiprocessing
import os
import random
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "e2e"))
import okr_e2e  # noqa: E402

import grpc  # noqa: E402
from google.protobuf import field_mask_pb2  # noqa: E402

TEAM = "teams/soak"
OBJECTIVES = 10          # long-lived objectives, each with a metric and a work-items KR
ISSUES_PER_KR = 4        # Jira issues linked to each work-items key result
WATCHERS = 50            # WatchEvents streams, WATCHERS / OBJECTIVES per objective
SUBSCRIPTIONS = 5        # subscriptions, one per objective o0..o4
SUBSCRIPTION_SECRET = "soak-subscription-secret-0123456789"
JIRA_PROJECT = "OKRX"    # the fake Jira seeds OKRX-1.. with ids 10001..
JIRA_FIRST_ID = 10001
QUIET_S = 3              # the run is drained once nothing arrived for this long
DRAIN_LIMIT_S = 120      # ... and must be within this long after the load stops
MAX_ERRORS_KEPT = 10


def load_messages(out_dir):
    sys.path.insert(0, out_dir)
    from okr.v1 import okr_service_pb2  # noqa: E402
    return okr_service_pb2


def client(pb, grpc_port):
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    return channel, okr_e2e.Client(channel, pb)


class Pacer:
    """Spaces calls at a fixed rate; after a stall it resumes the rate instead of
    catching up with a burst."""

    def __init__(self, rate):
        self.interval = 1.0 / rate
        self.next = time.monotonic()

    def wait(self):
        self.next += self.interval
        delay = self.next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            self.next = time.monotonic()


class Tally:
    """Counts, errors and latencies of one worker (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = collections.Counter()
        self.errors = collections.Counter()
        self.error_samples = []
        self.latencies = []

    def ok(self, kind, seconds):
        with self.lock:
            self.calls[kind] += 1
            self.latencies.append(seconds)

    def error(self, kind, what):
        with self.lock:
            self.calls[kind] += 1
            self.errors[kind] += 1
            if len(self.error_samples) < MAX_ERRORS_KEPT:
                self.error_samples.append(f"{kind}: {what}")

    def result(self):
        with self.lock:
            lat = sorted(self.latencies)
            pick = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0)
            return {"calls": dict(self.calls), "errors": dict(self.errors),
                    "error_samples": list(self.error_samples),
                    "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                    "max_ms": lat[-1] * 1000 if lat else 0}


# ---------------------------------------------------------------------------------------
# Setup (in the main process, before any load)

def setup(pb, c, receiver_port):
    """Team, cycle, OBJECTIVES objectives with a metric and a linked work-items key result,
    SUBSCRIPTIONS subscriptions; returns (metric key results, {issue key: work-items KR},
    the event sequence the watchers start after)."""
    now = int(time.time())
    c.CreateTeam(pb.CreateTeamRequest(team_id="soak", team=pb.Team(display_name="Soak")))
    cycle = pb.Cycle(display_name="Soak cycle")
    cycle.start_time.seconds = now - 45 * 86400
    cycle.end_time.seconds = now + 45 * 86400
    c.CreateCycle(pb.CreateCycleRequest(cycle_id="soak", cycle=cycle))
    metric_krs, issues = [], {}
    for i in range(OBJECTIVES):
        obj = f"objectives/o{i}"
        c.CreateObjective(pb.CreateObjectiveRequest(objective_id=f"o{i}", objective=pb.Objective(
            title=f"Soak objective {i}", team=TEAM, cycle="cycles/soak")))
        metric = c.CreateKeyResult(pb.CreateKeyResultRequest(
            parent=obj, key_result_id="m", key_result=pb.KeyResult(
                title="Metric", metric=pb.MetricKeyResult(start_value=0, target_value=100))))
        work = c.CreateKeyResult(pb.CreateKeyResultRequest(
            parent=obj, key_result_id="w", key_result=pb.KeyResult(
                title="Work items", work_items=pb.WorkItemsKeyResult())))
        metric_krs.append(metric.name)
        for j in range(ISSUES_PER_KR):
            key = f"{JIRA_PROJECT}-{i * ISSUES_PER_KR + j + 1}"
            c.LinkWorkItem(pb.LinkWorkItemRequest(parent=work.name, work_item=pb.WorkItem(
                tracker=pb.JIRA, key=key)))
            issues[key] = work.name
    after = 0
    for i in range(SUBSCRIPTIONS):
        sub = c.CreateSubscription(pb.CreateSubscriptionRequest(
            subscription_id=f"s{i}", subscription=pb.Subscription(
                target_url=f"http://127.0.0.1:{receiver_port}/hook/{i}",
                secret=SUBSCRIPTION_SECRET, filter=pb.EventFilter(objective=f"objectives/o{i}"))))
        after = max(after, sub.delivered_sequence)
    # The last event so far: watchers start after it, as the subscriptions do.
    token = ""
    while True:
        page = c.ListEvents(pb.ListEventsRequest(parent=TEAM, page_size=1000, page_token=token))
        for e in page.events:
            after = max(after, e.sequence)
        token = page.next_page_token
        if not token:
            break
    return metric_krs, issues, after


# ---------------------------------------------------------------------------------------
# Subscription receiver (main process)

class Receiver:
    """Answers every POST /hook/<i> with 200; counts deliveries and distinct event ids per
    subscription and signatures that do not verify."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = collections.Counter()
        self.ids = collections.defaultdict(set)
        self.bad_signatures = 0
        self.last_arrival = time.monotonic()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the delivery client may use it

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                want = "sha256=" + hmac.new(SUBSCRIPTION_SECRET.encode(), body,
                                            hashlib.sha256).hexdigest()
                good = hmac.compare_digest(want, self.headers.get("X-OKR-Signature", ""))
                with receiver.lock:
                    receiver.posts[self.path] += 1
                    receiver.ids[self.path].add(self.headers.get("X-OKR-Event-Id"))
                    receiver.last_arrival = time.monotonic()
                    if not good:
                        receiver.bad_signatures += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return (dict(self.posts), {p: len(s) for p, s in self.ids.items()},
                    self.bad_signatures, self.last_arrival)

    def event_ids(self):
        with self.lock:
            return {p: set(s) for p, s in self.ids.items()}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------
# Worker processes

def rpc_worker(out_dir, grpc_port, threads, rate, metric_krs, stop, results):
    pb = load_messages(out_dir)
    channel, c = client(pb, grpc_port)
    tally = Tally()

    def call(name, req):
        start = time.monotonic()
        try:
            resp = getattr(c, name)(req)
            tally.ok(name, time.monotonic() - start)
            return resp
        except grpc.RpcError as e:
            tally.error(name, f"{e.code().name} {e.details()}")
            return None

    def loop(index):
        pacer = Pacer(rate / threads)
        rng = random.Random(index)
        n = 0
        while not stop.is_set():
            n += 1
            oid = f"scratch-{index}-{n}"
            obj = f"objectives/{oid}"
            steps = [
                lambda: call("CreateObjective", pb.CreateObjectiveRequest(
                    objective_id=oid, objective=pb.Objective(
                        title=f"Scratch {index}/{n}", team=TEAM, cycle="cycles/soak"))),
                lambda: call("CreateKeyResult", pb.CreateKeyResultRequest(
                    parent=obj, key_result_id="k", key_result=pb.KeyResult(
                        title="Scratch metric",
                        metric=pb.MetricKeyResult(start_value=0, target_value=10)))),
                lambda: call("GetObjective", pb.GetObjectiveRequest(name=obj)),
                lambda: call("ListObjectives", pb.ListObjectivesRequest(team=TEAM, page_size=20)),
                lambda: call("UpdateObjective", pb.UpdateObjectiveRequest(
                    objective=pb.Objective(name=obj, description=f"round {n}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["description"]))),
                lambda: call("GetKeyResult", pb.GetKeyResultRequest(name=f"{obj}/keyResults/k")),
                lambda: call("UpdateKeyResult", pb.UpdateKeyResultRequest(
                    key_result=pb.KeyResult(name=f"{obj}/keyResults/k", title=f"Metric {n}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["title"]))),
                lambda: call("CreateCheckIn", pb.CreateCheckInRequest(
                    parent=f"{obj}/keyResults/k", check_in=pb.CheckIn(
                        value=rng.uniform(0, 10), confidence=0.7, note="scratch"))),
                lambda: call("ListCheckIns", pb.ListCheckInsRequest(
                    parent=f"{obj}/keyResults/k", page_size=50)),
                lambda: call("ListKeyResults", pb.ListKeyResultsRequest(parent=obj)),
                lambda: call("CreateCheckIn", pb.CreateCheckInRequest(
                    parent=metric_krs[rng.randrange(len(metric_krs))], check_in=pb.CheckIn(
                        value=rng.uniform(0, 100), confidence=0.8, note="soak"))),
                lambda: call("DeleteObjective", pb.DeleteObjectiveRequest(name=obj, force=True)),
            ]
            for step in steps:
                pacer.wait()
                step()
                if stop.is_set() and step is not steps[-1]:
                    # Finish the cycle (delete the scratch objective), unpaced.
                    for rest in steps[steps.index(step) + 1:]:
                        rest()
                    break

    run_threads(loop, threads)
    channel.close()
    results.put(("rpc", tally.result()))


def jira_time(ms):
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{ms % 1000:03d}+0000"


# (status id, name, category id, category key, category name) as the fake Jira has them.
JIRA_STATES = [("10000", "To Do", 2, "new", "To Do"),
               ("3", "In Progress", 4, "indeterminate", "In Progress"),
               ("10001", "Done", 3, "done", "Done")]


def issue_updated_body(key, issue_id, state, previous, updated_ms, site):
    sid, sname, cid, ckey, cname = JIRA_STATES[state]
    api = f"{site}/rest/api/2"
    fields = {
        "summary": f"Soak issue {key}",
        "status": {"self": f"{api}/status/{sid}", "description": "", "name": sname, "id": sid,
                   "statusCategory": {"self": f"{api}/statuscategory/{cid}", "id": cid,
                                      "key": ckey, "name": cname}},
        "created": jira_time(updated_ms - 86400000),
        "updated": jira_time(updated_ms),
        "project": {"self": f"{api}/project/{JIRA_PROJECT}", "id": "10000",
                    "key": JIRA_PROJECT, "name": f"{JIRA_PROJECT} project"},
        "issuetype": {"self": f"{api}/issuetype/10002", "id": "10002", "name": "Task",
                      "subtask": False},
        "labels": ["okr"],
        "resolution": ({"self": f"{api}/resolution/10000", "id": "10000", "name": "Done",
                        "description": "Work has been completed on this issue."}
                       if ckey == "done" else None),
        "resolutiondate": jira_time(updated_ms) if ckey == "done" else None,
    }
    psid, psname = JIRA_STATES[previous][0], JIRA_STATES[previous][1]
    return json.dumps({
        "timestamp": updated_ms,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "557058:soak", "displayName": "Soak Runner", "active": True},
        "issue": {"id": str(issue_id), "self": f"{api}/{issue_id}", "key": key,
                  "fields": fields},
        "changelog": {"id": str(10100 + updated_ms % 1000), "items": [
            {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": psid,
             "fromString": psname, "to": sid, "toString": sname}]},
    }).encode()


def webhook_worker(http_port, threads, rate, issue_keys, secret, site, stop, results):
    tally = Tally()
    lock = threading.Lock()
    # Per issue: current state index (the seeded state is unknown here: start at To Do,
    # the first delivery moves it to In Progress) and the last `updated` sent.
    state = {k: 0 for k in issue_keys}
    last_ms = {k: 0 for k in issue_keys}
    order = list(issue_keys)
    counter = [0]
    outcomes = collections.Counter()

    def next_delivery():
        with lock:
            key = order[counter[0] % len(order)]
            counter[0] += 1
            previous = state[key]
            state[key] = (previous + 1) % len(JIRA_STATES)
            updated = max(int(time.time() * 1000), last_ms[key] + 1)
            last_ms[key] = updated
            n = counter[0]
        issue_id = JIRA_FIRST_ID + int(key.split("-")[1]) - 1
        return n, issue_updated_body(key, issue_id, state[key], previous, updated, site)

    def loop(index):
        pacer = Pacer(rate / threads)
        while not stop.is_set():
            pacer.wait()
            n, body = next_delivery()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Atlassian Webhook HTTP Client",
                "X-Atlassian-Webhook-Identifier": f"soak-{os.getpid()}-{n}",
                "X-Atlassian-Webhook-Flow": "Primary",
                "X-Hub-Signature": "sha256=" + hmac.new(secret.encode(), body,
                                                        hashlib.sha256).hexdigest(),
            }
            start = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
            try:
                conn.request("POST", "/webhooks/jira", body=body, headers=headers)
                resp = conn.getresponse()
                text = resp.read().decode(errors="replace")
                try:
                    outcome = json.loads(text).get("status", "?")
                except ValueError:
                    outcome = "?"
                with lock:
                    outcomes[f"{resp.status} {outcome}"] += 1
                if resp.status == 200 and outcome == "accepted":
                    tally.ok("delivery", time.monotonic() - start)
                else:
                    tally.error("delivery", f"HTTP {resp.status} {text[:200]}")
            except (OSError, http.client.HTTPException) as e:
                tally.error("delivery", repr(e))
            finally:
                conn.close()

    run_threads(loop, threads)
    r = tally.result()
    r["outcomes"] = dict(outcomes)
    results.put(("webhooks", r))


def watcher_worker(out_dir, grpc_port, after, counts, last_seqs, stop, results):
    """WATCHERS streams on one channel per 10 streams; counts[i] / last_seqs[i] are shared
    with the main process so that it can tell when they are quiet."""
    pb = load_messages(out_dir)
    channels = [client(pb, grpc_port) for _ in range((WATCHERS + 9) // 10)]
    lock = threading.Lock()
    broken, order_errors, streams = [], [], []

    def watch(i):
        _, c = channels[i // 10]
        req = pb.WatchEventsRequest(
            after_sequence=after, filter=pb.EventFilter(objective=f"objectives/o{i % OBJECTIVES}"))
        stream = c.WatchEvents(req, timeout=None)
        with lock:
            streams.append(stream)
        last = after
        try:
            for event in stream:
                if event.sequence <= last:
                    with lock:
                        order_errors.append(f"watcher {i}: {event.sequence} after {last}")
                last = event.sequence
                counts[i] += 1
                last_seqs[i] = last
            if not stop.is_set():
                with lock:
                    broken.append(f"watcher {i}: stream ended OK before the end")
        except grpc.RpcError as e:
            if not (stop.is_set() and e.code() == grpc.StatusCode.CANCELLED):
                with lock:
                    broken.append(f"watcher {i}: {e.code().name} {e.details()}")

    pool = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(WATCHERS)]
    for t in pool:
        t.start()
    stop.wait()
    with lock:
        for s in streams:
            s.cancel()
    for t in pool:
        t.join(timeout=10)
    results.put(("watchers", {"broken": broken, "order_errors": order_errors[:MAX_ERRORS_KEPT],
                              "alive_after_join": sum(t.is_alive() for t in pool)}))


def run_threads(fn, n):
    pool = [threading.Thread(target=fn, args=(i,), daemon=True) for i in range(n)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


# ---------------------------------------------------------------------------------------
# Sampling and the summary

def sample(pid):
    """(rss_kib, fds, threads, rss_anon_kib) of process pid, from /proc."""
    status = proc_status(pid)
    return (status["VmRSS"], len(os.listdir(f"/proc/{pid}/fd")), status["Threads"],
            status.get("RssAnon", 0))


def proc_status(pid):
    """The numeric fields of /proc/PID/status (sizes in KiB)."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            parts = value.split()
            if parts and parts[0].isdigit():
                fields[name] = int(parts[0])
    return fields


def cpu_seconds(pid):
    """User + system CPU time of pid so far (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def file_kib(*paths):
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p)) / 1024


def slope_mib_per_min(points):
    """Least-squares slope of [(t_s, rss_kib)] in MiB per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mr = sum(r for _, r in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    cov = sum((t - mt) * (r - mr) for t, r in points)
    return (cov / var) * 60 / 1024 if var else 0.0


METRICS_SHOWN = ("okr_writeback_total", "okr_writeback_failing_items", "okr_tracker_requests_total",
                 "okr_queue_depth", "okr_outbox_undelivered_events", "okr_database_errors_total",
                 "okr_subscription_deliveries_total", "okr_reconcile_runs_total")


def server_metrics(http_port):
    """The lines of the server's /metrics about METRICS_SHOWN (or why there are none)."""
    status, body = okr_e2e.http_get(http_port, "/metrics")
    if status != 200:
        return [f"GET /metrics: {status} {body[:200]}"]
    return [line for line in body.splitlines() if line.startswith(METRICS_SHOWN)]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--grpc-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--proto-root", required=True)
    ap.add_argument("--work-dir", required=True, help="scratch directory (generated code)")
    ap.add_argument("--jira-url", required=True, help="the Jira site the server is set up with")
    ap.add_argument("--database-file", default="", help="the server's SQLite file, for its size")
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--out", required=True, help="CSV of the samples")
    ap.add_argument("--rpc-rate", type=float, default=200)
    ap.add_argument("--rpc-threads", type=int, default=4)
    ap.add_argument("--webhook-rate", type=float, default=100)
    ap.add_argument("--webhook-threads", type=int, default=2)
    args = ap.parse_args()
    secret = os.environ.get("OKR_JIRA_WEBHOOK_SECRET", "")
    if not secret:
        sys.exit("soak: OKR_JIRA_WEBHOOK_SECRET must be set (the server's Jira webhook secret)")

    out_dir = os.path.join(args.work_dir, "py")
    pb = okr_e2e.build_messages(args.proto_root, out_dir)
    channel, c = client(pb, args.grpc_port)
    receiver = Receiver()
    metric_krs, issues, after = setup(pb, c, receiver.port)
    print(f"setup: {OBJECTIVES} objectives, {len(issues)} linked Jira issues, "
          f"{SUBSCRIPTIONS} subscriptions, watchers start after event {after}", flush=True)

    ctx = multiprocessing.get_context("spawn")
    stop_load, stop_watch = ctx.Event(), ctx.Event()
    results = ctx.Queue()
    counts, last_seqs = ctx.Array("q", WATCHERS, lock=False), ctx.Array("q", WATCHERS, lock=False)
    watchers = ctx.Process(target=watcher_worker, args=(
        out_dir, args.grpc_port, after, counts, last_seqs, stop_watch, results))
    watchers.start()
    time.sleep(2)  # the streams are open before the load begins
    loads = [
        ctx.Process(target=rpc_worker, args=(out_dir, args.grpc_port, args.rpc_threads,
                                             args.rpc_rate, metric_krs, stop_load, results)),
        ctx.Process(target=webhook_worker, args=(args.http_port, args.webhook_threads,
                                                 args.webhook_rate, sorted(issues), secret,
                                                 args.jira_url, stop_load, results)),
    ]
    samples = []
    t0 = time.monotonic()
    samples.append((0.0, *sample(args.server_pid)))
    cpu_start = cpu_seconds(args.server_pid)
    for p in loads:
        p.start()
    with open(args.out, "w") as csv:
        csv.write("t,rss_kib,fds,threads\n")
        csv.write("%.0f,%d,%d,%d\n" % samples[0][:4])
        k = 1
        while True:
            wake = t0 + k
            time.sleep(max(0.0, wake - time.monotonic()))
            try:
                s = (time.monotonic() - t0, *sample(args.server_pid))
            except FileNotFoundError:
                print("soak: the server exited during the run", flush=True)
                break
            samples.append(s)
            csv.write("%.0f,%d,%d,%d\n" % s[:4])
            csv.flush()
            if k % 60 == 0:
                print(f"  t={k:4d} s  rss {mib(s[1])}  fds {s[2]}  threads {s[3]}  "
                      f"events/watcher(avg) {sum(counts) / WATCHERS:.0f}", flush=True)
            k += 1
            if k > args.duration:
                break
    load_end = time.monotonic()
    stop_load.set()
    try:
        cpu_load = cpu_seconds(args.server_pid) - cpu_start
    except FileNotFoundError:
        cpu_load = 0.0

    out = {}
    for _ in loads:
        name, r = results.get(timeout=120)
        out[name] = r
    for p in loads:
        p.join(timeout=30)

    # Drain: the watchers and the receiver stop receiving.
    prev, quiet_since = None, time.monotonic()
    while time.monotonic() - load_end < DRAIN_LIMIT_S:
        now_counts = (tuple(counts), receiver.snapshot()[0])
        if now_counts != prev:
            prev, quiet_since = now_counts, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_S:
            break
        time.sleep(0.2)
    drained = time.monotonic() - quiet_since >= QUIET_S
    drain_s = quiet_since - load_end
    final = sample(args.server_pid) if os.path.exists(f"/proc/{args.server_pid}") else None
    stop_watch.set()
    name, r = results.get(timeout=60)
    out[name] = r
    watchers.join(timeout=30)
    metrics = server_metrics(args.http_port)
    subs = []
    for i in range(SUBSCRIPTIONS):
        code, details, sub = okr_e2e.outcome(
            c.GetSubscription, pb.GetSubscriptionRequest(name=f"subscriptions/s{i}"))
        subs.append(sub if sub is not None else pb.Subscription(last_error=f"{code}: {details}"))
    posts, distinct, bad_signatures, _ = receiver.snapshot()
    ids = receiver.event_ids()
    receiver.close()
    channel.close()

    # ---- summary ----
    problems = []
    elapsed = load_end - t0
    rpc, hooks, watch = out["rpc"], out["webhooks"], out["watchers"]
    rpc_calls, rpc_errors = sum(rpc["calls"].values()), sum(rpc["errors"].values())
    deliveries, delivery_errors = sum(hooks["calls"].values()), sum(hooks["errors"].values())
    print()
    print(f"soak summary: {elapsed:.0f} s of load")
    print(f"RPCs: {rpc_calls} calls ({rpc_calls / elapsed:.0f}/s), {rpc_errors} errors; "
          f"p50 {rpc['p50_ms']:.1f} ms, p99 {rpc['p99_ms']:.1f} ms, max {rpc['max_ms']:.0f} ms")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(rpc["calls"].items())))
    print(f"webhooks: {deliveries} deliveries ({deliveries / elapsed:.0f}/s), "
          f"{delivery_errors} errors; p50 {hooks['p50_ms']:.1f} ms, p99 {hooks['p99_ms']:.1f} ms, "
          f"max {hooks['max_ms']:.0f} ms; answers {hooks['outcomes']}")
    total_events = sum(counts)
    per_obj = collections.defaultdict(set)
    for i in range(WATCHERS):
        per_obj[i % OBJECTIVES].add((counts[i], last_seqs[i]))
    print(f"watchers: {WATCHERS} streams, {total_events} events read "
          f"({total_events / elapsed:.0f}/s), per stream {min(counts)}..{max(counts)}; "
          f"{len(watch['broken'])} broke; drained {drain_s:.1f} s after the load stopped")
    for o, seen in sorted(per_obj.items()):
        if len(seen) != 1:
            problems.append(f"watchers of objectives/o{o} disagree: (count, last) {sorted(seen)}")
    for e in watch["broken"]:
        problems.append(e)
    if watch["alive_after_join"]:
        problems.append(f"{watch['alive_after_join']} watcher threads did not end on cancel")
    for e in watch["order_errors"]:
        problems.append("out of order: " + e)
    if not drained:
        problems.append(f"not quiet {DRAIN_LIMIT_S} s after the load stopped")
    print(f"subscriptions: {sum(posts.values())} POSTs, {sum(distinct.values())} distinct "
          f"events, {bad_signatures} bad signatures")
    if bad_signatures:
        problems.append(f"{bad_signatures} subscription deliveries with a bad signature")
    for i, s in enumerate(subs):
        path = f"/hook/{i}"
        want = counts[i]  # watcher i follows objectives/o{i}, as subscription s{i} does
        got = len([e for e in ids.get(path, ()) if int(e) > after])
        print(f"  s{i}: {posts.get(path, 0)} POSTs, {got} distinct, watchers of o{i} saw "
              f"{want}; state {pb.SubscriptionState.Name(s.state)}, delivered_sequence "
              f"{s.delivered_sequence}, last_error {s.last_error!r}")
        if got != want:
            problems.append(f"subscription s{i} delivered {got} events, its watchers saw {want}")
        if s.state != pb.SUBSCRIPTION_ACTIVE or s.last_error:
            problems.append(f"subscription s{i}: {pb.SubscriptionState.Name(s.state)} "
                            f"{s.last_error!r}")
    if rpc_errors:
        problems.append(f"{rpc_errors} RPC errors: {rpc['error_samples']}")
    if delivery_errors:
        problems.append(f"{delivery_errors} webhook errors: {hooks['error_samples']}")

    rss = [(s[0], s[1]) for s in samples]
    anon = [(s[0], s[4]) for s in samples]
    at_1min = min(rss, key=lambda p: abs(p[0] - 60))
    second_half = [(t, r) for t, r in rss if t >= elapsed / 2]
    print(f"server RSS: start {mib(rss[0][1])}, at {at_1min[0]:.0f} s {mib(at_1min[1])}, "
          f"end {mib(rss[-1][1])}, max {mib(max(r for _, r in rss))}; second-half slope "
          f"{slope_mib_per_min(second_half):+.3f} MiB/min ({len(second_half)} samples)")
    print(f"server fds: start {samples[0][2]}, end {samples[-1][2]}, max "
          f"{max(s[2] for s in samples)}; threads: start {samples[0][3]}, end {samples[-1][3]}, "
          f"max {max(s[3] for s in samples)}")
    anon_half = [(t, r) for t, r in anon if t >= elapsed / 2]
    print(f"server RssAnon (heap and other private memory): start {mib(anon[0][1])}, end "
          f"{mib(anon[-1][1])}, second-half slope {slope_mib_per_min(anon_half):+.3f} MiB/min; "
          f"server CPU during the load {cpu_load:.0f} s "
          f"({100 * cpu_load / elapsed:.0f}% of one core)")
    if args.database_file:
        db = args.database_file
        print(f"database: {mib(file_kib(db))} + WAL {mib(file_kib(db + '-wal'))} at the end")
    if final:
        print(f"after the drain: rss {mib(final[0])}, fds {final[1]}, threads {final[2]}")
    else:
        problems.append("the server is gone at the end of the run")
    print("server metrics at the end (tracker write-backs, queues, outbox):")
    for line in metrics:
        print("  " + line)
    print(f"samples: {args.out} ({len(samples)} rows)")
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  " + p)
        return 1
    print("no errors, no broken streams")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 -- a setup failure is a failed run, with its trace
        traceback.print_exc()
        sys.exit(1)
