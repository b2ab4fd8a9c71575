#!/usr/bin/python3
"""End-to-end test of access control (issue #13) through the real okr-server binary: API
tokens with roles (VIEWER / EDITOR scoped to teams / ADMIN), the bootstrap admin token,
--auth=none, the audit log lines, and that no secret is ever logged. A Python gRPC client
built from proto/okr/v1/okr_service.proto (messages from protoc, calls through grpcio's
generic unary-unary / unary-stream APIs; the scaffolding is okr_e2e.py's).

Usage: auth_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import base64
import importlib.util
import os
import re
import secrets
import stat
import sys
import time

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, HERE)
import okr_e2e  # noqa: E402
from okr_e2e import Client, http_get, start_server  # noqa: E402

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
INVALID = grpc.StatusCode.INVALID_ARGUMENT

TESTING_PROTO_ROOT = os.path.join(HERE, "..", "testing")  # grpc/health/v1/health.proto


# ---------------------------------------------------------------------------------------
# Harness

def build_messages(proto_root, out_dir):
    okr_service_pb2 = okr_e2e.build_messages(proto_root, out_dir)
    # The health proto's package is grpc.health.v1, which would clash with grpcio's `grpc`
    # package on sys.path: generate it into its own directory and load it by file.
    health_dir = os.path.join(out_dir, "health")
    okr_e2e.protoc(TESTING_PROTO_ROOT, health_dir, "grpc/health/v1/health.proto")
    spec = importlib.util.spec_from_file_location(
        "okr_e2e_health_pb2", os.path.join(health_dir, "grpc", "health", "v1", "health_pb2.py"))
    health_pb2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(health_pb2)
    return okr_service_pb2, health_pb2


def outcome(client, method, req):
    """(code, details, response) of one call; a stream's response is its first message."""
    return okr_e2e.outcome(getattr(client, method), req)


SERVER_ARGS = ["--sqlite-sync=normal"]


def ts(text):
    from google.protobuf import timestamp_pb2
    t = timestamp_pb2.Timestamp()
    t.FromJsonString(text)
    return t


# ---------------------------------------------------------------------------------------
# The main server: OKR_ADMIN_TOKEN, data, the role matrix, audit lines.

