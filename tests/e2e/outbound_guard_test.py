#!/usr/bin/python3
"""Outbound calls that cannot be aimed inside (issue #13), through the real okr-server
binary, from a Python gRPC client (python3-grpcio):

 - CreateSubscription refuses target URLs on loopback, private, link-local, CGNAT,
   unspecified and multicast addresses -- literal (IPv4, bracketed IPv6) or a name that
   resolves there (`localhost`) -- with INVALID_ARGUMENT naming `subscription.target_url`
   and the address class; a bad --outbound-allow-cidrs stops the server at startup.
 - With --outbound-allow-cidrs=127.0.0.0/8 a local receiver gets signed deliveries.
 - DNS rebinding: with an LD_PRELOAD resolver shim, `rebind.okr.test` answers 203.0.113.7
   (public, never connected to) to the create-time check and 127.0.0.1 to every later
   lookup. The subscription is accepted, but the delivery is refused at connection time:
   the receiver on 127.0.0.1 gets nothing and last_error says only
   "address not allowed (loopback)". (Had the shim not reached curl, curl would fail DNS
   and last_error would say "DNS lookup failed": the test would fail, not pass.)
 - OPEN_ISSUE rule cap: with --rule-max-issues-per-day=2 a LOW_CONFIDENCE rule that fires
   three times opens exactly two issues in the fake Jira, records three RULE_FIRED events
   and logs one warning naming the rule for the third firing.

Usage: outbound_guard_test.py OKR_SERVER PROTO_ROOT FAKE_JIRA_MAIN REBIND_RESOLVER_SO
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402
from okr_e2e import Client, code_of  # noqa: E402

SECRET = "outbound-guard-test-secret"


class Receiver:
    """A webhook receiver on 127.0.0.1 and a free port: records every request, answers 200."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def eventually(condition, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def create_okrs(c, pb, jira_project_key=""):
    """teams/checkout, a cycle around now, objectives/o1 and its metric key result k (0->100,
    expected progress about 0.5); returns the key result's name."""
    now = int(time.time())
    c.CreateTeam(pb.CreateTeamRequest(team_id="checkout", team=pb.Team(
        display_name="Checkout", jira_project_key=jira_project_key)), timeout=10)
    cycle = pb.Cycle(display_name="Now")
    cycle.start_time.seconds = now - 45 * 86400
    cycle.end_time.seconds = now + 45 * 86400
    c.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=cycle), timeout=10)
    c.CreateObjective(pb.CreateObjectiveRequest(objective_id="o1", objective=pb.Objective(
        title="Make paying effortless", team="teams/checkout", cycle="cycles/now")), timeout=10)
    kr = c.CreateKeyResult(pb.CreateKeyResultRequest(
        parent="objectives/o1", key_result_id="k", key_result=pb.KeyResult(
            title="Conversion up", metric=pb.MetricKeyResult(start_value=0, target_value=100))),
        timeout=10)
    return kr.name


def check_in(c, pb, kr, value, confidence):
    c.CreateCheckIn(pb.CreateCheckInRequest(parent=kr, check_in=pb.CheckIn(
        value=value, confidence=confidence, note="e2e")), timeout=10)


def main():
    binary, proto_root, fake_jira, rebind_so = sys.argv[1:5]
    r = okr_e2e.Checks()
    with okr_e2e.temp_dir("okr-outbound-") as tmp:
        scenario(r.check, binary, proto_root, fake_jira, rebind_so, tmp)
    r.finish()


