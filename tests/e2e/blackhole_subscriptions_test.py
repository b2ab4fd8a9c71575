#!/usr/bin/python3
"""Subscriptions are delivered independently (issue #15), through the real binary: 20
subscriptions whose target accepts connections and never answers (each holds its request
until the 10 s delivery timeout) cost a healthy receiver nothing -- every event reaches it
within a second of the check-in that produced it, round after round, while the blackholes
keep timing out.

Usage: blackhole_subscriptions_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import http.server
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402

SECRET = "blackhole-test-secret-0123456789abcdef"
BLACKHOLES = 20


class Blackhole:
    """Accepts TCP connections and never reads or answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.closed = True
        self.sock.close()
        for c in self.held:
            c.close()


class Receiver:
    """Answers 200 and keeps when each event id arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.arrivals.setdefault(self.headers.get("X-OKR-Event-Id"), time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    r = okr_e2e.Checks()
    blackhole, receiver = Blackhole(), Receiver()
    try:
        with okr_e2e.temp_dir("okr-blackhole-") as tmp:
            pb = okr_e2e.build_messages(proto_root, tmp)
            server = okr_e2e.start_server(binary, tmp, [
                "--auth=none", "--sqlite-sync=normal", "--outbound-allow-cidrs=127.0.0.0/8"])
            try:
                scenario(r.check, pb, okr_e2e.Client(server.channel(), pb), blackhole, receiver)
            finally:
                server.stop()
    finally:
        blackhole.close()
        receiver.close()
    r.finish()


def scenario(check, pb, c, blackhole, receiver):
    now = int(time.time())
    c.CreateTeam(pb.CreateTeamRequest(team_id="checkout", team=pb.Team(display_name="Checkout")))
    cycle = pb.Cycle(display_name="Now")
    cycle.start_time.seconds = now - 45 * 86400
    cycle.end_time.seconds = now + 45 * 86400
    c.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=cycle))
    c.CreateObjective(pb.CreateObjectiveRequest(objective_id="o1", objective=pb.Objective(
        title="Make paying effortless", team="teams/checkout", cycle="cycles/now")))
    kr = c.CreateKeyResult(pb.CreateKeyResultRequest(
        parent="objectives/o1", key_result_id="k", key_result=pb.KeyResult(
            title="Conversion up", metric=pb.MetricKeyResult(start_value=0, target_value=100))))
    for i in range(BLACKHOLES):
        c.CreateSubscription(pb.CreateSubscriptionRequest(
            subscription_id=f"blackhole-{i}", subscription=pb.Subscription(
                target_url=f"http://127.0.0.1:{blackhole.port}/hook/{i}", secret=SECRET)))
    c.CreateSubscription(pb.CreateSubscriptionRequest(
        subscription_id="healthy", subscription=pb.Subscription(
            target_url=f"http://127.0.0.1:{receiver.port}/hook", secret=SECRET)))

    latencies = []
    for value in (10, 20, 30, 40):
        before = receiver.count()
        start = time.time()
        c.CreateCheckIn(pb.CreateCheckInRequest(parent=kr.name, check_in=pb.CheckIn(
            value=value, confidence=0.8, note="blackhole round")))
        deadline = start + 15
        while receiver.count() == before and time.time() < deadline:
            time.sleep(0.01)
        latencies.append(time.time() - start if receiver.count() > before else None)
        time.sleep(2)  # the blackholes' requests are still open: the next round overlaps them
    print("latencies (s):", ["-" if x is None else f"{x:.3f}" for x in latencies])
    check("the healthy receiver got every round's events",
          all(x is not None for x in latencies), latencies)
    check("each within 1 s of the check-in while 20 blackholes hang",
          all(x is not None and x < 1.0 for x in latencies), latencies)
    check("the blackholes were really hit (connections held open)",
          len(blackhole.held) >= BLACKHOLES, f"{len(blackhole.held)} connections")
    for i in (0, BLACKHOLES - 1):
        sub = c.GetSubscription(pb.GetSubscriptionRequest(name=f"subscriptions/blackhole-{i}"))
        print(f"blackhole-{i}: state={sub.state} last_error={sub.last_error!r}")


if __name__ == "__main__":
    main()
