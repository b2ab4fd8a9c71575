#!/usr/bin/python3
"""Every field this API version added or changed round-trips through the real gRPC
service: set it, create or update through okr-server, read it back with Get, compare.
Fields are compared by walking the messages' descriptors (every field set in the request
must come back equal), so a field the server drops fails here.

Covers ApiToken (CreateApiToken / GetApiToken / ListApiTokens), UpdateTeam, UpdateCycle,
CreateCheckIn -> GetCheckIn, UpdateSubscription and UpdateRule with their etags, and the
filter/order_by fields of the List requests.

Usage: api_roundtrip_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import secrets
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402


def differences(sent, got, prefix=""):
    """Fields set in `sent` whose value in `got` differs (recursing into messages)."""
    out = []
    for field, value in sent.ListFields():
        name = prefix + field.name
        other = getattr(got, field.name)
        if field.message_type is not None and field.label != field.LABEL_REPEATED:
            out += differences(value, other, name + ".")
        elif list(value) if field.label == field.LABEL_REPEATED else value != other:
            if field.label == field.LABEL_REPEATED and list(value) == list(other):
                continue
            out.append(f"{name}: sent {value!r}, got {other!r}")
    return out


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    checks = okr_e2e.Checks()
    admin = secrets.token_urlsafe(32)
    with okr_e2e.temp_dir("okr-roundtrip-") as tmp:
        pb = okr_e2e.build_messages(proto_root, tmp)
        from google.protobuf import field_mask_pb2
        with okr_e2e.start_server(binary, tmp, args=["--outbound-allow-cidrs=127.0.0.1/32"],
                                  env={"OKR_ADMIN_TOKEN": admin}) as server:
            c = okr_e2e.Client(server.channel(), pb, token=admin)

            def same(name, sent, got):
                diff = differences(sent, got)
                checks.check(name, not diff, "; ".join(diff))

            # Teams: every field UpdateTeam may set comes back from GetTeam.
            c.CreateTeam(pb.CreateTeamRequest(team_id="company", team=pb.Team(display_name="Co")))
            c.CreateTeam(pb.CreateTeamRequest(team_id="payments", team=pb.Team(display_name="P")))
            team = pb.Team(name="teams/payments", display_name="Payments", parent="teams/company",
                           jira_project_key="PAY", gitlab_project="acme/payments")
            updated = c.UpdateTeam(pb.UpdateTeamRequest(team=team, update_mask=field_mask_pb2.FieldMask(
                paths=["display_name", "parent", "jira_project_key", "gitlab_project"])))
            got = c.GetTeam(pb.GetTeamRequest(name="teams/payments"))
            same("UpdateTeam fields round-trip", team, got)
            checks.check("UpdateTeam etag is the stored one", updated.etag == got.etag and got.etag,
                         (updated.etag, got.etag))

            # Cycles.
            c.CreateCycle(pb.CreateCycleRequest(cycle_id="q4", cycle=pb.Cycle(
                display_name="Q", start_time={"seconds": 1790000000}, end_time={"seconds": 1798000000})))
            cycle = pb.Cycle(name="cycles/q4", display_name="2026 Q4")
            cycle.start_time.FromJsonString("2026-10-01T00:00:00Z")
            cycle.end_time.FromJsonString("2027-01-01T00:00:00Z")
            c.UpdateCycle(pb.UpdateCycleRequest(cycle=cycle, update_mask=field_mask_pb2.FieldMask(
                paths=["display_name", "start_time", "end_time"])))
            same("UpdateCycle fields round-trip", cycle, c.GetCycle(pb.GetCycleRequest(name="cycles/q4")))

            # Check-ins: GetCheckIn answers what CreateCheckIn stored.
            o = c.CreateObjective(pb.CreateObjectiveRequest(objective_id="o1", objective=pb.Objective(
                title="Pay fast", team="teams/payments", cycle="cycles/q4")))
            kr = c.CreateKeyResult(pb.CreateKeyResultRequest(parent=o.name, key_result_id="k1",
                                   key_result=pb.KeyResult(title="Drop-off", metric=pb.MetricKeyResult(
                                       start_value=40, target_value=20, unit="%"))))
            sent = pb.CheckIn(value=30, confidence=0.7, note="Wallets")
            created = c.CreateCheckIn(pb.CreateCheckInRequest(parent=kr.name, check_in=sent))
            fetched = c.GetCheckIn(pb.GetCheckInRequest(name=created.name))
            same("CreateCheckIn -> GetCheckIn round-trips the fields sent", sent, fetched)
            checks.check("GetCheckIn equals the created check-in", fetched == created, (fetched, created))
            checks.check("the check-in author is the token's name", fetched.author == "admin", fetched.author)

            # API tokens: display_name, role, teams round-trip; the secret only at creation.
            token = pb.ApiToken(display_name="Planning bot", role=pb.EDITOR,
                                teams=["teams/payments", "teams/company"])
            made = c.CreateApiToken(pb.CreateApiTokenRequest(api_token=token, api_token_id="bot"))
            got = c.GetApiToken(pb.GetApiTokenRequest(name="apiTokens/bot"))
            same("CreateApiToken -> GetApiToken round-trips every settable field", token, got)
            listed = [t for t in c.ListApiTokens(pb.ListApiTokensRequest()).api_tokens if t.name == "apiTokens/bot"]
            checks.check("ListApiTokens carries the same token", listed == [got], listed)
            checks.check("the secret is in the create response only", len(made.secret) >= 43 and not got.secret)
            checks.check("create_time round-trips", made.create_time == got.create_time and got.create_time.seconds)

            # Subscriptions: every field UpdateSubscription may set; the etag moves with it.
            sub = c.CreateSubscription(pb.CreateSubscriptionRequest(subscription_id="s1", subscription=pb.Subscription(
                target_url="http://127.0.0.1:9/a", secret="0123456789abcdef")))
            change = pb.Subscription(name="subscriptions/s1", target_url="http://127.0.0.1:9/b",
                                     etag=sub.etag, filter=pb.EventFilter(
                                         objective="objectives/o1", team="teams/payments", cycle="cycles/q4",
                                         event_types=[pb.PROGRESS_CHANGED, pb.HEALTH_CHANGED]))
            out = c.UpdateSubscription(pb.UpdateSubscriptionRequest(subscription=change, update_mask=field_mask_pb2.FieldMask(
                paths=["target_url", "filter"])))
            got = c.GetSubscription(pb.GetSubscriptionRequest(name="subscriptions/s1"))
            change.etag = got.etag
            same("UpdateSubscription fields round-trip", change, got)
            checks.check("subscription etag: new after the update, stored", got.etag == out.etag and got.etag != sub.etag,
                         (sub.etag, out.etag, got.etag))
            code, _ = okr_e2e.code_of(c.UpdateSubscription, pb.UpdateSubscriptionRequest(
                subscription=pb.Subscription(name="subscriptions/s1", target_url="http://127.0.0.1:9/c", etag=sub.etag),
                update_mask=field_mask_pb2.FieldMask(paths=["target_url"])))
            checks.check("a stale subscription etag is ABORTED", code.name == "ABORTED", code)

            # Rules.
            rule = c.CreateRule(pb.CreateRuleRequest(rule_id="r1", rule=pb.Rule(
                parent="objectives/o1", condition=pb.RuleCondition(type=pb.BEHIND_PACE, threshold=0.2),
                action=pb.RuleAction(type=pb.EMIT_EVENT))))
            change = pb.Rule(name="rules/r1", parent="objectives/o1", etag=rule.etag,
                             condition=pb.RuleCondition(type=pb.NO_CHECK_IN, days=14),
                             action=pb.RuleAction(type=pb.CALL_SUBSCRIPTION, subscription="subscriptions/s1"))
            out = c.UpdateRule(pb.UpdateRuleRequest(rule=change, update_mask=field_mask_pb2.FieldMask(
                paths=["condition", "action"])))
            got = c.GetRule(pb.GetRuleRequest(name="rules/r1"))
            change.etag = got.etag
            same("UpdateRule fields round-trip", change, got)
            checks.check("rule etag: new after the update, stored", got.etag == out.etag and got.etag != rule.etag)

            # List request fields: filter, order_by and the objectives/- parent reach the server.
            listed = c.ListKeyResults(pb.ListKeyResultsRequest(
                parent="objectives/-", filter='team = "teams/payments" AND cycle = "cycles/q4"',
                order_by="progress desc"))
            checks.check("ListKeyResults filter/order_by/objectives/- are honoured",
                         [k.name for k in listed.key_results] == [kr.name], listed)
            listed = c.ListObjectives(pb.ListObjectivesRequest(filter='team = "teams/company"'))
            checks.check("ListObjectives filter is honoured", len(listed.objectives) == 0, listed)
            code, details = okr_e2e.code_of(c.ListObjectives, pb.ListObjectivesRequest(filter="bogus ~ 1"))
            checks.check("a bad filter names `filter`", code.name == "INVALID_ARGUMENT" and "filter" in details,
                         (code, details))
    checks.finish()


if __name__ == "__main__":
    main()
