#!/usr/bin/python3
"""End-to-end test of the in-memory read model behind GetObjective (issue #19), through the
real okr-server binary from Python (python3-grpcio, messages from protoc):

- read-your-writes while other clients keep the objective hot in the cache: after every
  acknowledged CreateCheckIn / UpdateObjective, a GetObjective on another connection sees
  the new progress / title at once;
- a deleted parent: its children, served from memory before, lose their parent at once;
- kill -9 and restart: a cold read model answers what was acknowledged.

Usage: read_model_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import signal
import sys
import threading
import time

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402
from okr_e2e import Client, code_of  # noqa: E402

# For a client on a connection of its own, not one shared with the other clients.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    r = okr_e2e.Checks()
    with okr_e2e.temp_dir("okr-e2e-read-model-") as tmp:
        pb = okr_e2e.build_messages(proto_root, tmp)
        servers = [okr_e2e.start_server(binary, tmp, ["--auth=none"])]
        stop = threading.Event()
        try:
            scenario(r.check, pb, binary, tmp, servers, stop)
        finally:
            stop.set()
            servers[-1].stop()
    r.finish()


def scenario(check, pb, binary, tmp, servers, stop):
    """`servers`: the running server last (the one started after kill -9 is appended)."""
    server = servers[-1]
    w = Client(server.channel(), pb)
    # A separate connection for the reads that check: not the writer's.
    r = Client(server.channel(options=OWN_CONNECTION), pb)
    now = int(time.time())
    w.CreateTeam(pb.CreateTeamRequest(team_id="growth", team=pb.Team(display_name="Growth")))
    cycle = pb.Cycle(display_name="This quarter")
    cycle.start_time.seconds = now - 45 * 86400
    cycle.end_time.seconds = now + 45 * 86400
    w.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=cycle))
    obj = w.CreateObjective(pb.CreateObjectiveRequest(objective=pb.Objective(
        title="Grow", team="teams/growth", cycle="cycles/now")))
    kr = w.CreateKeyResult(pb.CreateKeyResultRequest(
        parent=obj.name, key_result=pb.KeyResult(
            title="Reach 100 signups",
            metric=pb.MetricKeyResult(start_value=0, target_value=100, unit="signups"))))

    # Clients that keep the objective in memory the whole time.
    hot_reads = [0]
    hot_errors = []

    def keep_hot():
        c = Client(server.channel(options=OWN_CONNECTION), pb)
        while not stop.is_set():
            try:
                c.GetObjective(pb.GetObjectiveRequest(name=obj.name), timeout=10)
                hot_reads[0] += 1
            except grpc.RpcError as e:
                hot_errors.append(e.code())

    threads = [threading.Thread(target=keep_hot, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)

    stale = []
    for i in range(1, 41):
        value = float(i * 2)
        w.CreateCheckIn(pb.CreateCheckInRequest(
            parent=kr.name, check_in=pb.CheckIn(value=value, confidence=0.5, author="li")))
        got = r.GetObjective(pb.GetObjectiveRequest(name=obj.name), timeout=10)
        if abs(got.progress - value / 100) > 1e-9:
            stale.append((i, got.progress, value / 100))
    check("every acknowledged check-in is seen at once by another connection's "
          "GetObjective (40 of 40)", not stale, stale[:5])

    stale_titles = []
    current = r.GetObjective(pb.GetObjectiveRequest(name=obj.name))
    for i in range(10):
        upd = pb.UpdateObjectiveRequest(objective=pb.Objective(
            name=obj.name, title=f"Grow {i}", etag=current.etag))
        upd.update_mask.paths.append("title")
        w.UpdateObjective(upd)
        current = r.GetObjective(pb.GetObjectiveRequest(name=obj.name))
        if current.title != f"Grow {i}":
            stale_titles.append((i, current.title))
    check("every acknowledged UpdateObjective is seen at once (10 of 10)",
          not stale_titles, stale_titles)

    stop.set()
    for t in threads:
        t.join()
    check("the hot readers were served throughout", hot_reads[0] > 50 and not hot_errors,
          (hot_reads[0], hot_errors[:3]))

    # A parent deleted in one write changes its children's rows too.
    w.CreateTeam(pb.CreateTeamRequest(team_id="growth-web", team=pb.Team(
        display_name="Growth web", parent="teams/growth")))
    parent = w.CreateObjective(pb.CreateObjectiveRequest(objective=pb.Objective(
        title="Company growth", team="teams/growth", cycle="cycles/now")))
    child = w.CreateObjective(pb.CreateObjectiveRequest(objective=pb.Objective(
        title="Team growth", team="teams/growth-web", cycle="cycles/now",
        parent=parent.name)))
    for _ in range(5):
        seen = r.GetObjective(pb.GetObjectiveRequest(name=child.name))
    check("the child names its parent", seen.parent == parent.name, seen.parent)
    w.DeleteObjective(pb.DeleteObjectiveRequest(name=parent.name, force=True))
    seen = r.GetObjective(pb.GetObjectiveRequest(name=child.name))
    check("after the parent's delete the child has no parent at once", seen.parent == "",
          seen.parent)
    code, details = code_of(r.GetObjective, pb.GetObjectiveRequest(name=parent.name))
    check("the deleted parent is NOT_FOUND", code == grpc.StatusCode.NOT_FOUND, (code, details))
    before_kill = r.GetObjective(pb.GetObjectiveRequest(name=obj.name))

    # kill -9: the next process starts cold and answers what was acknowledged.
    server.proc.send_signal(signal.SIGKILL)
    server.stop()
    server = okr_e2e.start_server(binary, tmp, ["--auth=none"], name="after-kill")
    servers.append(server)
    c = Client(server.channel(), pb)
    after = c.GetObjective(pb.GetObjectiveRequest(name=obj.name), timeout=10)
    check("after kill -9 the objective is as acknowledged",
          after.title == before_kill.title and after.progress == before_kill.progress
          and after.etag == before_kill.etag, (after, before_kill))
    seen = c.GetObjective(pb.GetObjectiveRequest(name=child.name), timeout=10)
    check("after kill -9 the child still has no parent", seen.parent == "", seen.parent)


if __name__ == "__main__":
    main()
