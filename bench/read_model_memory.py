#!/usr/bin/python3
"""read_model_memory.py: what the in-memory read model of okr-server costs (issue #19, row 1):
the resident memory of the server once N objectives have been read, and the time a restart on
that database takes until the server serves (the cache starts empty and fills as
objectives are read).

  cmake --build build --target okr-server
  bench/read_model_memory.py build/service/server/okr-server [N=100000]

Starts okr-server (--auth=none, --sqlite-sync=normal) on a fresh SQLite file in a
temporary directory, creates N objectives over gRPC (python3-grpcio, 64 calls in flight),
restarts the server (timing the restart, to the 50 ms at which tests/e2e/okr_e2e.py polls
the log), reads every objective once with GetObjective
(from SQLite, filling the cache) and again (from memory), and prints the server's VmRSS
from /proc: with every objective cached it bounds the read model's memory from above.
Every process it starts is stopped on exit.
"""
import os
import sys
import threading
import time

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "proto")
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import okr_e2e  # noqa: E402

SERVER_FLAGS = ["--auth=none", "--sqlite-sync=normal"]


def start(binary, tmp, name):
    """(Server, seconds until it logged `serving`) on <tmp>/okr.db."""
    t0 = time.monotonic()
    server = okr_e2e.start_server(binary, tmp, SERVER_FLAGS, name=name, timeout=60)
    return server, time.monotonic() - t0


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
    svc = "/okr.v1.OkrService/"
    with okr_e2e.temp_dir("okr-read-model-mem-") as tmp:
        pb = okr_e2e.build_messages(PROTO_ROOT, tmp)
        server, _ = start(binary, tmp, "server")
        try:
            c = okr_e2e.Client(server.channel(), pb)
            c.CreateTeam(pb.CreateTeamRequest(team_id="mem", team=pb.Team(display_name="Memory")))
            now = int(time.time())
            cycle = pb.Cycle(display_name="Now")
            cycle.start_time.seconds = now - 86400
            cycle.end_time.seconds = now + 86400
            c.CreateCycle(pb.CreateCycleRequest(cycle_id="now", cycle=cycle))
            t0 = time.monotonic()
            created = run_all(server.channel(), (svc + "CreateObjective", pb.Objective), [
                pb.CreateObjectiveRequest(objective=pb.Objective(
                    title=f"Objective number {i} of the memory benchmark", team="teams/mem",
                    cycle="cycles/now", description="A description of typical length, "
                    "one sentence or two about what the objective is for."))
                for i in range(n)])
            create_s = time.monotonic() - t0
        finally:
            server.stop()
        names = [o.name for o in created]
        server, restart_s = start(binary, tmp, "restarted")
        try:
            time.sleep(1)
            ch = server.channel()
            before = rss_kib(server.proc.pid)
            t0 = time.monotonic()
            run_all(ch, (svc + "GetObjective", pb.Objective),
                    [pb.GetObjectiveRequest(name=name) for name in names])
            cold_s = time.monotonic() - t0
            after = rss_kib(server.proc.pid)
            t0 = time.monotonic()
            run_all(ch, (svc + "GetObjective", pb.Objective),
                    [pb.GetObjectiveRequest(name=name) for name in names])
            warm_s = time.monotonic() - t0
            again = rss_kib(server.proc.pid)
        finally:
            server.stop()
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
