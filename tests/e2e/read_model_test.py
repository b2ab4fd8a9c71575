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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
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
        from google.protobuf import empty_pb2
        service = pb.DESCRIPTOR.services_by_name["OkrService"]
        for method in service.methods:
            if method.server_streaming:
                continue
            out_cls = (empty_pb2.Empty if method.output_type.full_name == "google.protobuf.Empty"
                       else getattr(pb, method.output_type.name))
            setattr(self, method.name, channel.unary_unary(
                f"/okr.v1.OkrService/{method.name}",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=out_cls.FromString))


def start_server(binary, db, log_path):
    log = open(log_path, "a")
    proc = subprocess.Popen([binary, "--auth=none", "--grpc-address=127.0.0.1:0",
                             "--http-address=127.0.0.1:0", f"--database=sqlite:{db}"],
                            stdout=log, stderr=log)
    deadline = time.time() + 20
    start = open(log_path).read().count("serving grpc_port=")
    while time.time() < deadline:
        text = open(log_path).read()
        found = re.findall(r"serving grpc_port=(\d+) http_port=(\d+)", text)
        if len(found) > start:
            return proc, int(found[-1][0])
        if proc.poll() is not None:
            raise RuntimeError("okr-server exited: " + text)
        time.sleep(0.05)
    raise RuntimeError("okr-server did not start: " + open(log_path).read())


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="okr-e2e-read-model-")
    pb = build_messages(proto_root, tmp)
    db = os.path.join(tmp, "okr.db")
    log_path = os.path.join(tmp, "server.log")
    open(log_path, "w").close()
    proc, port = start_server(binary, db, log_path)
    results = []
    stop = threading.Event()

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))

    try:
        writer_channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        # A separate connection for the reads that check: not the writer's.
        reader_channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        w = Client(writer_channel, pb)
        r = Client(reader_channel, pb)
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
            ch = grpc.insecure_channel(
                f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
            c = Client(ch, pb)
            while not stop.is_set():
                try:
                    c.GetObjective(pb.GetObjectiveRequest(name=obj.name), timeout=10)
                    hot_reads[0] += 1
                except grpc.RpcError as e:
                    hot_errors.append(e.code())
            ch.close()

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
        try:
            r.GetObjective(pb.GetObjectiveRequest(name=parent.name))
            check("the deleted parent is NOT_FOUND", False, "it was served")
        except grpc.RpcError as e:
            check("the deleted parent is NOT_FOUND", e.code() == grpc.StatusCode.NOT_FOUND,
                  e.code())
        before_kill = r.GetObjective(pb.GetObjectiveRequest(name=obj.name))
        writer_channel.close()
        reader_channel.close()

        # kill -9: the next process starts cold and answers what was acknowledged.
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc, port = start_server(binary, db, log_path)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            c = Client(ch, pb)
            after = c.GetObjective(pb.GetObjectiveRequest(name=obj.name), timeout=10)
            check("after kill -9 the objective is as acknowledged",
                  after.title == before_kill.title and after.progress == before_kill.progress
                  and after.etag == before_kill.etag, (after, before_kill))
            seen = c.GetObjective(pb.GetObjectiveRequest(name=child.name), timeout=10)
            check("after kill -9 the child still has no parent", seen.parent == "", seen.parent)
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if all(results) and results:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("server log kept in", log_path)

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 0 if results and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