class MainScenario:
    def __init__(self, r, pb, health_pb2, binary, tmp):
        self.r, self.pb, self.health_pb2 = r, pb, health_pb2
        self.binary, self.tmp = binary, tmp
        self.admin_secret = secrets.token_urlsafe(32)
        self.secrets_seen = [self.admin_secret]
        self.tokens = {}  # id -> ApiToken (with secret) as CreateApiToken returned it
        self.denials = []  # (method, resource or None) of every PERMISSION_DENIED expected

    # -- helpers --

    def run_rows(self, who, client, rows):
        """rows: (description, method, request, expected code, message fragment, resource).
        `resource` (or None) is what the audit line of a denial must name."""
        for desc, method, req, want, fragment, resource in rows:
            code, msg, _ = outcome(client, method, req)
            ok = code == want and (not fragment or fragment in msg)
            self.r.check(f"{who}: {desc} -> {want.name}"
                         + (f" naming '{fragment}'" if fragment else ""), ok, (code, msg))
            if want == DENIED:
                self.denials.append((method, resource))

    def run(self):
        pb, r = self.pb, self.r
        db = os.path.join(self.tmp, "okr.db")
        # Subscriptions need a target the outbound guard accepts without DNS: loopback,
        # explicitly allowed.
        self.server = start_server(self.binary, self.tmp,
                                   SERVER_ARGS + ["--outbound-allow-cidrs=127.0.0.1/32"],
                                   env={"OKR_ADMIN_TOKEN": self.admin_secret}, name="main")
        self.db = db
        try:
            with self.server.channel() as channel:
                self.channel = channel
                self.anon = Client(channel, pb)
                self.admin = self.anon.bearer(self.admin_secret)
                r.section("main: unauthenticated endpoints", self.unauthenticated_endpoints)
                r.section("main: setup with the bootstrap admin", self.setup)
                r.section("main: CreateApiToken and its validation", self.create_tokens)
                r.section("main: authentication failures", self.authentication_failures)
                r.section("main: VIEWER", self.viewer)
                r.section("main: EDITOR on teams/payments, denied", self.editor_denied)
                r.section("main: denials changed nothing", self.denials_changed_nothing)
                r.section("main: EDITOR on teams/payments, allowed", self.editor_allowed)
                r.section("main: EDITOR on every team", self.editor_all_teams)
                r.section("main: ADMIN", self.admin_everything)
                r.section("main: DeleteApiToken revokes at once", self.revoke)
        finally:
            rc = self.server.stop()
        r.check("main server exits 0 on SIGTERM", rc == 0, rc)
        r.section("main: audit log lines", self.audit_lines)
        r.check("main: no <db>.admin-token file is written when OKR_ADMIN_TOKEN is set",
                not os.path.exists(db + ".admin-token"))

    def unauthenticated_endpoints(self):
        r, hp = self.r, self.health_pb2
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=lambda m: m.SerializeToString(),
                                         response_deserializer=hp.HealthCheckResponse.FromString)
        try:
            resp = check(hp.HealthCheckRequest(), timeout=10)
            r.check("Health/Check without a token -> SERVING",
                    resp.status == hp.HealthCheckResponse.SERVING, resp)
        except grpc.RpcError as e:
            r.check("Health/Check without a token -> SERVING", False, (e.code(), e.details()))

        # ServerReflectionRequest{list_services: ""} (field 7, length 0), hand-encoded: the
        # reflection protos are not needed for a byte-level check of the answer.
        answers = {}
        for version in ("v1alpha", "v1"):
            info = self.channel.stream_stream(
                f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                request_serializer=lambda b: b, response_deserializer=lambda b: b)
            try:
                answers[version] = next(info(iter([b"\x3a\x00"]), timeout=10))
            except grpc.RpcError as e:
                answers[version] = (e.code(), e.details())
        r.check("server reflection without a token lists okr.v1.OkrService",
                any(isinstance(a, bytes) and b"okr.v1.OkrService" in a
                    for a in answers.values()), answers)
        for path in ("/healthz", "/readyz", "/metrics"):
            status, body = http_get(self.server.http_port, path)
            r.check(f"HTTP GET {path} without a token -> 200", status == 200, (status, body[:200]))

    def setup(self):
        pb, a = self.pb, self.admin
        for tid, parent in (("payments", ""), ("checkout", "teams/payments"), ("search", "")):
            a.CreateTeam(pb.CreateTeamRequest(team_id=tid, team=pb.Team(
                display_name=tid.title(), parent=parent)))
        for cid, start, end in (("2026-q4", "2026-10-01", "2027-01-01"),
                                ("2027-q1", "2027-01-01", "2027-04-01")):
            a.CreateCycle(pb.CreateCycleRequest(cycle_id=cid, cycle=pb.Cycle(
                display_name=cid, start_time=ts(start + "T00:00:00Z"),
                end_time=ts(end + "T00:00:00Z"))))

        def objective(oid, team, depends_on=()):
            a.CreateObjective(pb.CreateObjectiveRequest(objective_id=oid, objective=pb.Objective(
                title=f"Objective {oid}", team=f"teams/{team}", cycle="cycles/2026-q4",
                kind=pb.ASPIRATIONAL, depends_on=list(depends_on))))
            a.CreateKeyResult(pb.CreateKeyResultRequest(
                parent=f"objectives/{oid}", key_result_id="k", key_result=pb.KeyResult(
                    title=f"Metric of {oid}",
                    metric=pb.MetricKeyResult(start_value=0, target_value=100))))

        def work_items(oid):
            a.CreateKeyResult(pb.CreateKeyResultRequest(
                parent=f"objectives/{oid}", key_result_id="w",
                key_result=pb.KeyResult(title=f"Items of {oid}",
                                        work_items=pb.WorkItemsKeyResult())))

        def link(oid, key):
            a.LinkWorkItem(pb.LinkWorkItemRequest(parent=f"objectives/{oid}/keyResults/w",
                                                  work_item=pb.WorkItem(tracker=pb.JIRA, key=key)))

        # Per team: a DRAFT (x), a PROPOSED (x-p) and an AGREED (x-a) objective, so that every
        # lifecycle call in the matrix is valid apart from who makes it.
        for prefix, team in (("pay", "payments"), ("srch", "search")):
            objective(prefix, team)
            work_items(prefix)
            objective(f"{prefix}-p", team)
            objective(f"{prefix}-a", team)
        objective("co", "checkout")
        work_items("co")
        # Cross-team agreements: pay-dep needs search's agreement, srch-dep payments'.
        objective("pay-dep", "payments", ["objectives/srch-p"])
        objective("srch-dep", "search", ["objectives/pay-p"])
        for oid in ("pay-p", "pay-a", "srch-p", "srch-a", "pay-dep", "srch-dep"):
            a.ProposeObjective(pb.ProposeObjectiveRequest(name=f"objectives/{oid}"))
        for oid, team in (("pay-a", "payments"), ("srch-a", "search")):
            a.AgreeObjective(pb.AgreeObjectiveRequest(name=f"objectives/{oid}",
                                                      team=f"teams/{team}", agreed_by="x"))
        link("srch", "OKRX-1")  # serves search only
        link("pay", "OKRX-2")   # serves payments and checkout
        link("co", "OKRX-2")
        link("pay", "OKRX-3")   # serves payments and search
        link("srch", "OKRX-3")

        ci = a.CreateCheckIn(pb.CreateCheckInRequest(
            parent="objectives/pay/keyResults/k",
            check_in=pb.CheckIn(value=10, confidence=0.8, author="mallory")))
        self.r.check("bootstrap admin's check-in: author is its display_name 'admin'",
                     ci.author == "admin", ci.author)
        self.sub_secret = secrets.token_hex(16)
        self.secrets_seen.append(self.sub_secret)
        # Loopback target (allowed by --outbound-allow-cidrs, see run()) and a filter that
        # matches nothing that happens here: no delivery is ever attempted.
        a.CreateSubscription(pb.CreateSubscriptionRequest(
            subscription_id="hook", subscription=pb.Subscription(
                target_url="http://127.0.0.1:9/okr", secret=self.sub_secret,
                filter=pb.EventFilter(team="teams/search", event_types=[pb.RULE_FIRED]))))
        a.CreateRule(pb.CreateRuleRequest(rule_id="low", rule=pb.Rule(
            parent="teams/search",
            condition=pb.RuleCondition(type=pb.LOW_CONFIDENCE, threshold=0.01),
            action=pb.RuleAction(type=pb.EMIT_EVENT))))
        self.r.check("setup: 3 teams, 2 cycles, 9 objectives with the bootstrap admin token",
                     len(a.ListTeams(pb.ListTeamsRequest()).teams) == 3 and
                     len(a.ListObjectives(pb.ListObjectivesRequest(page_size=100)).objectives)
                     == 9)

    def create_tokens(self):
        pb, r, a = self.pb, self.r, self.admin

        def create(tid, display_name, role, teams=()):
            req = pb.CreateApiTokenRequest(api_token=pb.ApiToken(
                display_name=display_name, role=role, teams=list(teams)))
            if tid:
                req.api_token_id = tid
            tok = a.CreateApiToken(req)
            self.secrets_seen.append(tok.secret)
            return tok

        specs = [("viewer", "Vera Viewer", pb.VIEWER, []),
                 ("editor", "Eddie Editor", pb.EDITOR, ["teams/payments"]),
                 ("editor-all", "Ellen Everywhere", pb.EDITOR, []),
                 ("admin2", "Second Admin", pb.ADMIN, []),
                 ("doomed", "Doomed Viewer", pb.VIEWER, [])]
        for tid, display_name, role, teams in specs:
            tok = create(tid, display_name, role, teams)
            self.tokens[tid] = tok
            r.check(f"CreateApiToken {tid}: name apiTokens/{tid}", tok.name == f"apiTokens/{tid}",
                    tok.name)
            r.check(f"CreateApiToken {tid}: secret of >= 43 characters",
                    len(tok.secret) >= 43, len(tok.secret))
            r.check(f"CreateApiToken {tid}: role, display_name, teams and create_time",
                    tok.role == role and tok.display_name == display_name and
                    list(tok.teams) == teams and tok.create_time.seconds > 0, tok)
        generated = create("", "Generated Id", pb.VIEWER)
        self.tokens["generated"] = generated
        r.check("CreateApiToken without id: a generated apiTokens/{id}",
                re.fullmatch(r"apiTokens/[a-z0-9][a-z0-9-]{0,62}", generated.name) is not None,
                generated.name)
        all_secrets = [t.secret for t in self.tokens.values()]
        r.check("every token has its own secret", len(set(all_secrets)) == len(all_secrets))

        got = a.GetApiToken(pb.GetApiTokenRequest(name="apiTokens/editor"))
        r.check("GetApiToken: the token without its secret",
                got.secret == "" and got.display_name == "Eddie Editor" and
                got.role == pb.EDITOR and list(got.teams) == ["teams/payments"], got)
        listed, token = [], ""
        while True:
            page = a.ListApiTokens(pb.ListApiTokensRequest(page_size=2, page_token=token))
            listed.extend(page.api_tokens)
            token = page.next_page_token
            if not token:
                break
        names = {t.name for t in listed}
        r.check("ListApiTokens (pages of 2) lists every created token",
                {t.name for t in self.tokens.values()} <= names, sorted(names))
        r.check("ListApiTokens never returns a secret", all(t.secret == "" for t in listed),
                [t.name for t in listed if t.secret])

        def bad(token):
            return pb.CreateApiTokenRequest(api_token=token)
        rows = [
            ("empty display_name", "CreateApiToken",
             bad(pb.ApiToken(display_name="", role=pb.VIEWER)), INVALID,
             "api_token.display_name", None),
            ("ROLE_UNSPECIFIED", "CreateApiToken",
             bad(pb.ApiToken(display_name="x", role=pb.ROLE_UNSPECIFIED)), INVALID,
             "api_token.role", None),
            ("teams entry that is no team", "CreateApiToken",
             bad(pb.ApiToken(display_name="x", role=pb.EDITOR, teams=["teams/nope"])), INVALID,
             "api_token.teams", None),
            ("teams entry that is no team name", "CreateApiToken",
             bad(pb.ApiToken(display_name="x", role=pb.EDITOR, teams=["payments"])), INVALID,
             "api_token.teams", None),
            ("teams on a VIEWER token", "CreateApiToken",
             bad(pb.ApiToken(display_name="x", role=pb.VIEWER, teams=["teams/payments"])),
             INVALID, "", None),
            ("teams on an ADMIN token", "CreateApiToken",
             bad(pb.ApiToken(display_name="x", role=pb.ADMIN, teams=["teams/payments"])),
             INVALID, "", None),
        ]
        self.run_rows("ADMIN CreateApiToken", a, rows)
        self.viewer_c = self.anon.bearer(self.tokens["viewer"].secret)
        self.editor_c = self.anon.bearer(self.tokens["editor"].secret)
        self.editor_all_c = self.anon.bearer(self.tokens["editor-all"].secret)
        self.admin2_c = self.anon.bearer(self.tokens["admin2"].secret)

    def authentication_failures(self):
        pb = self.pb
        viewer_secret = self.tokens["viewer"].secret
        unknown = secrets.token_urlsafe(32)
        list_teams = pb.ListTeamsRequest()
        watch = pb.WatchEventsRequest(filter=pb.EventFilter(team="teams/payments"))
        cases = [
            ("no authorization metadata", None, "ListTeams", list_teams),
            ("no authorization metadata, a write", None, "CreateTeam",
             pb.CreateTeamRequest(team_id="anon", team=pb.Team(display_name="Anon"))),
            ("no authorization metadata, WatchEvents", None, "WatchEvents", watch),
            ("Basic credentials", "Basic " + base64.b64encode(b"u:p").decode(), "ListTeams",
             list_teams),
            ("'Bearer' without a secret", "Bearer", "ListTeams", list_teams),
            ("the secret without the Bearer scheme", viewer_secret, "ListTeams", list_teams),
            ("'Bearer' twice", f"Bearer Bearer {viewer_secret}", "ListTeams", list_teams),
            ("an unknown secret", f"Bearer {unknown}", "ListTeams", list_teams),
            ("an unknown secret, a write", f"Bearer {unknown}", "CreateTeam",
             pb.CreateTeamRequest(team_id="anon", team=pb.Team(display_name="Anon"))),
            ("an admin secret with one character changed",
             "Bearer " + self.admin_secret[:-1] + ("A" if self.admin_secret[-1] != "A" else "B"),
             "ListTeams", list_teams),
        ]
        for desc, header, method, req in cases:
            code, msg, _ = outcome(self.anon.with_authorization(header), method, req)
            self.r.check(f"{desc} -> UNAUTHENTICATED", code == UNAUTHENTICATED, (code, msg))
        code, msg, _ = outcome(self.admin, "GetTeam", pb.GetTeamRequest(name="teams/anon"))
        self.r.check("the unauthenticated CreateTeam created nothing",
                     code == grpc.StatusCode.NOT_FOUND, (code, msg))

    # Requests shared by the VIEWER and EDITOR matrices.
    def write_rows(self, o, team, fragment, res=True):
        """Every OKR write aimed at team `team` with objectives o (DRAFT), o-p (PROPOSED),
        o-a (AGREED); expected PERMISSION_DENIED naming `fragment`."""
        pb = self.pb
        obj, kr, wkr = f"objectives/{o}", f"objectives/{o}/keyResults/k", \
            f"objectives/{o}/keyResults/w"
        upd = pb.UpdateObjectiveRequest(objective=pb.Objective(name=obj, title="Hijacked"))
        upd.update_mask.paths.append("title")
        upd_kr = pb.UpdateKeyResultRequest(key_result=pb.KeyResult(name=kr, title="Hijacked"))
        upd_kr.update_mask.paths.append("title")
        # OKRX-1 serves search only; OKRX-2 payments and checkout, so that denial may name
        # either team.
        item_key, item_fragment = (("OKRX-1", fragment) if team == "search" else
                                   ("OKRX-2", fragment.replace("teams/payments", "teams/")))
        return [
            (f"CreateObjective in teams/{team}", "CreateObjective",
             pb.CreateObjectiveRequest(objective=pb.Objective(
                 title="Sneaky", team=f"teams/{team}", cycle="cycles/2026-q4")),
             DENIED, fragment, None),
            (f"UpdateObjective {obj}", "UpdateObjective", upd, DENIED, fragment, obj),
            (f"DeleteObjective {obj}", "DeleteObjective",
             pb.DeleteObjectiveRequest(name=obj, force=True), DENIED, fragment, obj),
            (f"ProposeObjective {obj}", "ProposeObjective",
             pb.ProposeObjectiveRequest(name=obj), DENIED, fragment, obj),
            (f"ReopenObjective {obj}-p", "ReopenObjective",
             pb.ReopenObjectiveRequest(name=f"{obj}-p", reason="because"), DENIED, fragment,
             f"{obj}-p"),
            (f"AgreeObjective {obj}-p for teams/{team}", "AgreeObjective",
             pb.AgreeObjectiveRequest(name=f"{obj}-p", team=f"teams/{team}"), DENIED, fragment,
             f"{obj}-p"),
            (f"CloseObjective {obj}-a", "CloseObjective",
             pb.CloseObjectiveRequest(name=f"{obj}-a"), DENIED, fragment, f"{obj}-a"),
            (f"CarryOverObjective {obj}-a", "CarryOverObjective",
             pb.CarryOverObjectiveRequest(name=f"{obj}-a", cycle="cycles/2027-q1"), DENIED,
             fragment, f"{obj}-a"),
            (f"CreateKeyResult under {obj}", "CreateKeyResult",
             pb.CreateKeyResultRequest(parent=obj, key_result=pb.KeyResult(
                 title="Sneaky", milestone=pb.MilestoneKeyResult())), DENIED, fragment, obj),
            (f"UpdateKeyResult {kr}", "UpdateKeyResult", upd_kr, DENIED, fragment, kr),
            (f"DeleteKeyResult {kr}", "DeleteKeyResult", pb.DeleteKeyResultRequest(name=kr),
             DENIED, fragment, kr),
            (f"CreateCheckIn on {kr}", "CreateCheckIn",
             pb.CreateCheckInRequest(parent=kr, check_in=pb.CheckIn(value=99, confidence=0.9)),
             DENIED, fragment, kr),
            (f"LinkWorkItem to {wkr}", "LinkWorkItem",
             pb.LinkWorkItemRequest(parent=wkr, work_item=pb.WorkItem(tracker=pb.JIRA,
                                                                      key="OKRX-99")),
             DENIED, fragment, wkr),
            (f"UnlinkWorkItem {item_key} from {wkr}", "UnlinkWorkItem",
             pb.UnlinkWorkItemRequest(parent=wkr, tracker=pb.JIRA, key=item_key), DENIED,
             fragment, wkr),
            (f"UpdateWorkItem {item_key} (serves teams/{team})", "UpdateWorkItem",
             pb.UpdateWorkItemRequest(work_item=pb.WorkItem(tracker=pb.JIRA, key=item_key,
                                                            done=True)),
             DENIED, item_fragment, None),
        ]

    def admin_only_rows(self, with_reads=True):
        pb = self.pb
        rows = [
            ("CreateTeam", "CreateTeam",
             pb.CreateTeamRequest(team_id="rogue", team=pb.Team(display_name="Rogue")),
             DENIED, "ADMIN", None),
            ("CreateCycle", "CreateCycle",
             pb.CreateCycleRequest(cycle_id="rogue", cycle=pb.Cycle(
                 display_name="Rogue", start_time=ts("2027-04-01T00:00:00Z"),
                 end_time=ts("2027-07-01T00:00:00Z"))),
             DENIED, "ADMIN", None),
            ("CreateSubscription", "CreateSubscription",
             pb.CreateSubscriptionRequest(subscription=pb.Subscription(
                 target_url="http://127.0.0.1:9/rogue", secret="0123456789abcdef-rogue",
                 filter=pb.EventFilter(team="teams/payments"))),
             DENIED, "ADMIN", None),
            ("CreateRule", "CreateRule",
             pb.CreateRuleRequest(rule=pb.Rule(
                 parent="teams/payments",
                 condition=pb.RuleCondition(type=pb.HEALTH_AT_RISK),
                 action=pb.RuleAction(type=pb.EMIT_EVENT))),
             DENIED, "ADMIN", None),
            ("CreateApiToken", "CreateApiToken",
             pb.CreateApiTokenRequest(api_token=pb.ApiToken(display_name="Me too",
                                                            role=pb.ADMIN)),
             DENIED, "ADMIN", None),
            ("DeleteApiToken", "DeleteApiToken",
             pb.DeleteApiTokenRequest(name="apiTokens/admin2"), DENIED, "ADMIN",
             "apiTokens/admin2"),
            ("DeleteSubscription", "DeleteSubscription",
             pb.DeleteSubscriptionRequest(name="subscriptions/hook"), DENIED, "ADMIN",
             "subscriptions/hook"),
            ("DeleteRule", "DeleteRule", pb.DeleteRuleRequest(name="rules/low"), DENIED, "ADMIN",
             "rules/low"),
        ]
        if with_reads:
            rows += [
                ("GetSubscription", "GetSubscription",
                 pb.GetSubscriptionRequest(name="subscriptions/hook"), DENIED, "ADMIN",
                 "subscriptions/hook"),
                ("ListSubscriptions", "ListSubscriptions", pb.ListSubscriptionsRequest(),
                 DENIED, "ADMIN", None),
                ("GetApiToken", "GetApiToken", pb.GetApiTokenRequest(name="apiTokens/viewer"),
                 DENIED, "ADMIN", "apiTokens/viewer"),
                ("ListApiTokens", "ListApiTokens", pb.ListApiTokensRequest(), DENIED, "ADMIN",
                 None),
            ]
        return rows

    def read_rows(self):
        pb = self.pb
        return [
            ("GetTeam", "GetTeam", pb.GetTeamRequest(name="teams/search")),
            ("ListTeams", "ListTeams", pb.ListTeamsRequest()),
            ("GetCycle", "GetCycle", pb.GetCycleRequest(name="cycles/2026-q4")),
            ("ListCycles", "ListCycles", pb.ListCyclesRequest()),
            ("GetObjective", "GetObjective", pb.GetObjectiveRequest(name="objectives/srch")),
            ("ListObjectives", "ListObjectives", pb.ListObjectivesRequest(team="teams/search")),
            ("GetKeyResult", "GetKeyResult",
             pb.GetKeyResultRequest(name="objectives/pay/keyResults/k")),
            ("ListKeyResults", "ListKeyResults",
             pb.ListKeyResultsRequest(parent="objectives/pay")),
            ("ListCheckIns", "ListCheckIns",
             pb.ListCheckInsRequest(parent="objectives/pay/keyResults/k")),
            ("ListWorkItemLinks", "ListWorkItemLinks",
             pb.ListWorkItemLinksRequest(parent="objectives/srch/keyResults/w")),
            ("FindWorkItemLinks", "FindWorkItemLinks",
             pb.FindWorkItemLinksRequest(tracker=pb.JIRA, key="OKRX-3")),
            ("GetAlignmentTree", "GetAlignmentTree",
             pb.GetAlignmentTreeRequest(team="teams/payments", cycle="cycles/2026-q4")),
            ("CheckAlignment", "CheckAlignment",
             pb.CheckAlignmentRequest(cycle="cycles/2026-q4")),
            ("ListEvents", "ListEvents", pb.ListEventsRequest(parent="teams/payments")),
            ("WatchEvents (first event of the stream)", "WatchEvents",
             pb.WatchEventsRequest(filter=pb.EventFilter(team="teams/payments"))),
            ("GetRule", "GetRule", pb.GetRuleRequest(name="rules/low")),
            ("ListRules", "ListRules", pb.ListRulesRequest()),
        ]

    def viewer(self):
        pb, v = self.pb, self.viewer_c
        for desc, method, req in self.read_rows():
            code, msg, resp = outcome(v, method, req)
            self.r.check(f"VIEWER: {desc} -> OK", code == OK and resp is not None, (code, msg))
        # A VIEWER lacks the role before any team matters: the message names EDITOR.
        rows = self.write_rows("pay", "payments", "EDITOR")
        rows.append(("SyncKeyResult objectives/pay/keyResults/w", "SyncKeyResult",
                     pb.SyncKeyResultRequest(name="objectives/pay/keyResults/w"), DENIED, "",
                     "objectives/pay/keyResults/w"))
        rows += self.admin_only_rows()
        self.run_rows("VIEWER", v, rows)

    def editor_denied(self):
        pb, e = self.pb, self.editor_c
        rows = self.write_rows("srch", "search", "EDITOR on teams/search")
        move = pb.UpdateObjectiveRequest(objective=pb.Objective(name="objectives/pay",
                                                                team="teams/search"))
        move.update_mask.paths.append("team")
        rows += [
            ("UpdateObjective moving objectives/pay (payments) to teams/search",
             "UpdateObjective", move, DENIED, "EDITOR on teams/search", "objectives/pay"),
            ("AgreeObjective objectives/pay-dep (payments) for teams/search", "AgreeObjective",
             pb.AgreeObjectiveRequest(name="objectives/pay-dep", team="teams/search"), DENIED,
             "EDITOR on teams/search", "objectives/pay-dep"),
            ("UpdateWorkItem OKRX-3 (serves payments and search)", "UpdateWorkItem",
             pb.UpdateWorkItemRequest(work_item=pb.WorkItem(tracker=pb.JIRA, key="OKRX-3",
                                                            done=True)),
             DENIED, "EDITOR on teams/search", None),
        ]
        rows += self.admin_only_rows()
        self.run_rows("EDITOR[payments]", e, rows)
        for desc, method, req in self.read_rows():
            code, msg, resp = outcome(e, method, req)
            self.r.check(f"EDITOR[payments]: {desc} -> OK", code == OK and resp is not None,
                         (code, msg))

    def denials_changed_nothing(self):
        pb, a, r = self.pb, self.admin, self.r
        teams = [t.name for t in a.ListTeams(pb.ListTeamsRequest()).teams]
        r.check("no team was created", sorted(teams) ==
                ["teams/checkout", "teams/payments", "teams/search"], teams)
        r.check("no cycle was created",
                len(a.ListCycles(pb.ListCyclesRequest()).cycles) == 2)
        objectives = a.ListObjectives(pb.ListObjectivesRequest(page_size=100)).objectives
        r.check("no objective was created, changed or deleted",
                len(objectives) == 9 and all(o.title.startswith("Objective ")
                                             for o in objectives), objectives)
        by_name = {o.name: o for o in objectives}
        r.check("objectives/pay is still in teams/payments",
                by_name.get("objectives/pay", pb.Objective()).team == "teams/payments")
        r.check("lifecycle states are unchanged",
                [by_name[f"objectives/{o}"].state for o in ("srch", "srch-p", "srch-a",
                                                            "pay", "pay-p", "pay-a")] ==
                [pb.DRAFT, pb.PROPOSED, pb.AGREED] * 2)
        r.check("srch-p and pay-dep have no new agreement",
                len(by_name["objectives/srch-p"].agreements) == 0 and
                len(by_name["objectives/pay-dep"].agreements) == 0)
        for o in ("pay", "srch"):
            krs = a.ListKeyResults(pb.ListKeyResultsRequest(parent=f"objectives/{o}"))
            r.check(f"objectives/{o} still has exactly its key results k and w",
                    sorted(k.name.rsplit("/", 1)[1] for k in krs.key_results) == ["k", "w"],
                    krs)
            k = a.GetKeyResult(pb.GetKeyResultRequest(name=f"objectives/{o}/keyResults/k"))
            r.check(f"objectives/{o}/keyResults/k: title unchanged",
                    k.title == f"Metric of {o}", k.title)
        r.check("objectives/pay/keyResults/k has only the admin's check-in",
                len(a.ListCheckIns(pb.ListCheckInsRequest(
                    parent="objectives/pay/keyResults/k")).check_ins) == 1)
        links = a.ListWorkItemLinks(pb.ListWorkItemLinksRequest(
            parent="objectives/pay/keyResults/w")).work_item_links
        r.check("objectives/pay/keyResults/w still links exactly OKRX-2 and OKRX-3, not done",
                sorted(l.work_item.key for l in links) == ["OKRX-2", "OKRX-3"] and
                not any(l.work_item.done for l in links), links)
        r.check("no check-in on objectives/srch/keyResults/k",
                len(a.ListCheckIns(pb.ListCheckInsRequest(
                    parent="objectives/srch/keyResults/k")).check_ins) == 0)
        links = a.ListWorkItemLinks(pb.ListWorkItemLinksRequest(
            parent="objectives/srch/keyResults/w")).work_item_links
        r.check("objectives/srch/keyResults/w still links exactly OKRX-1 and OKRX-3, not done",
                sorted(l.work_item.key for l in links) == ["OKRX-1", "OKRX-3"] and
                not any(l.work_item.done for l in links), links)
        tokens = {t.name for t in a.ListApiTokens(pb.ListApiTokensRequest(page_size=100))
                  .api_tokens}
        r.check("apiTokens/admin2 was not deleted", "apiTokens/admin2" in tokens, tokens)
        r.check("subscriptions/hook and rules/low were not deleted",
                a.GetSubscription(pb.GetSubscriptionRequest(name="subscriptions/hook")).name ==
                "subscriptions/hook" and
                a.GetRule(pb.GetRuleRequest(name="rules/low")).name == "rules/low")

    def editor_allowed(self):
        pb, e, r = self.pb, self.editor_c, self.r
        def step(desc, method, req):
            code, msg, resp = outcome(e, method, req)
            r.check(f"EDITOR[payments]: {desc} -> OK", code == OK, (code, msg))
            return resp

        def create_objective(oid, team):
            return step(f"CreateObjective {oid} in teams/{team}", "CreateObjective",
                        pb.CreateObjectiveRequest(objective_id=oid, objective=pb.Objective(
                            title=f"Editor's {oid}", team=f"teams/{team}",
                            cycle="cycles/2026-q4", kind=pb.ASPIRATIONAL)))

        def create_kr(oid, kid, **measure):
            return step(f"CreateKeyResult objectives/{oid}/keyResults/{kid}", "CreateKeyResult",
                        pb.CreateKeyResultRequest(parent=f"objectives/{oid}", key_result_id=kid,
                                                  key_result=pb.KeyResult(title=kid, **measure)))

        create_objective("e-pay", "payments")
        create_objective("e-co", "checkout")
        upd = pb.UpdateObjectiveRequest(objective=pb.Objective(name="objectives/e-pay",
                                                               title="Editor's payments goal"))
        upd.update_mask.paths.append("title")
        step("UpdateObjective objectives/e-pay title", "UpdateObjective", upd)
        move = pb.UpdateObjectiveRequest(objective=pb.Objective(name="objectives/e-co",
                                                                team="teams/payments"))
        move.update_mask.paths.append("team")
        step("UpdateObjective moving objectives/e-co from checkout to payments", "UpdateObjective",
             move)
        move.objective.team = "teams/checkout"
        step("UpdateObjective moving objectives/e-co back to checkout", "UpdateObjective", move)
        create_kr("e-pay", "k", metric=pb.MetricKeyResult(start_value=0, target_value=10))
        create_kr("e-co", "k", metric=pb.MetricKeyResult(start_value=0, target_value=10))
        create_kr("e-co", "w", work_items=pb.WorkItemsKeyResult())
        create_kr("e-co", "extra", milestone=pb.MilestoneKeyResult())
        upd_kr = pb.UpdateKeyResultRequest(key_result=pb.KeyResult(
            name="objectives/e-pay/keyResults/k", title="Ten things"))
        upd_kr.update_mask.paths.append("title")
        step("UpdateKeyResult objectives/e-pay/keyResults/k", "UpdateKeyResult", upd_kr)
        step("DeleteKeyResult objectives/e-co/keyResults/extra", "DeleteKeyResult",
             pb.DeleteKeyResultRequest(name="objectives/e-co/keyResults/extra"))
        ci = step("CreateCheckIn on objectives/e-co/keyResults/k (author 'mallory')",
                  "CreateCheckIn", pb.CreateCheckInRequest(
                      parent="objectives/e-co/keyResults/k",
                      check_in=pb.CheckIn(value=3, confidence=0.6, author="mallory")))
        r.check("EDITOR's check-in: author is the token's display_name",
                ci is not None and ci.author == "Eddie Editor", ci and ci.author)
        stored = self.viewer_c.ListCheckIns(pb.ListCheckInsRequest(
            parent="objectives/e-co/keyResults/k")).check_ins
        r.check("EDITOR's check-in: the stored author is the token's display_name",
                [c.author for c in stored] == ["Eddie Editor"], [c.author for c in stored])
        step("CreateCheckIn on objectives/co/keyResults/k (checkout, made by the admin)",
             "CreateCheckIn", pb.CreateCheckInRequest(
                 parent="objectives/co/keyResults/k", check_in=pb.CheckIn(value=5)))
        step("LinkWorkItem OKRX-20 to objectives/e-co/keyResults/w", "LinkWorkItem",
             pb.LinkWorkItemRequest(parent="objectives/e-co/keyResults/w",
                                    work_item=pb.WorkItem(tracker=pb.JIRA, key="OKRX-20")))
        step("UnlinkWorkItem OKRX-20 from objectives/e-co/keyResults/w", "UnlinkWorkItem",
             pb.UnlinkWorkItemRequest(parent="objectives/e-co/keyResults/w", tracker=pb.JIRA,
                                      key="OKRX-20"))
        link = step("LinkWorkItem OKRX-21 to objectives/pay/keyResults/w (made by the admin)",
                    "LinkWorkItem", pb.LinkWorkItemRequest(
                        parent="objectives/pay/keyResults/w",
                        work_item=pb.WorkItem(tracker=pb.JIRA, key="OKRX-21")))
        if link is not None:
            step("UnlinkWorkItem by link name", "UnlinkWorkItem",
                 pb.UnlinkWorkItemRequest(name=link.name))
        step("UpdateWorkItem OKRX-2 (serves payments and checkout)", "UpdateWorkItem",
             pb.UpdateWorkItemRequest(work_item=pb.WorkItem(tracker=pb.JIRA, key="OKRX-2",
                                                            done=True)))
        step("ProposeObjective objectives/e-pay", "ProposeObjective",
             pb.ProposeObjectiveRequest(name="objectives/e-pay"))
        step("ReopenObjective objectives/e-pay", "ReopenObjective",
             pb.ReopenObjectiveRequest(name="objectives/e-pay", reason="one more key result?"))
        step("ProposeObjective objectives/e-pay again", "ProposeObjective",
             pb.ProposeObjectiveRequest(name="objectives/e-pay"))
        agreed = step("AgreeObjective objectives/e-pay for teams/payments (agreed_by 'mallory')",
                      "AgreeObjective", pb.AgreeObjectiveRequest(
                          name="objectives/e-pay", team="teams/payments", agreed_by="mallory"))
        r.check("EDITOR's agreement: AGREED, agreed_by is the token's display_name",
                agreed is not None and agreed.state == pb.AGREED and
                [(g.team, g.agreed_by) for g in agreed.agreements] ==
                [("teams/payments", "Eddie Editor")], agreed)
        step("CloseObjective objectives/e-pay", "CloseObjective",
             pb.CloseObjectiveRequest(name="objectives/e-pay"))
        step("CarryOverObjective objectives/e-pay into cycles/2027-q1", "CarryOverObjective",
             pb.CarryOverObjectiveRequest(name="objectives/e-pay", cycle="cycles/2027-q1",
                                          objective_id="e-pay-next"))
        step("DeleteObjective objectives/e-pay-next (force)", "DeleteObjective",
             pb.DeleteObjectiveRequest(name="objectives/e-pay-next", force=True))
        step("ProposeObjective objectives/e-co (checkout)", "ProposeObjective",
             pb.ProposeObjectiveRequest(name="objectives/e-co"))
        step("AgreeObjective objectives/e-co for teams/checkout", "AgreeObjective",
             pb.AgreeObjectiveRequest(name="objectives/e-co", team="teams/checkout"))
        step("AgreeObjective objectives/pay-dep for teams/payments (its own team)",
             "AgreeObjective", pb.AgreeObjectiveRequest(name="objectives/pay-dep",
                                                        team="teams/payments"))
        # The proto: an EDITOR agrees "on those teams' behalf", also to another team's
        # objective that depends on one of theirs.
        dep = step("AgreeObjective objectives/srch-dep (search) for teams/payments",
                   "AgreeObjective", pb.AgreeObjectiveRequest(name="objectives/srch-dep",
                                                              team="teams/payments"))
        r.check("srch-dep carries payments' agreement by the token's display_name",
                dep is not None and ("teams/payments", "Eddie Editor") in
                [(g.team, g.agreed_by) for g in dep.agreements], dep)
        step("CreateObjective in teams/checkout without an id", "CreateObjective",
             pb.CreateObjectiveRequest(objective=pb.Objective(
                 title="Generated", team="teams/checkout", cycle="cycles/2026-q4")))

    def editor_all_teams(self):
        pb, e, r = self.pb, self.editor_all_c, self.r

        upd = pb.UpdateObjectiveRequest(objective=pb.Objective(name="objectives/srch",
                                                               title="Objective srch, edited"))
        upd.update_mask.paths.append("title")
        rows = [
            ("CreateObjective in teams/search", "CreateObjective",
             pb.CreateObjectiveRequest(objective=pb.Objective(
                 title="Search goal", team="teams/search", cycle="cycles/2026-q4")),
             OK, "", None),
            ("UpdateObjective objectives/srch", "UpdateObjective", upd, OK, "", None),
            ("CreateCheckIn on objectives/srch/keyResults/k", "CreateCheckIn",
             pb.CreateCheckInRequest(parent="objectives/srch/keyResults/k",
                                     check_in=pb.CheckIn(value=1, author="mallory")),
             OK, "", None),
            ("AgreeObjective objectives/srch-p for teams/search", "AgreeObjective",
             pb.AgreeObjectiveRequest(name="objectives/srch-p", team="teams/search"),
             OK, "", None),
            ("UpdateWorkItem OKRX-3 (serves payments and search)", "UpdateWorkItem",
             pb.UpdateWorkItemRequest(work_item=pb.WorkItem(tracker=pb.JIRA, key="OKRX-3",
                                                            done=True)),
             OK, "", None),
        ]
        rows += self.admin_only_rows()
        self.run_rows("EDITOR[all teams]", e, rows)
        cis = self.admin.ListCheckIns(pb.ListCheckInsRequest(
            parent="objectives/srch/keyResults/k")).check_ins
        r.check("EDITOR[all teams]'s check-in author is its display_name",
                [c.author for c in cis] == ["Ellen Everywhere"], [c.author for c in cis])

    def admin_everything(self):
        pb = self.pb
        rows = []
        for who, client, suffix in (("bootstrap ADMIN", self.admin, "1"),
                                    ("created ADMIN", self.admin2_c, "2")):
            rows = [
                ("CreateTeam", "CreateTeam",
                 pb.CreateTeamRequest(team_id=f"ops{suffix}", team=pb.Team(display_name="Ops")),
                 OK, "", None),
                ("CreateCycle", "CreateCycle",
                 pb.CreateCycleRequest(cycle_id=f"2027-q{suffix}x", cycle=pb.Cycle(
                     display_name="Later", start_time=ts("2027-04-01T00:00:00Z"),
                     end_time=ts("2027-07-01T00:00:00Z"))),
                 OK, "", None),
                ("CreateObjective in teams/search", "CreateObjective",
                 pb.CreateObjectiveRequest(objective=pb.Objective(
                     title="Admin's", team="teams/search", cycle="cycles/2026-q4")),
                 OK, "", None),
                ("UpdateWorkItem OKRX-1", "UpdateWorkItem",
                 pb.UpdateWorkItemRequest(work_item=pb.WorkItem(tracker=pb.JIRA, key="OKRX-1",
                                                                title=f"Item {suffix}")),
                 OK, "", None),
                ("CreateSubscription", "CreateSubscription",
                 pb.CreateSubscriptionRequest(subscription_id=f"sub{suffix}",
                                              subscription=pb.Subscription(
                     target_url="http://127.0.0.1:9/admin", secret=self.sub_secret,
                     filter=pb.EventFilter(team="teams/search", event_types=[pb.RULE_FIRED]))),
                 OK, "", None),
                ("GetSubscription", "GetSubscription",
                 pb.GetSubscriptionRequest(name=f"subscriptions/sub{suffix}"), OK, "", None),
                ("ListSubscriptions", "ListSubscriptions", pb.ListSubscriptionsRequest(), OK, "",
                 None),
                ("DeleteSubscription", "DeleteSubscription",
                 pb.DeleteSubscriptionRequest(name=f"subscriptions/sub{suffix}"), OK, "", None),
                ("CreateRule", "CreateRule",
                 pb.CreateRuleRequest(rule_id=f"rule{suffix}", rule=pb.Rule(
                     parent="teams/search", condition=pb.RuleCondition(
                         type=pb.LOW_CONFIDENCE, threshold=0.01),
                     action=pb.RuleAction(type=pb.EMIT_EVENT))),
                 OK, "", None),
                ("DeleteRule", "DeleteRule", pb.DeleteRuleRequest(name=f"rules/rule{suffix}"),
                 OK, "", None),
                ("GetApiToken", "GetApiToken", pb.GetApiTokenRequest(name="apiTokens/viewer"),
                 OK, "", None),
                ("ListApiTokens", "ListApiTokens", pb.ListApiTokensRequest(), OK, "", None),
            ]
            self.run_rows(who, client, rows)
        tok = self.admin2_c.CreateApiToken(pb.CreateApiTokenRequest(
            api_token_id="by-admin2", api_token=pb.ApiToken(display_name="Made by admin2",
                                                            role=pb.VIEWER)))
        self.secrets_seen.append(tok.secret)
        self.tokens["by-admin2"] = tok
        code, msg, _ = outcome(self.anon.bearer(tok.secret), "ListTeams", pb.ListTeamsRequest())
        self.r.check("a token created by a created ADMIN works", code == OK, (code, msg))
        self.admin2_c.DeleteApiToken(pb.DeleteApiTokenRequest(name="apiTokens/by-admin2"))

    def revoke(self):
        pb, r = self.pb, self.r
        doomed = self.anon.bearer(self.tokens["doomed"].secret)
        code, msg, _ = outcome(doomed, "ListTeams", pb.ListTeamsRequest())
        r.check("doomed token works before DeleteApiToken", code == OK, (code, msg))
        stream = doomed.WatchEvents(pb.WatchEventsRequest(
            filter=pb.EventFilter(team="teams/payments")), timeout=10)
        first = next(stream)
        r.check("doomed token's WatchEvents streams", first.sequence > 0, first)
        stream.cancel()
        self.admin.DeleteApiToken(pb.DeleteApiTokenRequest(name="apiTokens/doomed"))
        for method, req in (("ListTeams", pb.ListTeamsRequest()),
                            ("GetObjective", pb.GetObjectiveRequest(name="objectives/pay")),
                            ("WatchEvents", pb.WatchEventsRequest(
                                filter=pb.EventFilter(team="teams/payments")))):
            code, msg, _ = outcome(doomed, method, req)
            r.check(f"deleted token: the very next {method} -> UNAUTHENTICATED",
                    code == UNAUTHENTICATED, (code, msg))
        code, msg, _ = outcome(self.admin, "GetApiToken",
                               pb.GetApiTokenRequest(name="apiTokens/doomed"))
        r.check("GetApiToken of the deleted token -> NOT_FOUND",
                code == grpc.StatusCode.NOT_FOUND, (code, msg))
        code, msg, _ = outcome(self.anon.bearer(self.tokens["by-admin2"].secret), "ListTeams",
                               pb.ListTeamsRequest())
        r.check("token deleted by the created ADMIN -> UNAUTHENTICATED",
                code == UNAUTHENTICATED, (code, msg))

    def audit_lines(self):
        r, log = self.r, self.server.log()
        audit = [line for line in log.splitlines() if "audit" in line]
        used = [False] * len(audit)

        def take(method, resource):
            pattern = re.compile(r"\b" + method + r"\b")
            for i, line in enumerate(audit):
                if not used[i] and pattern.search(line) and (not resource or resource in line):
                    used[i] = True
                    return True
            return False

        created = ["viewer", "editor", "editor-all", "admin2", "doomed", "generated",
                   "by-admin2"]
        for tid in created:
            name = self.tokens[tid].name
            r.check(f"audit line: CreateApiToken {name}", take("CreateApiToken", name), audit)
        for name in ("apiTokens/doomed", "apiTokens/by-admin2"):
            r.check(f"audit line: DeleteApiToken {name}", take("DeleteApiToken", name), audit)
        missing = [(m, res) for m, res in self.denials if not take(m, res)]
        r.check(f"one audit line per PERMISSION_DENIED ({len(self.denials)}) naming method "
                "and resource", not missing, (missing[:10], audit[-5:]))
        for s in self.secrets_seen:
            if s in log:
                r.check("no secret in the main server's log", False, f"secret {s[:6]}... logged")
                break
        else:
            r.check(f"no secret in the main server's log ({len(self.secrets_seen)} checked)",
                    True)


