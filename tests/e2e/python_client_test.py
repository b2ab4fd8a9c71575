#!/usr/bin/python3
"""End-to-end test of okr-server from another language: a Python gRPC client built from
proto/okr/v1/okr_service.proto (messages from protoc, calls through grpcio's generic
unary-unary and unary-stream APIs) against the real okr-server binary on a temporary SQLite
database.

Usage: python_client_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import urllib.error
import urllib.request

import grpc


def build_messages(proto_root, out_dir):
    subprocess.run(["protoc", f"-I{proto_root}", f"--python_out={out_dir}",
                    "okr/v1/okr_service.proto"], check=True)
    sys.path.insert(0, out_dir)
    from okr.v1 import okr_service_pb2  # noqa: E402
    return okr_service_pb2


class Client:
    def __init__(self, channel, pb):
        self.channel = channel
        self.pb = pb
        service = pb.DESCRIPTOR.services_by_name["OkrService"]
        from google.protobuf import descriptor_pb2, empty_pb2
        for method in service.methods:
            out_cls = (empty_pb2.Empty if method.output_type.full_name == "google.protobuf.Empty"
                       else getattr(pb, method.output_type.name))
            shape = descriptor_pb2.MethodDescriptorProto()
            method.CopyToProto(shape)
            call = channel.unary_stream if shape.server_streaming else channel.unary_unary
            setattr(self, method.name, call(
                f"/okr.v1.OkrService/{method.name}",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=out_cls.FromString))


def start_server(binary, db, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                             f"--database=sqlite:{db}"], stdout=log, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline:
        text = open(log_path).read()
        m = re.search(r"grpc_port=(\d+)", text)
        h = re.search(r"http_port=(\d+)", text)
        if m and h:
            return proc, int(m.group(1)), int(h.group(1))
        if proc.poll() is not None:
            raise RuntimeError("okr-server exited: " + open(log_path).read())
        time.sleep(0.05)
    raise RuntimeError("okr-server did not start: " + open(log_path).read())


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="okr-e2e-")
    pb = build_messages(proto_root, tmp)
    proc, port, http_port = start_server(binary, os.path.join(tmp, "okr.db"), os.path.join(tmp, "server.log"))
    results = []

    def check(name, cond, detail=""):
        results.append(cond)
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))

    def code_of(fn, req):
        try:
            fn(req, timeout=10)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            return e.code(), e.details()

    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            c = Client(channel, pb)
            now = int(time.time())
            team = c.CreateTeam(pb.CreateTeamRequest(team_id="payments",
                                                     team=pb.Team(display_name="Payments")))
            check("create team", team.name == "teams/payments", team)
            cycle = pb.Cycle(display_name="This quarter")
            cycle.start_time.seconds = now - 45 * 86400
            cycle.end_time.seconds = now + 45 * 86400
            c.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=cycle))
            obj = c.CreateObjective(pb.CreateObjectiveRequest(objective=pb.Objective(
                title="Make paying effortless", team="teams/payments", cycle="cycles/now")))
            check("objective is a draft", obj.state == pb.DRAFT, obj)
            kr = c.CreateKeyResult(pb.CreateKeyResultRequest(
                parent=obj.name, key_result=pb.KeyResult(
                    title="Cut checkout drop-off from 40% to 20%",
                    metric=pb.MetricKeyResult(start_value=40, target_value=20, unit="%"))))
            ci = c.CreateCheckIn(pb.CreateCheckInRequest(
                parent=kr.name, check_in=pb.CheckIn(value=30, confidence=0.7, note="A/B test won",
                                                    author="li")))
            check("check-in is named under the key result", ci.name.startswith(kr.name + "/checkIns/"))
            kr = c.GetKeyResult(pb.GetKeyResultRequest(name=kr.name))
            check("decrease KR progress is 0.5", abs(kr.progress - 0.5) < 1e-9, kr.progress)
            check("KR expected progress is about 0.5", abs(kr.expected_progress - 0.5) < 0.01,
                  kr.expected_progress)
            check("KR is on track", kr.health == pb.ON_TRACK, kr.health)
            got = c.GetObjective(pb.GetObjectiveRequest(name=obj.name))
            check("objective progress is 0.5", abs(got.progress - 0.5) < 1e-9, got.progress)

            upd = pb.UpdateObjectiveRequest(objective=pb.Objective(
                name=obj.name, title="Stale edit", etag=obj.etag))
            upd.update_mask.paths.append("title")
            code, msg = code_of(c.UpdateObjective, upd)
            check("stale etag -> ABORTED", code == grpc.StatusCode.ABORTED, (code, msg))
            code, msg = code_of(c.GetObjective, pb.GetObjectiveRequest(name="objectives/missing"))
            check("missing -> NOT_FOUND", code == grpc.StatusCode.NOT_FOUND, (code, msg))
            code, msg = code_of(c.CreateKeyResult, pb.CreateKeyResultRequest(
                parent=obj.name, key_result=pb.KeyResult(
                    title="flat", metric=pb.MetricKeyResult(start_value=1, target_value=1))))
            check("start == target -> INVALID_ARGUMENT naming the field",
                  code == grpc.StatusCode.INVALID_ARGUMENT and "target_value" in msg, (code, msg))
            code, msg = code_of(c.ListObjectives, pb.ListObjectivesRequest(page_size=-5))
            check("negative page_size -> INVALID_ARGUMENT",
                  code == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in msg, (code, msg))

        def http_get(path):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}{path}", timeout=10) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        status, body = http_get("/healthz")
        check("/healthz answers 200", status == 200, (status, body))
        status, body = http_get("/readyz")
        check("/readyz answers 200", status == 200, (status, body))
        status, body = http_get("/no-such-path")
        check("unknown path -> 404 with JSON error", status == 404 and '"error"' in body,
              (status, body))
        status, metrics = http_get("/metrics")
        check("/metrics answers 200", status == 200, status)
        check("/metrics counts CreateCheckIn",
              'okr_rpc_requests_total{method="CreateCheckIn",code="OK"} 1' in metrics, metrics)
        check("/metrics counts the NOT_FOUND",
              'okr_rpc_requests_total{method="GetObjective",code="NOT_FOUND"} 1' in metrics)
        promtool = shutil.which("promtool")
        check("promtool is installed", promtool is not None)
        if promtool:
            res = subprocess.run([promtool, "check", "metrics"], input=metrics, text=True,
                                 capture_output=True)
            # promtool exits 1 for lint warnings too; a parse error says "error while linting".
            check("promtool parses /metrics", "error while linting" not in res.stderr and
                  "error" not in res.stdout.lower(), res.stdout + res.stderr)

        # Events: the check-in's history through ListEvents, then WatchEvents from the start
        # and resumed after the last sequence seen.
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            c = Client(channel, pb)

            def list_events(parent, page_size=100):
                events, token = [], ""
                while True:
                    resp = c.ListEvents(pb.ListEventsRequest(parent=parent, page_size=page_size,
                                                             page_token=token), timeout=10)
                    events.extend(resp.events)
                    token = resp.next_page_token
                    if not token:
                        return events

            def read_through(stream, last):
                got = []
                for ev in stream:
                    got.append(ev)
                    if ev.sequence >= last:
                        break
                return got

            kr_events = list_events(kr.name)
            moved = [e for e in kr_events if e.type == pb.PROGRESS_CHANGED]
            check("ListEvents on the KR has the check-in's PROGRESS_CHANGED",
                  len(moved) == 1 and moved[0].cause.kind == pb.CAUSE_CHECK_IN and
                  moved[0].cause.ref == ci.name and moved[0].subject == kr.name and
                  abs(moved[0].old_progress) < 1e-9 and abs(moved[0].new_progress - 0.5) < 1e-9,
                  kr_events)
            sequences = [e.sequence for e in kr_events]
            check("events are in increasing sequence order", sequences == sorted(set(sequences)),
                  sequences)
            check("ListEvents pages one by one",
                  [e.sequence for e in list_events(kr.name, page_size=1)] == sequences)
            code, msg = code_of(c.ListEvents, pb.ListEventsRequest(parent=kr.name, page_size=-1))
            check("ListEvents: negative page_size -> INVALID_ARGUMENT",
                  code == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in msg, (code, msg))

            team_filter = pb.EventFilter(team="teams/payments")
            history = list_events("teams/payments")
            stream = c.WatchEvents(pb.WatchEventsRequest(filter=team_filter, after_sequence=0),
                                   timeout=20)
            seen = read_through(stream, history[-1].sequence)
            check("WatchEvents from 0 replays the team's history",
                  [e.sequence for e in seen] == [e.sequence for e in history],
                  ([e.sequence for e in seen], [e.sequence for e in history]))
            ci2 = c.CreateCheckIn(pb.CreateCheckInRequest(
                parent=kr.name, check_in=pb.CheckIn(value=25, confidence=0.8)))
            live = read_through(stream, list_events("teams/payments")[-1].sequence)
            check("WatchEvents streams a new check-in's events live",
                  any(e.type == pb.PROGRESS_CHANGED and e.cause.ref == ci2.name for e in live), live)
            last = live[-1].sequence
            stream.cancel()

            ci3 = c.CreateCheckIn(pb.CreateCheckInRequest(
                parent=kr.name, check_in=pb.CheckIn(value=22, confidence=0.9)))
            missed = [e.sequence for e in list_events("teams/payments") if e.sequence > last]
            stream = c.WatchEvents(pb.WatchEventsRequest(filter=team_filter, after_sequence=last),
                                   timeout=20)
            resumed = read_through(stream, missed[-1])
            stream.cancel()
            check("WatchEvents resumed after the last sequence replays exactly the missed events",
                  [e.sequence for e in resumed] == missed, ([e.sequence for e in resumed], missed))
            check("the missed events include the check-in made while disconnected",
                  any(e.cause.ref == ci3.name for e in resumed), resumed)
            code, msg = code_of(c.ListEvents, pb.ListEventsRequest(parent="objectives/missing"))
            check("ListEvents of a missing objective -> NOT_FOUND",
                  code == grpc.StatusCode.NOT_FOUND, (code, msg))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        check("server exits 0 on SIGTERM", rc == 0, rc)
        shutil.rmtree(tmp, ignore_errors=True)

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
