#!/usr/bin/python3
"""Machine-readable errors through the real okr-server binary, decoded by a Python client:
every error carries a google.rpc.Status in `grpc-status-details-bin` with ErrorInfo
(reason, domain okr.v1, metadata), BadRequest.field_violations on INVALID_ARGUMENT and
PreconditionFailure on FAILED_PRECONDITION (an agreement blocked by a contradiction names
the contradicting key result). The google.rpc protos are Debian's
(golang-github-gogo-googleapis-dev), compiled here with protoc.

Usage: error_details_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import re
import secrets
import sys

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402

GOOGLEAPIS = "/usr/share/gocode/src/github.com/gogo/googleapis"


def build(proto_root, out):
    # google/rpc first: once google.protobuf is imported, a google/ directory made later in
    # `out` is not looked at.
    okr_e2e.protoc(GOOGLEAPIS, out, "google/rpc/status.proto", "google/rpc/error_details.proto")
    okr_service_pb2 = okr_e2e.build_messages(proto_root, out)
    from google.rpc import error_details_pb2, status_pb2
    return okr_service_pb2, status_pb2, error_details_pb2


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    r = okr_e2e.Checks()
    with okr_e2e.temp_dir("okr-errors-") as tmp:
        pb, status_pb2, details_pb2 = build(proto_root, tmp)
        admin = secrets.token_urlsafe(32)
        server = okr_e2e.start_server(binary, tmp, ["--sqlite-sync=normal"],
                                      env={"OKR_ADMIN_TOKEN": admin})
        try:
            scenario(r.check, pb, status_pb2, details_pb2,
                     okr_e2e.Client(server.channel(), pb, token=admin))
        finally:
            server.stop()
    r.finish()


def scenario(check, pb, status_pb2, details_pb2, admin):
    anonymous = admin.with_authorization(None)

    def error_of(fn):
        try:
            fn()
        except grpc.RpcError as e:
            raw = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
            st = status_pb2.Status()
            if raw:
                st.ParseFromString(raw)
            found = {}
            for any_msg in st.details:
                for cls in (details_pb2.ErrorInfo, details_pb2.BadRequest,
                            details_pb2.PreconditionFailure, details_pb2.RetryInfo):
                    if any_msg.Is(cls.DESCRIPTOR):
                        m = cls()
                        any_msg.Unpack(m)
                        found[cls.__name__] = m
            return e.code(), e.details(), st, found
        raise AssertionError("the call succeeded")

    admin.CreateTeam(pb.CreateTeamRequest(team_id="team-a", team=pb.Team(display_name="A")))
    admin.CreateTeam(pb.CreateTeamRequest(team_id="team-b", team=pb.Team(display_name="B")))
    cycle = pb.Cycle(display_name="Q4")
    cycle.start_time.FromJsonString("2026-10-01T00:00:00Z")
    cycle.end_time.FromJsonString("2027-01-01T00:00:00Z")
    admin.CreateCycle(pb.CreateCycleRequest(cycle_id="q4", cycle=cycle))
    for oid, team in (("ta", "teams/team-a"), ("tb", "teams/team-b")):
        admin.CreateObjective(pb.CreateObjectiveRequest(objective_id=oid, objective=pb.Objective(
            title=f"Objective {oid}", team=team, cycle="cycles/q4")))

    # INVALID_ARGUMENT: the field at fault, machine-readable; the message unchanged.
    code, msg, st, found = error_of(lambda: admin.CreateKeyResult(pb.CreateKeyResultRequest(
        parent="objectives/ta", key_result=pb.KeyResult(title="Same", metric=pb.MetricKeyResult(
            start_value=3, target_value=3)))))
    check("invalid argument code", code == grpc.StatusCode.INVALID_ARGUMENT, code)
    check("status code in details", st.code == 3 and st.message == msg, st)
    info = found.get("ErrorInfo")
    check("ErrorInfo reason/domain", info and info.reason == "INVALID_FIELD" and info.domain == "okr.v1", info)
    bad = found.get("BadRequest")
    check("BadRequest names key_result.metric.target_value",
          bad and bad.field_violations[0].field == "key_result.metric.target_value", bad)
    check("reason is UPPER_SNAKE_CASE", info and re.fullmatch(r"[A-Z][A-Z0-9_]*", info.reason), info)

    # NOT_FOUND names the resource in ErrorInfo metadata.
    code, msg, st, found = error_of(lambda: admin.GetObjective(pb.GetObjectiveRequest(
        name="objectives/missing")))
    info = found.get("ErrorInfo")
    check("not found reason + resource", code == grpc.StatusCode.NOT_FOUND and info and
          info.reason == "RESOURCE_NOT_FOUND" and dict(info.metadata).get("resource") == "objectives/missing", info)

    # UNAUTHENTICATED and PERMISSION_DENIED carry reasons too.
    code, msg, st, found = error_of(lambda: anonymous.GetObjective(pb.GetObjectiveRequest(
        name="objectives/ta")))
    check("unauthenticated reason", code == grpc.StatusCode.UNAUTHENTICATED and
          found.get("ErrorInfo") and found["ErrorInfo"].reason == "TOKEN_MISSING", found)
    viewer = admin.bearer(admin.CreateApiToken(pb.CreateApiTokenRequest(api_token=pb.ApiToken(
        display_name="Viewer", role=pb.VIEWER))).secret)
    code, msg, st, found = error_of(lambda: viewer.DeleteObjective(pb.DeleteObjectiveRequest(
        name="objectives/ta")))
    info = found.get("ErrorInfo")
    check("permission denied names the role", code == grpc.StatusCode.PERMISSION_DENIED and info
          and info.reason == "PERMISSION_DENIED" and dict(info.metadata).get("role") == "EDITOR", info)

    # FAILED_PRECONDITION: team-a raises checkout.conversion, team-b lowers it; agreeing
    # objectives/ta is blocked and the details name the contradicting key result.
    for oid, kid, start_v, target in (("ta", "conversion", 2.0, 3.0), ("tb", "cost", 3.0, 2.5)):
        admin.CreateKeyResult(pb.CreateKeyResultRequest(parent=f"objectives/{oid}", key_result_id=kid,
            key_result=pb.KeyResult(title=kid, metric=pb.MetricKeyResult(
                start_value=start_v, target_value=target, metric_key="checkout.conversion"))))
    admin.ProposeObjective(pb.ProposeObjectiveRequest(name="objectives/ta"))
    code, msg, st, found = error_of(lambda: admin.AgreeObjective(pb.AgreeObjectiveRequest(
        name="objectives/ta", team="teams/team-a")))
    check("blocked agreement code", code == grpc.StatusCode.FAILED_PRECONDITION, (code, msg))
    info = found.get("ErrorInfo")
    check("blocked agreement reason", info and info.reason == "ALIGNMENT_BLOCKS_AGREEMENT", info)
    failure = found.get("PreconditionFailure")
    subjects = [v.subject for v in failure.violations] if failure else []
    check("PreconditionFailure names the contradicting key result",
          "objectives/tb/keyResults/cost" in subjects and
          all(v.type == "CONTRADICTION" for v in failure.violations), failure)
    check("message text unchanged", "CONTRADICTION" in msg, msg)


if __name__ == "__main__":
    main()