# ---------------------------------------------------------------------------------------
# Bootstrap token file, OKR_ADMIN_TOKEN_FILE, --auth=none, PostgreSQL without admin token.

def bootstrap_file(r, pb, binary, tmp):
    bdir = os.path.join(tmp, "b")
    os.makedirs(bdir)
    db = os.path.join(bdir, "okr.db")
    token_file = db + ".admin-token"
    seen = []
    for run in (1, 2):
        server = start_server(binary, bdir, SERVER_ARGS, name=f"server{run}")
        try:
            r.check(f"bootstrap run {run}: {token_file} exists", os.path.exists(token_file))
            mode = stat.S_IMODE(os.stat(token_file).st_mode)
            r.check(f"bootstrap run {run}: file mode is 0600", mode == 0o600, oct(mode))
            with open(token_file) as f:
                content = f.read()
            secret = content[:-1]
            r.check(f"bootstrap run {run}: content is the secret and a newline",
                    content.endswith("\n") and len(secret) >= 43 and "\n" not in secret and
                    secret.strip() == secret, repr(content[:8]))
            seen.append(content)
            with server.channel() as channel:
                c = Client(channel, pb).bearer(secret)
                if run == 1:
                    code, msg, _ = outcome(c, "CreateTeam", pb.CreateTeamRequest(
                        team_id="boot", team=pb.Team(display_name="Boot")))
                    r.check("bootstrap run 1: the file's secret is ADMIN (CreateTeam)",
                            code == OK, (code, msg))
                else:
                    r.check("bootstrap run 2: the file is unchanged", content == seen[0])
                    code, msg, _ = outcome(c, "GetTeam", pb.GetTeamRequest(name="teams/boot"))
                    r.check("bootstrap run 2: the old secret still works (GetTeam)", code == OK,
                            (code, msg))
                    code, msg, _ = outcome(c, "CreateTeam", pb.CreateTeamRequest(
                        team_id="boot2", team=pb.Team(display_name="Boot 2")))
                    r.check("bootstrap run 2: the old secret is still ADMIN (CreateTeam)",
                            code == OK, (code, msg))
                code, msg, _ = outcome(Client(channel, pb), "ListTeams", pb.ListTeamsRequest())
                r.check(f"bootstrap run {run}: still no access without a token",
                        code == UNAUTHENTICATED, (code, msg))
        finally:
            rc = server.stop()
        log = server.log()
        r.check(f"bootstrap run {run}: exits 0 on SIGTERM", rc == 0, rc)
        if run == 1:
            r.check("bootstrap run 1: the log names the token file", token_file in log,
                    log[-2000:])
        r.check(f"bootstrap run {run}: the log does not contain the secret",
                secret not in log)


