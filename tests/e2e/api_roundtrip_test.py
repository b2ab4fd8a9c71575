#!/usr/bin/python3
"""Every field of every resource round-trips through the real gRPC service, driven by the
messages' descriptors, so a field the server drops can never pass.

For each resource (teams, cycles, objectives, key results of each kind -- metric,
milestone, work items with a Jira scope and with a GitLab scope --, check-ins, work item
links, subscriptions, rules, API tokens) a table gives a valid, non-default value for
every settable field. The test sets them, creates the resource through okr-server, reads
it back with Get and List and compares field by field; then it updates every updatable
field with an explicit update_mask to other valid values and compares again.

Coverage is checked against the descriptors: every field of each resource message
(recursing into its sub-messages) must be set by the tables or listed in OUTPUT_ONLY /
INPUT_ONLY below. A field added to the proto that the tables do not set fails the test
until someone sets it (and so proves the server keeps it) or declares it output only.

Also covers: etags (stored, new after an update, stale ones ABORTED), the API token secret
only at creation, and the filter/order_by fields of the List requests.

Usage: api_roundtrip_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import secrets
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402

# Fields the server sets (never taken from a request), per resource message, as dotted
# paths. Nothing else may be left unset by the tables below.
OUTPUT_ONLY = {
    "Team": {"etag", "create_time", "update_time"},
    "Cycle": {"etag", "create_time", "update_time"},
    "Objective": {"state", "progress", "expected_progress", "health", "etag", "create_time",
                  "update_time", "agreements", "score", "outcome", "reopen_reason"},
    "KeyResult": {"progress", "raw_progress", "expected_progress", "health", "etag",
                  "create_time", "update_time", "score", "score_reason",
                  "work_items.item_count", "work_items.done_count", "work_items.total_weight",
                  "work_items.done_weight", "work_items.excluded_count",
                  "work_items.freshness"},
    "CheckIn": {"name", "create_time"},
    "WorkItemLink": {"name", "create_time", "work_item.update_time", "work_item.credit",
                     "work_item.status", "work_item.excluded", "work_item.exclusion_reason"},
    "Subscription": {"state", "delivered_sequence", "last_error", "failing_since",
                     "create_time", "etag"},
    "Rule": {"create_time", "etag"},
    "ApiToken": {"name", "secret", "create_time"},
}
# Fields a request sets that are never returned (checked by their effect elsewhere).
INPUT_ONLY = {
    "Subscription": {"secret"},  # the HMAC key: tests/server/events_process_test.cc checks it
}
# Fields the server fills from the caller rather than the request: expected value.
FROM_CALLER = {
    ("CheckIn", "author"): "admin",  # --auth=tokens: the calling token's display_name
}


def ts(text):
    from google.protobuf import timestamp_pb2
    t = timestamp_pb2.Timestamp()
    t.FromJsonString(text)
    return t


# ---------------------------------------------------------------------------------------
# Descriptor walking

def is_leaf(field):
    """Scalars, enums, repeated fields and well-known messages (Timestamp) are compared
    as a whole; other singular messages are walked into."""
    return (field.message_type is None or field.label == field.LABEL_REPEATED
            or field.message_type.full_name.startswith("google.protobuf."))


def leaf_paths(descriptor, prefix=""):
    out = []
    for field in descriptor.fields:
        path = prefix + field.name
        if is_leaf(field):
            out.append(path)
        else:
            out += [path] + leaf_paths(field.message_type, path + ".")
    return out


def field_of(descriptor, path):
    """The FieldDescriptor at a dotted path, or None."""
    field = None
    for part in path.split("."):
        if descriptor is None:
            return None
        field = descriptor.fields_by_name.get(part)
        if field is None:
            return None
        descriptor = field.message_type
    return field


def set_path(msg, path, value):
    *parents, last = path.split(".")
    for part in parents:
        msg = getattr(msg, part)
    field = msg.DESCRIPTOR.fields_by_name[last]
    if field.label == field.LABEL_REPEATED:
        getattr(msg, last).extend(value)
    elif field.message_type is not None:
        getattr(msg, last).CopyFrom(value)
    else:
        setattr(msg, last, value)


def get_path(msg, path):
    *parents, last = path.split(".")
    for part in parents:
        msg = getattr(msg, part)
    value = getattr(msg, last)
    field = msg.DESCRIPTOR.fields_by_name[last]
    return list(value) if field.label == field.LABEL_REPEATED else value


def build(cls, values):
    msg = cls()
    for path, value in values.items():
        set_path(msg, path, value)
    return msg


def same_read(a, b):
    """Two reads of one resource are equal but for what depends on the time of reading."""
    if a is None or b is None:
        return a is b
    a, b = type(a).FromString(a.SerializeToString()), type(b).FromString(b.SerializeToString())
    for msg in (a, b):
        for field in ("expected_progress", "health"):
            if field in msg.DESCRIPTOR.fields_by_name:
                msg.ClearField(field)
    return a == b


def mismatches(got, expected):
    """Paths of `expected` ({path: value}) whose value in `got` differs."""
    out = []
    for path, want in expected.items():
        have = get_path(got, path)
        if have != want:
            out.append(f"{path}: sent {want!r}, got {have!r}")
    return out


# ---------------------------------------------------------------------------------------
# The resources

class Coverage:
    """The paths the tables set, per resource message."""

    def __init__(self):
        self.set = {}

    def add(self, message, paths):
        self.set.setdefault(message, set()).update(paths)


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
            coverage = Coverage()

            def mask(paths):
                return field_mask_pb2.FieldMask(paths=list(paths))

            def verify(label, message, name, values, created, get, listed):
                """created/get/listed: the create (or update) response, the Get result and
                the List entry of the same resource; every value set must come back."""
                expected = dict(values)
                for (msg_name, path), want in FROM_CALLER.items():
                    if msg_name == message and path in expected:
                        expected[path] = want
                for path in INPUT_ONLY.get(message, ()):
                    expected.pop(path, None)
                if name is not None:
                    expected["name"] = name
                for how, got in (("response", created), ("Get", get), ("List", listed)):
                    diff = mismatches(got, expected) if got is not None else ["not found"]
                    checks.check(f"{label}: {how} carries every field set", not diff,
                                 "; ".join(diff))
                checks.check(f"{label}: Get and List agree", same_read(get, listed), (get, listed))

            def find(items, name):
                return next((x for x in items if x.name == name), None)

            # ---- Teams
            c.CreateTeam(pb.CreateTeamRequest(team_id="company", team=pb.Team(display_name="Co")))
            c.CreateTeam(pb.CreateTeamRequest(team_id="group", team=pb.Team(display_name="Group",
                                                                              parent="teams/company")))

            def team_roundtrip(team_id, create, update):
                name = f"teams/{team_id}"
                made = c.CreateTeam(pb.CreateTeamRequest(team_id=team_id, team=build(pb.Team, create)))
                verify(f"CreateTeam {team_id}", "Team", name, create, made,
                       c.GetTeam(pb.GetTeamRequest(name=name)),
                       find(c.ListTeams(pb.ListTeamsRequest(page_size=1000)).teams, name))
                sent = build(pb.Team, update)
                sent.name = name
                out = c.UpdateTeam(pb.UpdateTeamRequest(team=sent, update_mask=mask(update)))
                got = c.GetTeam(pb.GetTeamRequest(name=name))
                verify(f"UpdateTeam {team_id}", "Team", name, update, out, got,
                       find(c.ListTeams(pb.ListTeamsRequest(page_size=1000)).teams, name))
                checks.check(f"UpdateTeam {team_id}: the etag is new and stored",
                             out.etag == got.etag and got.etag != made.etag, (made.etag, got.etag))
                coverage.add("Team", list(create) + list(update))

            team_roundtrip("payments",
                           {"display_name": "Payments", "parent": "teams/company",
                            "jira_project_key": "PAY", "gitlab_project": "acme/payments",
                            "jira_issue_type": "Bug", "github_repo": "acme/payments"},
                           {"display_name": "Payments EU", "parent": "teams/group",
                            "jira_project_key": "PAYEU", "gitlab_project": "acme/payments-eu",
                            "jira_issue_type": "Story", "github_repo": "acme-eu/payments.eu"})

            # ---- Cycles
            c.CreateCycle(pb.CreateCycleRequest(cycle_id="q1", cycle=pb.Cycle(
                display_name="Q1", start_time=ts("2027-01-01T00:00:00Z"),
                end_time=ts("2027-04-01T00:00:00Z"))))
            create = {"display_name": "2026 Q4", "start_time": ts("2026-10-01T00:00:00Z"),
                      "end_time": ts("2027-01-01T00:00:00Z")}
            made = c.CreateCycle(pb.CreateCycleRequest(cycle_id="q4", cycle=build(pb.Cycle, create)))
            verify("CreateCycle", "Cycle", "cycles/q4", create, made,
                   c.GetCycle(pb.GetCycleRequest(name="cycles/q4")),
                   find(c.ListCycles(pb.ListCyclesRequest(page_size=1000)).cycles, "cycles/q4"))
            update = {"display_name": "Q4 (long)", "start_time": ts("2026-09-15T00:00:00Z"),
                      "end_time": ts("2027-01-15T12:30:00Z")}
            sent = build(pb.Cycle, update)
            sent.name = "cycles/q4"
            out = c.UpdateCycle(pb.UpdateCycleRequest(cycle=sent, update_mask=mask(update)))
            verify("UpdateCycle", "Cycle", "cycles/q4", update, out,
                   c.GetCycle(pb.GetCycleRequest(name="cycles/q4")),
                   find(c.ListCycles(pb.ListCyclesRequest(page_size=1000)).cycles, "cycles/q4"))
            coverage.add("Cycle", list(create) + list(update))

            # ---- Objectives (with the objectives and key results they refer to)
            def objective(oid, team, title, cycle="cycles/q4"):
                return c.CreateObjective(pb.CreateObjectiveRequest(objective_id=oid, objective=pb.Objective(
                    title=title, team=team, cycle=cycle)))

            objective("root", "teams/company", "Grow")
            objective("root2", "teams/company", "Grow more", cycle="cycles/q1")
            objective("other", "teams/company", "Be reliable")
            objective("other2", "teams/company", "Be fast", cycle="cycles/q1")
            objective("dep", "teams/company", "Keep the ledger")
            objective("dep2", "teams/company", "Keep the ledger longer", cycle="cycles/q1")
            for parent, kid in (("objectives/other", "up"), ("objectives/other2", "fast")):
                c.CreateKeyResult(pb.CreateKeyResultRequest(parent=parent, key_result_id=kid, key_result=pb.KeyResult(
                    title=kid, milestone=pb.MilestoneKeyResult())))
            create = {"title": "Pay fast", "description": "Every wallet, one tap", "team": "teams/payments",
                      "cycle": "cycles/q4", "parent": "objectives/root", "kind": pb.ASPIRATIONAL,
                      "progress_source": pb.KEY_RESULTS_AND_CHILDREN, "weight": 2.5,
                      "contributes_to": ["objectives/other/keyResults/up"], "depends_on": ["objectives/dep"]}
            made = c.CreateObjective(pb.CreateObjectiveRequest(objective_id="o1", objective=build(pb.Objective, create)))
            verify("CreateObjective", "Objective", "objectives/o1", create, made,
                   c.GetObjective(pb.GetObjectiveRequest(name="objectives/o1")),
                   find(c.ListObjectives(pb.ListObjectivesRequest(page_size=1000)).objectives, "objectives/o1"))
            update = {"title": "Pay faster", "description": "Wallets first", "team": "teams/group",
                      "cycle": "cycles/q1", "parent": "objectives/root2", "kind": pb.COMMITTED,
                      "progress_source": pb.KEY_RESULTS, "weight": 0.5,
                      "contributes_to": ["objectives/other2/keyResults/fast"], "depends_on": ["objectives/dep2"]}
            sent = build(pb.Objective, update)
            sent.name = "objectives/o1"
            out = c.UpdateObjective(pb.UpdateObjectiveRequest(objective=sent, update_mask=mask(update)))
            verify("UpdateObjective", "Objective", "objectives/o1", update, out,
                   c.GetObjective(pb.GetObjectiveRequest(name="objectives/o1")),
                   find(c.ListObjectives(pb.ListObjectivesRequest(page_size=1000)).objectives, "objectives/o1"))
            coverage.add("Objective", list(create) + list(update))
            c.UpdateTeam(pb.UpdateTeamRequest(team=pb.Team(name="teams/group", jira_project_key="GRP"),
                                              update_mask=mask(["jira_project_key"])))

            # ---- Key results of each kind
            def key_result_roundtrip(kid, create, update):
                name = f"objectives/o1/keyResults/{kid}"
                made = c.CreateKeyResult(pb.CreateKeyResultRequest(
                    parent="objectives/o1", key_result_id=kid, key_result=build(pb.KeyResult, create)))

                def listed():
                    return find(c.ListKeyResults(pb.ListKeyResultsRequest(
                        parent="objectives/o1", page_size=1000)).key_results, name)
                verify(f"CreateKeyResult {kid}", "KeyResult", name, create, made,
                       c.GetKeyResult(pb.GetKeyResultRequest(name=name)), listed())
                sent = build(pb.KeyResult, update)
                sent.name = name
                out = c.UpdateKeyResult(pb.UpdateKeyResultRequest(key_result=sent, update_mask=mask(update)))
                verify(f"UpdateKeyResult {kid}", "KeyResult", name, update, out,
                       c.GetKeyResult(pb.GetKeyResultRequest(name=name)), listed())
                coverage.add("KeyResult", list(create) + list(update))

            key_result_roundtrip(
                "metric",
                {"title": "Drop-off", "weight": 2.0, "metric.start_value": 40.0, "metric.target_value": 20.0,
                 "metric.current_value": 35.0, "metric.unit": "%", "metric.metric_key": "checkout.dropoff"},
                {"title": "Drop-off down", "weight": 3.0, "metric.start_value": 45.0, "metric.target_value": 15.0,
                 "metric.current_value": 30.0, "metric.unit": "pct", "metric.metric_key": "checkout.drop"})
            key_result_roundtrip(
                "milestone",
                {"title": "Wallets live", "weight": 0.5, "milestone.done": True},
                {"title": "Wallets live in EU", "weight": 1.5, "milestone.done": False})
            key_result_roundtrip(
                "jira",
                {"title": "Latency epics", "weight": 1.25,
                 "work_items.jira_jql": "project = OKRX AND labels = checkout-latency"},
                {"title": "Latency epics (all)", "weight": 0.75,
                 "work_items.jira_jql": "project in (OKRX, PAY) AND labels = latency"})
            key_result_roundtrip(
                "gitlab",
                {"title": "NPS issues", "weight": 4.0, "work_items.gitlab_project": "acme/checkout",
                 "work_items.gitlab_labels": ["nps", "q4"], "work_items.gitlab_milestone": "2026.4"},
                {"title": "NPS issues (sub)", "weight": 2.0, "work_items.gitlab_project": "acme/sub/checkout",
                 "work_items.gitlab_labels": ["nps-2"], "work_items.gitlab_milestone": "2027.1"})
            key_result_roundtrip(
                "github",
                {"title": "Onboarding issues", "weight": 1.5, "work_items.github_repo": "acme/app",
                 "work_items.github_labels": ["onboarding", "q4"]},
                {"title": "Onboarding issues (web)", "weight": 2.5,
                 "work_items.github_repo": "acme/web", "work_items.github_labels": ["onboarding-web"]})

            # ---- Check-ins (append-only)
            create = {"value": 30.0, "confidence": 0.7, "note": "Wallets", "author": "someone else"}
            parent = "objectives/o1/keyResults/metric"
            made = c.CreateCheckIn(pb.CreateCheckInRequest(parent=parent, check_in=build(pb.CheckIn, create)))
            verify("CreateCheckIn", "CheckIn", made.name, create, made,
                   c.GetCheckIn(pb.GetCheckInRequest(name=made.name)),
                   find(c.ListCheckIns(pb.ListCheckInsRequest(parent=parent, page_size=1000)).check_ins, made.name))
            coverage.add("CheckIn", create)

            # ---- Work item links; the item's fields through UpdateWorkItem
            parent = "objectives/o1/keyResults/jira"
            create = {"work_item.tracker": pb.JIRA, "work_item.key": "OKRX-101",
                      "work_item.title": "One-click pay", "work_item.url": "https://jira.example.com/browse/OKRX-101",
                      "work_item.done": True, "work_item.weight": 3.0}
            sent = build(pb.WorkItemLink, create)
            made = c.LinkWorkItem(pb.LinkWorkItemRequest(parent=parent, work_item=sent.work_item))

            def link_views(name):
                listed = find(c.ListWorkItemLinks(pb.ListWorkItemLinksRequest(parent=parent)).work_item_links, name)
                targets = c.FindWorkItemLinks(pb.FindWorkItemLinksRequest(tracker=pb.JIRA, key="OKRX-101")).targets
                found = next((t.link for t in targets if t.link.name == name), None)
                return listed, found
            listed, found = link_views(made.name)
            verify("LinkWorkItem", "WorkItemLink", made.name, create, made, found, listed)
            update = {"work_item.title": "One-click pay (EU)", "work_item.url": "https://jira.example.com/browse/OKRX-102",
                      "work_item.done": False, "work_item.weight": 5.0}
            sent = build(pb.WorkItemLink, update)
            sent.work_item.tracker, sent.work_item.key = pb.JIRA, "OKRX-101"
            item = c.UpdateWorkItem(pb.UpdateWorkItemRequest(
                work_item=sent.work_item, update_mask=mask(p.split(".", 1)[1] for p in update)))
            listed, found = link_views(made.name)
            verify("UpdateWorkItem", "WorkItemLink", made.name, update,
                   pb.WorkItemLink(name=made.name, work_item=item), found, listed)
            coverage.add("WorkItemLink", list(create) + list(update))

            # ---- Subscriptions
            create = {"target_url": "http://127.0.0.1:9/a", "secret": "0123456789abcdef",
                      "filter.objective": "objectives/o1", "filter.team": "teams/payments",
                      "filter.cycle": "cycles/q4", "filter.event_types": [pb.PROGRESS_CHANGED]}
            name = "subscriptions/s1"
            made = c.CreateSubscription(pb.CreateSubscriptionRequest(
                subscription_id="s1", subscription=build(pb.Subscription, create)))

            def sub_listed():
                return find(c.ListSubscriptions(pb.ListSubscriptionsRequest(page_size=1000)).subscriptions, name)
            verify("CreateSubscription", "Subscription", name, create, made,
                   c.GetSubscription(pb.GetSubscriptionRequest(name=name)), sub_listed())
            checks.check("the subscription secret is never returned", not made.secret and
                         not c.GetSubscription(pb.GetSubscriptionRequest(name=name)).secret)
            update = {"target_url": "http://127.0.0.1:9/b", "secret": "fedcba9876543210fedcba",
                      "filter.objective": "objectives/root", "filter.team": "teams/company",
                      "filter.cycle": "cycles/q1", "filter.event_types": [pb.PROGRESS_CHANGED, pb.HEALTH_CHANGED]}
            sent = build(pb.Subscription, update)
            sent.name, sent.etag = name, made.etag
            out = c.UpdateSubscription(pb.UpdateSubscriptionRequest(
                subscription=sent, update_mask=mask(["target_url", "secret", "filter"])))
            got = c.GetSubscription(pb.GetSubscriptionRequest(name=name))
            verify("UpdateSubscription", "Subscription", name, update, out, got, sub_listed())
            checks.check("subscription etag: new after the update, stored",
                         got.etag == out.etag and got.etag != made.etag, (made.etag, out.etag, got.etag))
            code, _ = okr_e2e.code_of(c.UpdateSubscription, pb.UpdateSubscriptionRequest(
                subscription=pb.Subscription(name=name, target_url="http://127.0.0.1:9/c", etag=made.etag),
                update_mask=mask(["target_url"])))
            checks.check("a stale subscription etag is ABORTED", code.name == "ABORTED", code)
            coverage.add("Subscription", list(create) + list(update))

            # ---- Rules (the parent is fixed after create; one per parent kind)
            def rules_listed(name):
                return find(c.ListRules(pb.ListRulesRequest(page_size=1000)).rules, name)
            for rid, create, update in (
                    ("r1",
                     {"parent": "objectives/o1", "condition.type": pb.BEHIND_PACE, "condition.threshold": 0.2,
                      "action.type": pb.CALL_SUBSCRIPTION, "action.subscription": "subscriptions/s1"},
                     {"condition.type": pb.NO_CHECK_IN, "condition.days": 14,
                      "action.type": pb.OPEN_ISSUE, "action.tracker": pb.JIRA}),
                    ("r2",
                     {"parent": "teams/group", "condition.type": pb.LOW_CONFIDENCE, "condition.threshold": 0.4,
                      "action.type": pb.EMIT_EVENT},
                     {"condition.type": pb.HEALTH_AT_RISK, "action.type": pb.CALL_SUBSCRIPTION,
                      "action.subscription": "subscriptions/s1"})):
                name = f"rules/{rid}"
                made = c.CreateRule(pb.CreateRuleRequest(rule_id=rid, rule=build(pb.Rule, create)))
                verify(f"CreateRule {rid}", "Rule", name, create, made,
                       c.GetRule(pb.GetRuleRequest(name=name)), rules_listed(name))
                sent = build(pb.Rule, update)
                sent.name, sent.parent, sent.etag = name, create["parent"], made.etag
                out = c.UpdateRule(pb.UpdateRuleRequest(rule=sent, update_mask=mask(["condition", "action"])))
                got = c.GetRule(pb.GetRuleRequest(name=name))
                expected = dict(update, parent=create["parent"])
                verify(f"UpdateRule {rid}", "Rule", name, expected, out, got, rules_listed(name))
                checks.check(f"rule {rid} etag: new after the update, stored",
                             got.etag == out.etag and got.etag != made.etag)
                coverage.add("Rule", list(create) + list(update))

            # ---- API tokens (no update); the secret only in the create response
            create = {"display_name": "Planning bot", "role": pb.EDITOR,
                      "teams": ["teams/payments", "teams/company"]}
            made = c.CreateApiToken(pb.CreateApiTokenRequest(api_token=build(pb.ApiToken, create), api_token_id="bot"))
            got = c.GetApiToken(pb.GetApiTokenRequest(name="apiTokens/bot"))
            verify("CreateApiToken", "ApiToken", "apiTokens/bot", create, made, got,
                   find(c.ListApiTokens(pb.ListApiTokensRequest()).api_tokens, "apiTokens/bot"))
            checks.check("the secret is in the create response only", len(made.secret) >= 43 and not got.secret)
            checks.check("create_time round-trips", made.create_time == got.create_time and got.create_time.seconds)
            coverage.add("ApiToken", create)

            # ---- Coverage: every field of every resource is set above or declared
            for message in OUTPUT_ONLY:
                descriptor = getattr(pb, message).DESCRIPTOR
                declared = OUTPUT_ONLY[message] | INPUT_ONLY.get(message, set())
                unknown = sorted(p for p in declared | coverage.set.get(message, set())
                                 if field_of(descriptor, p) is None)
                checks.check(f"{message}: the tables name only fields that exist", not unknown, unknown)
                covered = declared | coverage.set.get(message, set()) | {"name"}
                missing = []
                for path in leaf_paths(descriptor):
                    field = field_of(descriptor, path)
                    if not is_leaf(field):
                        continue  # walked into: its fields are checked one by one
                    parts = path.split(".")
                    if not any(".".join(parts[:i]) in covered for i in range(1, len(parts) + 1)):
                        missing.append(path)
                checks.check(f"{message}: every field is set by the test or listed output only",
                             not missing, f"neither set nor output only: {missing}")

            # ---- List request fields: filter, order_by and the objectives/- parent
            listed = c.ListKeyResults(pb.ListKeyResultsRequest(
                parent="objectives/-", filter='team = "teams/group" AND cycle = "cycles/q1"',
                order_by="progress desc"))
            names = sorted(k.name for k in listed.key_results)
            want = sorted(f"objectives/o1/keyResults/{k}" for k in ("metric", "milestone", "jira", "gitlab", "github"))
            checks.check("ListKeyResults filter/order_by/objectives/- are honoured", names == want, names)
            progress = [k.progress for k in listed.key_results]
            checks.check("ListKeyResults order_by progress desc", progress == sorted(progress, reverse=True),
                         progress)
            listed = c.ListObjectives(pb.ListObjectivesRequest(filter='team = "teams/payments"'))
            checks.check("ListObjectives filter is honoured", len(listed.objectives) == 0, listed)
            code, details = okr_e2e.code_of(c.ListObjectives, pb.ListObjectivesRequest(filter="bogus ~ 1"))
            checks.check("a bad filter names `filter`", code.name == "INVALID_ARGUMENT" and "filter" in details,
                         (code, details))
    checks.finish()


if __name__ == "__main__":
    main()