def scenario(check, binary, proto_root, fake_jira, rebind_so, tmp):
    pb = okr_e2e.build_messages(proto_root, tmp)
    cleanup = []

    def start(name, args=(), env=None):
        """okr-server --auth=none on a fresh SQLite database <name>.db, log <name>.log."""
        return okr_e2e.start_server(binary, tmp, ["--auth=none", *args], env=env, name=name,
                                    db_name=f"{name}.db")

    def subscribe(c, url, sub_id=""):
        return c.CreateSubscription(pb.CreateSubscriptionRequest(
            subscription_id=sub_id,
            subscription=pb.Subscription(target_url=url, secret=SECRET)), timeout=10)

    try:
        receiver = Receiver()
        cleanup.append(receiver.close)
        p = receiver.port

        # ---- A bad allow list is a startup error naming the flag ----
        bad = okr_e2e.run_to_exit(binary, tmp, ["--auth=none",
                                                "--outbound-allow-cidrs=127.0.0.0/8,10.0.0.0/33"],
                                  db_name="bad.db", timeout=30)
        check("a bad --outbound-allow-cidrs stops the server",
              bad.returncode not in (0, None) and "--outbound-allow-cidrs" in bad.stderr and
              "10.0.0.0/33" in bad.stderr and "serving" not in bad.stderr,
              (bad.returncode, bad.stderr[-600:]))

        # ---- Create-time refusals (nothing allowed) ----
        guarded = start("guarded")
        cleanup.append(guarded.stop)
        c = Client(guarded.channel(), pb)
        refused = [
            (f"http://127.0.0.1:{p}/hook", "127.0.0.1 is a loopback address"),
            (f"http://[::1]:{p}/hook", "::1 is a loopback address"),
            ("http://10.1.2.3/hook", "10.1.2.3 is a private address"),
            ("http://169.254.169.254/latest/meta-data/iam", "169.254.169.254 is a link-local"),
            ("http://100.64.0.1/", "100.64.0.1 is a CGNAT address"),
            ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
            ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
            (f"http://localhost:{p}/hook", "localhost resolves to 127.0.0.1, a loopback address"),
            (f"http://[::ffff:127.0.0.1]:{p}/hook", "::ffff:127.0.0.1 is a loopback address"),
        ]
        for url, fragment in refused:
            code, msg = code_of(c.CreateSubscription, pb.CreateSubscriptionRequest(
                subscription=pb.Subscription(target_url=url, secret=SECRET)))
            check(f"CreateSubscription {url} -> INVALID_ARGUMENT naming the field and class",
                  code == grpc.StatusCode.INVALID_ARGUMENT and
                  msg.startswith("subscription.target_url: ") and fragment in msg and
                  "--outbound-allow-cidrs" in msg, (code, msg))
        listed = c.ListSubscriptions(pb.ListSubscriptionsRequest(), timeout=10)
        check("refused subscriptions are not stored", len(listed.subscriptions) == 0, listed)
        code, msg = code_of(c.CreateSubscription, pb.CreateSubscriptionRequest(
            subscription=pb.Subscription(target_url=f"ftp://127.0.0.1:{p}/", secret=SECRET)))
        check("only http and https", code == grpc.StatusCode.INVALID_ARGUMENT and
              "subscription.target_url" in msg, (code, msg))
        check("nothing reached the receiver", receiver.received() == [],
              [path for path, _, _ in receiver.received()])
        check("guarded server exits 0", guarded.stop() == 0)
        cleanup.remove(guarded.stop)

        # ---- Allowed: 127.0.0.0/8 receives signed deliveries ----
        allowed = start("allowed", ["--outbound-allow-cidrs=127.0.0.0/8",
                                                  "--delivery-initial-backoff=200ms"])
        cleanup.append(allowed.stop)
        c = Client(allowed.channel(), pb)
        kr = create_okrs(c, pb)
        sub = subscribe(c, f"http://127.0.0.1:{p}/hook", "local")
        check("allowed: the loopback subscription is accepted", sub.name == "subscriptions/local")
        code, msg = code_of(c.CreateSubscription, pb.CreateSubscriptionRequest(
            subscription=pb.Subscription(target_url=f"http://[::1]:{p}/", secret=SECRET)))
        check("allowed: ::1 is outside 127.0.0.0/8 and still refused",
              code == grpc.StatusCode.INVALID_ARGUMENT and "::1 is a loopback" in msg, (code, msg))
        check_in(c, pb, kr, 30, 0.8)
        got = eventually(lambda: [r for r in receiver.received() if r[0] == "/hook"])
        check("allowed: the check-in's event was delivered", got, receiver.received())
        if got:
            path, headers, body = got[0]
            headers = {k.lower(): v for k, v in headers.items()}
            want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            check("delivery is signed over the raw body",
                  hmac.compare_digest(headers.get("x-okr-signature", ""), want), headers)
            event = json.loads(body)
            check("X-OKR-Event-Id is the event's sequence",
                  headers.get("x-okr-event-id") == str(event.get("sequence")), (headers, event))
            check("X-OKR-Event-Type names the type",
                  headers.get("x-okr-event-type") == event.get("type"), (headers, event))
        check("allowed server exits 0", allowed.stop() == 0)
        cleanup.remove(allowed.stop)

        # ---- DNS rebinding: accepted as 203.0.113.7, refused when it re-resolves ----
        before = len(receiver.received())
        rebind = start("rebind", ["--delivery-initial-backoff=200ms",
                                                "--delivery-max-backoff=400ms"],
                        env={"LD_PRELOAD": rebind_so})
        cleanup.append(rebind.stop)
        c = Client(rebind.channel(), pb)
        kr = create_okrs(c, pb)
        created = subscribe(c, f"http://rebind.okr.test:{p}/rebind", "rebind")
        check("rebind: the name resolving to 203.0.113.7 is accepted",
              created.name == "subscriptions/rebind", created)
        check_in(c, pb, kr, 30, 0.8)

        def last_error():
            s = c.GetSubscription(pb.GetSubscriptionRequest(name="subscriptions/rebind"),
                                  timeout=10)
            return s.last_error

        error = eventually(lambda: last_error() or None, timeout=20) or ""
        check("rebind: last_error is only the class 'address not allowed (loopback)'",
              error == "address not allowed (loopback)", error)
        # Several more attempts (backoff 200-400 ms) re-resolve to 127.0.0.1: all refused.
        time.sleep(2)
        check("rebind: the receiver on 127.0.0.1 got nothing",
              len(receiver.received()) == before,
              [(path, h.get("X-OKR-Event-Id")) for path, h, _ in receiver.received()[before:]])
        s = c.GetSubscription(pb.GetSubscriptionRequest(name="subscriptions/rebind"), timeout=10)
        check("rebind: nothing counts as delivered",
              s.delivered_sequence == created.delivered_sequence, (s, created))
        check("rebind: still the same class after retries",
              s.last_error == "address not allowed (loopback)", s.last_error)
        check("rebind server exits 0", rebind.stop() == 0)
        cleanup.remove(rebind.stop)

        # ---- OPEN_ISSUE cap: 3 firings, 2 issues ----
        port_file = os.path.join(tmp, "jira.port")
        jira = subprocess.Popen([fake_jira, "--port=0", f"--port_file={port_file}", "--seed=3"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cleanup.append(lambda: (jira.send_signal(signal.SIGTERM), jira.wait(timeout=10)))
        jira_port = eventually(lambda: os.path.exists(port_file) and
                               int(open(port_file).read().strip() or 0), timeout=10)
        check("fake Jira started", jira_port)
        jira_url = f"http://127.0.0.1:{jira_port}"
        auth = "Basic " + base64.b64encode(b"okr-bot@example.com:test-api-token").decode()

        def rule_issues():
            req = urllib.request.Request(
                f"{jira_url}/rest/api/3/search/jql", method="POST",
                data=json.dumps({"jql": "project = OKRX", "fields": ["summary", "labels"],
                                 "maxResults": 100}).encode(),
                headers={"Authorization": auth, "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                issues = json.loads(r.read())["issues"]
            return [i for i in issues
                    if any(l.startswith("okr-rule-") for l in i["fields"].get("labels", []))]

        capped = start("capped",
                        ["--rule-max-issues-per-day=2", "--rule-interval=200ms",
                         "--reconcile-interval=1h"],
                        env={"OKR_JIRA_URL": jira_url, "OKR_JIRA_EMAIL": "okr-bot@example.com",
                             "OKR_JIRA_API_TOKEN": "test-api-token",
                             "OKR_JIRA_WEBHOOK_SECRET": "jira-hook-secret",
                             "OKR_PUBLIC_URL": "https://okr.example.test"})
        cleanup.append(capped.stop)
        c = Client(capped.channel(), pb)
        kr = create_okrs(c, pb, jira_project_key="OKRX")
        check_in(c, pb, kr, 60, 0.9)  # on track, confident: neither rule holds
        # A probe that fires on every "high" check-in (they also put the key result off
        # track): its RULE_FIRED shows that a round after the check-in ran, so the capped
        # rule (created after it, evaluated after it) has re-armed.
        c.CreateRule(pb.CreateRuleRequest(rule_id="probe", rule=pb.Rule(
            parent="teams/checkout", condition=pb.RuleCondition(type=pb.HEALTH_AT_RISK),
            action=pb.RuleAction(type=pb.EMIT_EVENT))), timeout=10)
        c.CreateRule(pb.CreateRuleRequest(rule_id="low", rule=pb.Rule(
            parent="teams/checkout",
            condition=pb.RuleCondition(type=pb.LOW_CONFIDENCE, threshold=0.5),
            action=pb.RuleAction(type=pb.OPEN_ISSUE, tracker=pb.JIRA))), timeout=10)

        def fired(rule):
            events = c.ListEvents(pb.ListEventsRequest(parent=kr, page_size=1000), timeout=10)
            return [e for e in events.events if e.type == pb.RULE_FIRED and e.rule == rule]

        for i in range(3):
            check_in(c, pb, kr, 60, 0.2)  # low confidence, on track: "low" fires
            check(f"cap: firing {i + 1} of rules/low",
                  eventually(lambda: len(fired("rules/low")) == i + 1), len(fired("rules/low")))
            if i < 2:
                check_in(c, pb, kr, 5, 0.9)  # confident, off track: the probe fires
                check(f"cap: probe {i + 1} (rules/low re-armed)",
                      eventually(lambda: len(fired("rules/probe")) == i + 1),
                      len(fired("rules/probe")))
        warning = re.compile(r"WARN .*limit of issues per 24 hours.*rule=rules/low")
        check("cap: the third firing logs one warning naming the rule",
              eventually(lambda: len(warning.findall(capped.log())) == 1), capped.log()[-2000:])
        check("cap: two issues opened in the fake Jira",
              eventually(lambda: len(rule_issues()) == 2), rule_issues())
        time.sleep(1.5)  # several rule rounds: a third issue would have been opened by now
        check("cap: exactly two issues, no third", len(rule_issues()) == 2, rule_issues())
        check("cap: three RULE_FIRED events of rules/low", len(fired("rules/low")) == 3,
              fired("rules/low"))
        check("cap: still one warning", len(warning.findall(capped.log())) == 1)
        check("capped server exits 0", capped.stop() == 0)
        cleanup.remove(capped.stop)
    except Exception as e:  # noqa: BLE001 -- report, then fail
        import traceback
        traceback.print_exc()
        check("no unexpected exception", False, repr(e))
    finally:
        for fn in reversed(cleanup):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass


if __name__ == "__main__":
    main()