def admin_token_file(r, pb, binary, tmp):
    d = os.path.join(tmp, "f")
    os.makedirs(d)
    secret = secrets.token_urlsafe(32)
    path = os.path.join(d, "admin-secret")
    with open(path, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    db = os.path.join(d, "okr.db")
    server = start_server(binary, d, SERVER_ARGS, env={"OKR_ADMIN_TOKEN_FILE": path})
    try:
        with server.channel() as channel:
            c = Client(channel, pb)
            code, msg, _ = outcome(c.bearer(secret), "CreateTeam", pb.CreateTeamRequest(
                team_id="t", team=pb.Team(display_name="T")))
            r.check("OKR_ADMIN_TOKEN_FILE: its secret is ADMIN (CreateTeam)", code == OK,
                    (code, msg))
            code, msg, _ = outcome(c.bearer(secret + "x"), "ListTeams", pb.ListTeamsRequest())
            r.check("OKR_ADMIN_TOKEN_FILE: another secret -> UNAUTHENTICATED",
                    code == UNAUTHENTICATED, (code, msg))
    finally:
        rc = server.stop()
    r.check("OKR_ADMIN_TOKEN_FILE: exits 0 on SIGTERM", rc == 0, rc)
    r.check("OKR_ADMIN_TOKEN_FILE: no <db>.admin-token is written",
            not os.path.exists(db + ".admin-token"))
    r.check("OKR_ADMIN_TOKEN_FILE: the log does not contain the secret",
            secret not in server.log())


def auth_none(r, pb, binary, tmp):
    d = os.path.join(tmp, "none")
    os.makedirs(d)
    server = start_server(binary, d, SERVER_ARGS + ["--auth=none"])
    try:
        with server.channel() as channel:
            c = Client(channel, pb)
            c.CreateTeam(pb.CreateTeamRequest(team_id="t", team=pb.Team(display_name="T")))
            c.CreateCycle(pb.CreateCycleRequest(cycle_id="c", cycle=pb.Cycle(
                display_name="C", start_time=ts("2026-10-01T00:00:00Z"),
                end_time=ts("2027-01-01T00:00:00Z"))))
            o = c.CreateObjective(pb.CreateObjectiveRequest(objective=pb.Objective(
                title="O", team="teams/t", cycle="cycles/c")))
            kr = c.CreateKeyResult(pb.CreateKeyResultRequest(parent=o.name, key_result=pb.KeyResult(
                title="K", metric=pb.MetricKeyResult(start_value=0, target_value=10))))
            ci = c.CreateCheckIn(pb.CreateCheckInRequest(
                parent=kr.name, check_in=pb.CheckIn(value=5, author="li")))
            r.check("--auth=none: writes work without a token; the check-in keeps its author",
                    ci.author == "li", ci.author)
            tok = c.CreateApiToken(pb.CreateApiTokenRequest(api_token=pb.ApiToken(
                display_name="x", role=pb.VIEWER)))
            r.check("--auth=none: ADMIN methods work without a token (CreateApiToken)",
                    tok.name.startswith("apiTokens/"), tok)
            r.check("--auth=none: reads work without a token",
                    len(c.ListTeams(pb.ListTeamsRequest()).teams) == 1 and
                    len(c.ListApiTokens(pb.ListApiTokensRequest()).api_tokens) >= 1)
    finally:
        rc = server.stop()
    r.check("--auth=none: exits 0 on SIGTERM", rc == 0, rc)
    log = server.log()
    warnings = [line for line in log.splitlines()
                if re.search(r"\bWARN", line) and "auth" in line]
    r.check("--auth=none: a warning line about auth at startup", len(warnings) >= 1,
            log[-2000:])
    r.check("--auth=none: no <db>.admin-token is written",
            not os.path.exists(os.path.join(d, "okr.db.admin-token")))


def postgres_without_admin_token(r, binary, tmp):
    done = okr_e2e.run_to_exit(binary, tmp, ["--auth=tokens",
                                             "--database=postgresql://u:p@127.0.0.1:1/x"],
                               db_name=None)
    text = done.output
    r.check("PostgreSQL, auth=tokens, no admin token: exits 2", done.returncode == 2,
            (done.returncode, text[-1000:]))
    r.check("PostgreSQL, auth=tokens, no admin token: the message names OKR_ADMIN_TOKEN",
            "OKR_ADMIN_TOKEN" in text, text[-1000:])


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    started = time.time()
    r = okr_e2e.Checks()
    with okr_e2e.temp_dir("okr-auth-e2e-") as tmp:
        pb, health_pb2 = build_messages(proto_root, os.path.join(tmp, "pb"))
        r.section("main server (OKR_ADMIN_TOKEN)", MainScenario(r, pb, health_pb2, binary,
                                                                tmp).run)
        r.section("bootstrap token file", bootstrap_file, r, pb, binary, tmp)
        r.section("OKR_ADMIN_TOKEN_FILE", admin_token_file, r, pb, binary, tmp)
        r.section("--auth=none", auth_none, r, pb, binary, tmp)
        r.section("PostgreSQL without an admin token", postgres_without_admin_token, r, binary,
                  tmp)
    print(f"({time.time() - started:.1f} s)")
    r.finish()


if __name__ == "__main__":
    main()
