#!/usr/bin/python3
"""The gRPC limits the server sets explicitly (README "Limits"), through the real binary:
a request above 4 MiB fails RESOURCE_EXHAUSTED before it is parsed and the server keeps
serving; one connection carries 300 concurrent calls (so the stream cap stays above the
256 streams the benchmarks use).

Usage: grpc_limits_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import concurrent.futures
import os
import secrets
import sys

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    r = okr_e2e.Checks()
    with okr_e2e.temp_dir("okr-limits-") as tmp:
        pb = okr_e2e.build_messages(proto_root, tmp)
        admin = secrets.token_urlsafe(32)
        server = okr_e2e.start_server(binary, tmp, ["--sqlite-sync=normal"],
                                      env={"OKR_ADMIN_TOKEN": admin})
        try:
            client = okr_e2e.Client(server.channel(), pb, token=admin)
            r.section("message size", message_size, r.check, pb, client)
            r.section("concurrent calls", concurrent_calls, r.check, pb, client)
        finally:
            server.stop()
    r.finish()


def message_size(check, pb, client):
    big = pb.CreateTeamRequest(team=pb.Team(display_name="x" * (4 * 1024 * 1024 + 1)))
    code, details, _ = okr_e2e.outcome(client.CreateTeam, big)
    check("a request above 4 MiB fails RESOURCE_EXHAUSTED",
          code == grpc.StatusCode.RESOURCE_EXHAUSTED, f"{code} {details}")
    code, details, team = okr_e2e.outcome(
        client.CreateTeam, pb.CreateTeamRequest(team=pb.Team(display_name="After the big one"),
                                                team_id="after-big"))
    check("the server goes on serving after it", code == grpc.StatusCode.OK, f"{code} {details}")


def concurrent_calls(check, pb, client):
    def get(_):
        return okr_e2e.outcome(client.GetTeam, pb.GetTeamRequest(name="teams/after-big"),
                               timeout=30)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=300) as pool:
        codes = list(pool.map(get, range(300)))
    ok = sum(1 for c in codes if c == grpc.StatusCode.OK)
    check("300 concurrent calls on one connection all succeed", ok == 300,
          f"{ok} of 300 OK; others: {set(c for c in codes if c != grpc.StatusCode.OK)}")


if __name__ == "__main__":
    main()
