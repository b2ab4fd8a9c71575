#!/usr/bin/python3
"""End-to-end test of issue #18's standard methods and collection reads, through the real
okr-server binary from Python (python3-grpcio, messages from protoc): UpdateTeam /
UpdateCycle with update masks and etags, DeleteTeam / DeleteCycle refused while used and
forced, GetCheckIn, UpdateSubscription / UpdateRule, and ListKeyResults over `objectives/-`
with an AIP-160 filter and order_by.

Usage: standard_methods_test.py OKR_SERVER_BINARY PROTO_ROOT
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

import grpc


def build_messages(proto_root, out_dir):
    subprocess.run(["protoc", f"-I{proto_root}", f"--python_out={out_dir}",
                    "okr/v1/okr_service.proto"], check=True)
    sys.path.insert(0, out_dir)
    from okr.v1 import okr_service_pb2  # noqa: E402
    return okr_service_pb2


class Client:
    def __init__(self, channel, pb):
        from google.protobuf import descriptor_pb2, empty_pb2
        service = pb.DESCRIPTOR.services_by_name["OkrService"]
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
    # Loopback subscription targets are refused by the outbound guard unless allowed.
    proc = subprocess.Popen([binary, "--auth=none", "--grpc-address=127.0.0.1:0",
                             "--http-address=127.0.0.1:0", f"--database=sqlite:{db}",
                             "--outbound-allow-cidrs=127.0.0.1/32"], stdout=log, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline:
        text = open(log_path).read()
        m = re.search(r"serving grpc_port=(\d+) http_port=(\d+)", text)
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError("okr-server exited: " + text)
        time.sleep(0.05)
    raise RuntimeError("okr-server did not start: " + open(log_path).read())


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="okr-e2e-std-")
    pb = build_messages(proto_root, tmp)
    proc, port = start_server(binary, os.path.join(tmp, "okr.db"), os.path.join(tmp, "server.log"))
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))

    def call(fn, req):
        """(code, details, response)."""
        try:
            return grpc.StatusCode.OK, "", fn(req, timeout=10)
        except grpc.RpcError as e:
            return e.code(), e.details(), None

    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            c = Client(channel, pb)
            now = int(time.time())

            # ---- Teams: a company with payments (and cards below it) and search ----
            for team_id, parent in [("company", ""), ("payments", "teams/company"),
                                    ("cards", "teams/payments"), ("search", "teams/company"),
                                    ("typo", "")]:
                c.CreateTeam(pb.CreateTeamRequest(team_id=team_id, team=pb.Team(
                    display_name=team_id.title(), parent=parent)))
            team = c.GetTeam(pb.GetTeamRequest(name="teams/typo"))
            req = pb.UpdateTeamRequest(team=pb.Team(name="teams/typo", display_name="Platform",
                                                    parent="teams/company", etag=team.etag))
            req.update_mask.paths.extend(["display_name", "parent"])
            code, msg, renamed = call(c.UpdateTeam, req)
            check("UpdateTeam renames and moves with a mask", code == grpc.StatusCode.OK and
                  renamed.display_name == "Platform" and renamed.parent == "teams/company" and
                  renamed.etag != team.etag, (code, msg, renamed))
            stale = pb.UpdateTeamRequest(team=pb.Team(name="teams/typo", display_name="Again",
                                                      etag=team.etag))
            stale.update_mask.paths.append("display_name")
            code, msg, _ = call(c.UpdateTeam, stale)
            check("UpdateTeam with a stale etag -> ABORTED", code == grpc.StatusCode.ABORTED, (code, msg))
            only_key = pb.UpdateTeamRequest(team=pb.Team(name="teams/typo", jira_project_key="PLAT"))
            only_key.update_mask.paths.append("jira_project_key")
            code, msg, got = call(c.UpdateTeam, only_key)
            check("UpdateTeam leaves fields outside the mask alone",
                  code == grpc.StatusCode.OK and got.jira_project_key == "PLAT" and
                  got.display_name == "Platform", (code, msg, got))
            loop = pb.UpdateTeamRequest(team=pb.Team(name="teams/payments", parent="teams/cards"))
            loop.update_mask.paths.append("parent")
            code, msg, _ = call(c.UpdateTeam, loop)
            check("UpdateTeam under its own sub-team -> INVALID_ARGUMENT naming team.parent",
                  code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("team.parent"),
                  (code, msg))

            # ---- Cycles: one running now (AT_RISK is reachable), one typo ----
            running = pb.Cycle(display_name="This quarter")
            running.start_time.seconds = now - 50 * 86400
            running.end_time.seconds = now + 50 * 86400
            c.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=running))
            typo = pb.Cycle(display_name="2062 Q1")
            typo.start_time.seconds = now + 100 * 86400
            typo.end_time.seconds = now + 190 * 86400
            cyc = c.CreateCycle(pb.CreateCycleRequest(cycle_id="later", cycle=typo))
            upd = pb.UpdateCycleRequest(cycle=pb.Cycle(name="cycles/later", display_name="2027 Q1",
                                                       etag=cyc.etag))
            upd.update_mask.paths.append("display_name")
            code, msg, renamed = call(c.UpdateCycle, upd)
            check("UpdateCycle renames with a mask and keeps the times",
                  code == grpc.StatusCode.OK and renamed.display_name == "2027 Q1" and
                  renamed.start_time.seconds == typo.start_time.seconds, (code, msg, renamed))
            code, msg, _ = call(c.UpdateCycle, upd)
            check("UpdateCycle with a stale etag -> ABORTED", code == grpc.StatusCode.ABORTED, (code, msg))
            bad = pb.UpdateCycleRequest(cycle=pb.Cycle(name="cycles/later"))
            bad.cycle.end_time.seconds = now
            bad.update_mask.paths.append("end_time")
            code, msg, _ = call(c.UpdateCycle, bad)
            check("UpdateCycle ending before the start -> INVALID_ARGUMENT naming cycle.end_time",
                  code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("cycle.end_time"),
                  (code, msg))

            # ---- Objectives and metric key results (0 -> 100) at different progress ----
            def objective(team, cycle="cycles/now", parent=""):
                return c.CreateObjective(pb.CreateObjectiveRequest(objective=pb.Objective(
                    title=f"Objective of {team}", team=team, cycle=cycle, parent=parent)))

            def metric(o, title, value):
                kr = c.CreateKeyResult(pb.CreateKeyResultRequest(parent=o.name, key_result=pb.KeyResult(
                    title=title, metric=pb.MetricKeyResult(start_value=0, target_value=100, unit="%"))))
                return c.CreateCheckIn(pb.CreateCheckInRequest(
                    parent=kr.name, check_in=pb.CheckIn(value=value, confidence=0.5, note=title))), kr

            pay = objective("teams/payments")
            pay2 = objective("teams/payments")
            find = objective("teams/search")
            # Expected progress is about 0.5: 0.45 ON_TRACK, 0.30/0.35 AT_RISK, 0.10 OFF_TRACK.
            ci_a, kr_a = metric(pay, "a", 45)
            _, kr_b = metric(pay, "b", 30)
            _, kr_c = metric(pay2, "c", 35)
            _, kr_d = metric(pay2, "d", 10)
            _, kr_e = metric(find, "e", 30)

            code, msg, got = call(c.GetCheckIn, pb.GetCheckInRequest(name=ci_a.name))
            check("GetCheckIn returns the check-in", code == grpc.StatusCode.OK and
                  got.name == ci_a.name and got.value == 45 and got.note == "a", (code, msg, got))
            code, msg, _ = call(c.GetCheckIn, pb.GetCheckInRequest(name=kr_a.name + "/checkIns/nope"))
            check("GetCheckIn of a missing check-in -> NOT_FOUND", code == grpc.StatusCode.NOT_FOUND,
                  (code, msg))

            req = pb.ListKeyResultsRequest(parent="objectives/-",
                                           filter='health = AT_RISK AND team = "teams/payments"',
                                           order_by="progress desc")
            code, msg, got = call(c.ListKeyResults, req)
            names = [kr.name for kr in got.key_results] if got else []
            check("ListKeyResults objectives/- filtered by health and team, ordered by progress desc",
                  names == [kr_c.name, kr_b.name], (code, msg, names))
            check("... and they are AT_RISK", got and all(k.health == pb.AT_RISK for k in got.key_results),
                  got)
            pages, token = [], ""
            while True:
                code, msg, got = call(c.ListKeyResults, pb.ListKeyResultsRequest(
                    parent="objectives/-", order_by="progress", page_size=2, page_token=token))
                if code != grpc.StatusCode.OK:
                    break
                pages.append([k.name for k in got.key_results])
                token = got.next_page_token
                if not token:
                    break
            check("ListKeyResults objectives/- ordered by progress pages through every key result",
                  pages == [[kr_d.name, kr_b.name], [kr_e.name, kr_c.name], [kr_a.name]],
                  (code, msg, pages))
            code, msg, got = call(c.ListObjectives, pb.ListObjectivesRequest(
                filter='team = "teams/payments" AND state = DRAFT', order_by="progress desc"))
            check("ListObjectives filtered by team and state, ordered",
                  code == grpc.StatusCode.OK and [o.name for o in got.objectives] == [pay.name, pay2.name],
                  (code, msg, got))
            for bad_filter in ["progress > 0.5", "health = at_risk", 'health = "AT_RISK"',
                               "health = AT_RISK OR team = \"teams/x\""]:
                code, msg, _ = call(c.ListKeyResults, pb.ListKeyResultsRequest(
                    parent="objectives/-", filter=bad_filter))
                check(f"bad filter {bad_filter!r} -> INVALID_ARGUMENT naming filter",
                      code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("filter"), (code, msg))
            code, msg, _ = call(c.ListKeyResults, pb.ListKeyResultsRequest(
                parent="objectives/-", order_by="title"))
            check("bad order_by -> INVALID_ARGUMENT naming order_by",
                  code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("order_by"), (code, msg))

            # ---- Deleting used teams and cycles ----
            cards_o = objective("teams/cards", parent=pay.name)
            code, msg, _ = call(c.DeleteTeam, pb.DeleteTeamRequest(name="teams/payments"))
            check("DeleteTeam while objectives refer to it -> FAILED_PRECONDITION naming one",
                  code == grpc.StatusCode.FAILED_PRECONDITION and pay.name in msg, (code, msg))
            code, msg, _ = call(c.DeleteTeam, pb.DeleteTeamRequest(name="teams/company"))
            check("DeleteTeam while sub-teams refer to it -> FAILED_PRECONDITION naming one",
                  code == grpc.StatusCode.FAILED_PRECONDITION and "teams/payments" in msg, (code, msg))
            payments = c.GetTeam(pb.GetTeamRequest(name="teams/payments"))
            code, msg, _ = call(c.DeleteTeam, pb.DeleteTeamRequest(name="teams/payments",
                                                                   etag="r999", force=True))
            check("DeleteTeam with a stale etag -> ABORTED", code == grpc.StatusCode.ABORTED, (code, msg))
            code, msg, _ = call(c.DeleteTeam, pb.DeleteTeamRequest(name="teams/payments",
                                                                   etag=payments.etag, force=True))
            check("DeleteTeam force -> OK", code == grpc.StatusCode.OK, (code, msg))
            code, _, _ = call(c.GetObjective, pb.GetObjectiveRequest(name=pay.name))
            check("... its objectives are gone", code == grpc.StatusCode.NOT_FOUND, code)
            code, _, _ = call(c.GetKeyResult, pb.GetKeyResultRequest(name=kr_b.name))
            check("... with their key results", code == grpc.StatusCode.NOT_FOUND, code)
            cards = c.GetTeam(pb.GetTeamRequest(name="teams/cards"))
            check("... its sub-team moved up to its parent", cards.parent == "teams/company", cards)
            kept = c.GetObjective(pb.GetObjectiveRequest(name=cards_o.name))
            check("... the sub-team keeps its objective (aligned to nothing now)",
                  kept.team == "teams/cards" and kept.parent == "", kept)
            listed = c.ListKeyResults(pb.ListKeyResultsRequest(parent="objectives/-"))
            check("... and objectives/- no longer lists the deleted key results",
                  [k.name for k in listed.key_results] == [kr_e.name],
                  [k.name for k in listed.key_results])

            code, msg, _ = call(c.DeleteCycle, pb.DeleteCycleRequest(name="cycles/now"))
            check("DeleteCycle while objectives refer to it -> FAILED_PRECONDITION naming one",
                  code == grpc.StatusCode.FAILED_PRECONDITION and "objectives/" in msg, (code, msg))
            code, msg, _ = call(c.DeleteCycle, pb.DeleteCycleRequest(name="cycles/later"))
            check("DeleteCycle of an unused cycle -> OK", code == grpc.StatusCode.OK, (code, msg))
            code, _, _ = call(c.GetCycle, pb.GetCycleRequest(name="cycles/later"))
            check("... and it is gone", code == grpc.StatusCode.NOT_FOUND, code)

            # ---- Subscriptions and rules ----
            sub = c.CreateSubscription(pb.CreateSubscriptionRequest(
                subscription_id="hook", subscription=pb.Subscription(
                    target_url="http://127.0.0.1:9/okr", secret="s" * 32)))
            check("a subscription has an etag", sub.etag != "", sub)
            us = pb.UpdateSubscriptionRequest(subscription=pb.Subscription(
                name="subscriptions/hook", target_url="http://127.0.0.1:9/other",
                filter=pb.EventFilter(team="teams/search"), etag=sub.etag))
            us.update_mask.paths.extend(["target_url", "filter"])
            code, msg, got = call(c.UpdateSubscription, us)
            check("UpdateSubscription changes target_url and filter",
                  code == grpc.StatusCode.OK and got.target_url == "http://127.0.0.1:9/other" and
                  got.filter.team == "teams/search" and got.etag != sub.etag, (code, msg, got))
            code, msg, _ = call(c.UpdateSubscription, us)
            check("UpdateSubscription with a stale etag -> ABORTED",
                  code == grpc.StatusCode.ABORTED, (code, msg))
            inside = pb.UpdateSubscriptionRequest(subscription=pb.Subscription(
                name="subscriptions/hook", target_url="http://10.1.2.3/okr"))
            inside.update_mask.paths.append("target_url")
            code, msg, _ = call(c.UpdateSubscription, inside)
            check("UpdateSubscription to an inside address is refused like a create, naming "
                  "subscription.target_url",
                  code != grpc.StatusCode.OK and msg.startswith("subscription.target_url"), (code, msg))
            check("... and the subscription keeps its target",
                  c.GetSubscription(pb.GetSubscriptionRequest(name="subscriptions/hook")).target_url
                  == "http://127.0.0.1:9/other")

            rule = c.CreateRule(pb.CreateRuleRequest(rule_id="risk", rule=pb.Rule(
                parent="teams/search", condition=pb.RuleCondition(type=pb.HEALTH_AT_RISK),
                action=pb.RuleAction(type=pb.EMIT_EVENT))))
            check("a rule has an etag", rule.etag != "", rule)
            ur = pb.UpdateRuleRequest(rule=pb.Rule(
                name="rules/risk", condition=pb.RuleCondition(type=pb.BEHIND_PACE, threshold=0.2),
                action=pb.RuleAction(type=pb.CALL_SUBSCRIPTION, subscription="subscriptions/hook"),
                etag=rule.etag))
            ur.update_mask.paths.extend(["condition", "action"])
            code, msg, got = call(c.UpdateRule, ur)
            check("UpdateRule changes condition and action",
                  code == grpc.StatusCode.OK and got.condition.type == pb.BEHIND_PACE and
                  abs(got.condition.threshold - 0.2) < 1e-9 and
                  got.action.subscription == "subscriptions/hook" and got.parent == "teams/search",
                  (code, msg, got))
            code, msg, _ = call(c.UpdateRule, ur)
            check("UpdateRule with a stale etag -> ABORTED", code == grpc.StatusCode.ABORTED, (code, msg))
            bad_rule = pb.UpdateRuleRequest(rule=pb.Rule(
                name="rules/risk", condition=pb.RuleCondition(type=pb.BEHIND_PACE, threshold=3)))
            bad_rule.update_mask.paths.append("condition")
            code, msg, _ = call(c.UpdateRule, bad_rule)
            check("UpdateRule validated like CreateRule -> INVALID_ARGUMENT naming rule.condition",
                  code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("rule.condition"),
                  (code, msg))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        check("server exits 0 on SIGTERM", rc == 0, rc)
        if results.count(False):
            print(open(os.path.join(tmp, "server.log")).read()[-4000:])
        shutil.rmtree(tmp, ignore_errors=True)

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
