#!/usr/bin/python3
"""End-to-end test of okr-server from another language: a Python gRPC client built from
proto/okr/v1/okr_service.proto (messages from protoc, calls through grpcio's generic
unary-unary and unary-stream APIs) against the real okr-server binary on a temporary SQLite
database.

Usage: python_client_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import shutil
import subprocess
import sys
import time

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402
from okr_e2e import Client, code_of  # noqa: E402


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    r = okr_e2e.Checks()
    check = r.check
    with okr_e2e.temp_dir("okr-e2e-") as tmp:
        pb = okr_e2e.build_messages(proto_root, tmp)
        # --auth=none: this test is about the API from another language, not access control
        # (tests/e2e/auth_test.py covers tokens and roles).
        server = okr_e2e.start_server(binary, tmp, ["--auth=none"])
        try:
            scenario(check, pb, server)
        finally:
            rc = server.stop()
            check("server exits 0 on SIGTERM", rc == 0, rc)
    r.finish()


def scenario(check, pb, server):
    http_port = server.http_port
    with server.channel() as channel:
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
        return okr_e2e.http_get(http_port, path)

    status, body = http_get("/healthz")
    check("/healthz answers 200", status == 200, (status, body))
    status, body = http_get("/readyz")
    check("/readyz answers 200", status == 200, (status, body))
    status, body = http_get("/webhooks/no-such-path")
    check("unknown webhook path -> 404 with JSON error", status == 404 and '"error"' in body,
          (status, body))
    status, body = http_get("/no-such-path")  # a page path: the HTML 404 page (issue #14)
    check("unknown page -> 404 HTML page", status == 404 and "Page not found" in body,
          (status, body[:200]))
    status, metrics = http_get("/metrics")
    check("/metrics answers 200", status == 200, status)
    check("/metrics counts CreateCheckIn",
          'grpc_server_handled_total{grpc_code="OK",grpc_method="CreateCheckIn",'
          'grpc_service="okr.v1.OkrService",grpc_type="unary"} 1' in metrics, metrics)
    check("/metrics counts the NOT_FOUND",
          'grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="GetObjective",'
          'grpc_service="okr.v1.OkrService",grpc_type="unary"} 1' in metrics)
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
    with server.channel() as channel:
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


if __name__ == "__main__":
    main()
