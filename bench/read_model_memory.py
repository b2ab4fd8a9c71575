#!/usr/bin/python3
"""read_model_memory.py: what the in-memory read model of okr-server costs (issue #19, row 1):
the resident memory of the server once N objectives have been read, and the time a restart on
that database takes until the server serves (the cache starts empty and fills as
objectives are read).

  cmake --build build --target okr-server
  bench/read_model_memory.py build/service/server/okr-server [N=100000]

Starts okr-server (--auth=none, --sqlite-sync=normal) on a fresh SQLite file in a
temporary directory, creates N objectives over gRPC (python3-grpcio, 64 calls in flight),
restarts the server (timing the restart), reads every objective once with GetObjective
(from SQLite, filling the cache) and again (from memory), and prints the server's VmRSS
from /proc: with every objective cached it bounds the read model's memory from above.
Every process it starts is stopped on exit.
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

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "proto")


def build_messages(out_dir):
    subprocess.run(["protoc", f"-I{PROTO_ROOT}", f"--python_out={out_dir}",
                    "okr/v1/okr_service.proto"], check=True)
    sys.path.insert(0, out_dir)
    from okr.v1 import okr_service_pb2  # noqa: E402
    return okr_service_pb2


def start(binary, db, log_path):
    """(process, grpc port, seconds until it logged `serving`)."""
    t0 = time.monotonic()
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "--auth=none", "--grpc-address=127.0.0.1:0",
                             "--http-address=127.0.0.1:0", f"--database=sqlite:{db}",
                             "--sqlite-sync=normal"], stdout=log, stderr=log)
    while time.monotonic() - t0 < 60:
        m = re.search(r"serving grpc_port=(\d+)", open(log_path).read())
        if m:
            return proc, int(m.group(1)), time.monotonic() - t0
        if proc.poll() is not None:
            raise RuntimeError("okr-server exited: " + open(log_path).read())
        time.sleep(0.01)
    raise RuntimeError("okr-server did not start")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def run_all(channel, method, requests, in_flight=64):
    """Sends every request with `in_flight` calls outstanding; returns the responses."""
    call = channel.unary_unary(method[0], request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=method[1].FromString)
    out = [None] * len(requests)
    sem = threading.Semaphore(in_flight)
    errors = []

    def done(i, fut):
        try:
            out[i] = fut.result()
        except grpc.RpcError as e:
            errors.append(e)
        sem.release()

    for i, req in enumerate(requests):
        sem.acquire()
        fut = call.future(req, timeout=60)
        fut.add_done_callback(lambda f, i=i: done(i, f))
    for _ in range(in_flight):
        sem.acquire()
    if errors:
        raise RuntimeError(f"{len(errors)} calls failed, first: {errors[0]}")
    return out


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    tmp = tempfile.mkdtemp(prefix="okr-read-model-mem-")
    proc = None
    try:
        pb = build_messages(tmp)
        db = os.path.join(tmp, "okr.db")
        proc, port, _ = start(binary, db, os.path.join(tmp, "server.log"))
        svc = "/okr.v1.OkrService/"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            ch.unary_unary(svc + "CreateTeam", request_serializer=lambda m: m.SerializeToString(),
                           response_deserializer=pb.Team.FromString)(
                pb.CreateTeamRequest(team_id="mem", team=pb.Team(display_name="Memory")))
            now = int(time.time())
            cycle = pb.Cycle(display_name="Now")
            cycle.start_time.seconds = now - 86400
            cycle.end_time.seconds = now + 86400
            ch.unary_unary(svc + "CreateCycle", request_serializer=lambda m: m.SerializeToString(),
                           response_deserializer=pb.Cycle.FromString)(
                pb.CreateCycleRequest(cycle_id="now", cycle=cycle))
            t0 = time.monotonic()
            created = run_all(ch, (svc + "CreateObjective", pb.Objective), [
                pb.CreateObjectiveRequest(objective=pb.Objective(
                    title=f"Objective number {i} of the memory benchmark", team="teams/mem",
                    cycle="cycles/now", description="A description of typical length, "
                    "one sentence or two about what the objective is for."))
                for i in range(n)])
            create_s = time.monotonic() - t0
        names = [o.name for o in created]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc, port, restart_s = start(binary, db, os.path.join(tmp, "server2.log"))
        time.sleep(1)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            before = rss_kib(proc.pid)
            t0 = time.monotonic()
            run_all(ch, (svc + "GetObjective", pb.Objective),
                    [pb.GetObjectiveRequest(name=name) for name in names])
            cold_s = time.monotonic() - t0
            after = rss_kib(proc.pid)
            t0 = time.monotonic()
            run_all(ch, (svc + "GetObjective", pb.Objective),
                    [pb.GetObjectiveRequest(name=name) for name in names])
            warm_s = time.monotonic() - t0
            again = rss_kib(proc.pid)
        print(f"objectives: {n} (created in {create_s:.1f} s)")
        print(f"restart until serving on that database: {restart_s:.2f} s")
        # The difference of two RSS readings is no measure here: startup's own allocations
        # (freed, but kept by malloc) are reused by the cache. The whole server's RSS with
        # every objective in the read model is an upper bound for it.
        print(f"RSS of the whole server with all {n} objectives in the read model: "
              f"{after / 1024:.1f} MiB (after a second pass: {again / 1024:.1f} MiB; "
              f"right after the restart: {before / 1024:.1f} MiB)")
        print(f"first pass (from SQLite, fills the cache): {n / cold_s:.0f} GetObjective/s; "
              f"second pass (from memory): {n / warm_s:.0f}/s (Python client, 64 in flight)")
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
