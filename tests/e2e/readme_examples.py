"""Shared harness of the README example tests (readme_python_example_test.py,
readme_node_example_test.py): takes a client example out of README.md, runs it as a reader
would against the real okr-server binary, and checks what it printed and what it left in
the server.

A reader runs the examples from the repository root right after the Quick start: the
server's SQLite file is okr.db in the current directory, so its admin token is in
okr.db.admin-token, and the .proto files are under proto/. The harness recreates exactly
that in a temporary directory (a `proto` symlink to PROTO_ROOT, the server started with
--database=sqlite:<tmp>/okr.db and default auth, i.e. tokens) and runs the example there
with OKR_ADDRESS pointing at the server's port.
"""
import os
import re
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402

EXAMPLE_TIMEOUT_S = 30
Checks = okr_e2e.Checks


def example_from_argv(doc, marker, lang, label):
    """(binary, proto_root, code) from the command line OKR_SERVER_BINARY PROTO_ROOT README,
    `code` being README's example (see extract_block). Exits 2 printing `doc` on another
    number of arguments, 1 with a FAIL line naming the `label` example when README does not
    hold it."""
    if len(sys.argv) != 4:
        print(doc)
        sys.exit(2)
    binary, proto_root, readme = sys.argv[1:]
    try:
        return binary, proto_root, extract_block(readme, marker, lang)
    except ValueError as e:
        print(f"FAIL README's {label} example: {e}")
        sys.exit(1)


def extract_block(readme_path, marker, lang):
    """The code of the one ```lang fenced block between <!-- marker --> and <!-- /marker -->.
    Raises ValueError when the markers or the block are missing or ambiguous."""
    text = open(readme_path, encoding="utf-8").read()
    spans = re.findall(rf"<!-- {re.escape(marker)} -->\n(.*?)<!-- /{re.escape(marker)} -->",
                       text, re.S)
    if len(spans) != 1:
        raise ValueError(f"README must have exactly one <!-- {marker} --> ... <!-- /{marker} --> "
                         f"span, found {len(spans)}")
    blocks = re.findall(rf"^```{re.escape(lang)}\n(.*?)^```\s*$", spans[0], re.S | re.M)
    if len(blocks) != 1:
        raise ValueError(f"the {marker} span must hold exactly one ```{lang} block, "
                         f"found {len(blocks)}")
    return blocks[0]


def start_server(binary, workdir):
    """okr-server on ephemeral loopback ports, SQLite okr.db in `workdir` (also its working
    directory), default auth (tokens); returns once it serves and has written its admin
    token to okr.db.admin-token."""
    return okr_e2e.start_server(binary, workdir, cwd=workdir, ready=lambda: os.path.exists(
        os.path.join(workdir, "okr.db.admin-token")))


def admin_token(workdir):
    with open(os.path.join(workdir, "okr.db.admin-token")) as f:
        return f.read().strip()


def run_example(argv, workdir, port, extra_env=None):
    """Runs the example as a reader would (cwd = the directory with okr.db.admin-token and
    proto/), OKR_ADDRESS set to the test server. Returns the CompletedProcess."""
    env = dict(os.environ)
    env.pop("OKR_TOKEN", None)  # the example reads the token file, as README says
    env["OKR_ADDRESS"] = f"127.0.0.1:{port}"
    env["TMPDIR"] = workdir  # whatever the example keeps in temp files goes with the test
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra_env or {})
    return subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=EXAMPLE_TIMEOUT_S)


def check_server_state(r, proto_root, workdir, port, token):
    """Reads back, with stubs of our own (grpc_python_plugin), what README's steps must have
    left in the server: team, cycle, one objective at progress 0.5 whose one metric key
    result goes 40 -> 20 and stands at 30 after the check-in."""
    import grpc  # python3-grpcio

    out = os.path.join(workdir, "test-stubs")
    os.makedirs(out)
    okr_e2e.protoc(proto_root, out, okr_e2e.OKR_SERVICE_PROTO, extra_args=[
        f"--grpc_out={out}", "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"])
    sys.path.insert(0, out)
    from okr.v1 import okr_service_pb2 as pb, okr_service_pb2_grpc  # noqa: E402

    auth = [("authorization", f"Bearer {token}")]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = okr_service_pb2_grpc.OkrServiceStub(channel)
        team = stub.GetTeam(pb.GetTeamRequest(name="teams/payments"), metadata=auth, timeout=10)
        r.check("server has teams/payments named Payments", team.display_name == "Payments",
                str(team))
        cycle = stub.GetCycle(pb.GetCycleRequest(name="cycles/2026-q4"), metadata=auth, timeout=10)
        r.check("server has cycles/2026-q4 from 2026-10-01 to 2027-01-01",
                cycle.start_time.ToJsonString() == "2026-10-01T00:00:00Z"
                and cycle.end_time.ToJsonString() == "2027-01-01T00:00:00Z", str(cycle))
        objectives = stub.ListObjectives(pb.ListObjectivesRequest(team="teams/payments"),
                                         metadata=auth, timeout=10).objectives
        if not r.check("server has exactly one objective of teams/payments",
                       len(objectives) == 1, str(objectives)):
            return
        o = objectives[0]
        r.check("the objective is 'Make paying effortless' in cycles/2026-q4 at progress 0.5",
                o.title == "Make paying effortless" and o.cycle == "cycles/2026-q4"
                and abs(o.progress - 0.5) < 1e-9, str(o))
        krs = stub.ListKeyResults(pb.ListKeyResultsRequest(parent=o.name), metadata=auth,
                                  timeout=10).key_results
        r.check("its one key result is a metric 40 -> 20 (%) now at 30",
                len(krs) == 1 and krs[0].WhichOneof("measure") == "metric"
                and krs[0].metric.start_value == 40 and krs[0].metric.target_value == 20
                and krs[0].metric.unit == "%" and krs[0].metric.current_value == 30, str(krs))
        if len(krs) == 1:
            checkins = stub.ListCheckIns(pb.ListCheckInsRequest(parent=krs[0].name),
                                         metadata=auth, timeout=10).check_ins
            r.check("one check-in of 30 (confidence 0.7)",
                    len(checkins) == 1 and checkins[0].value == 30
                    and abs(checkins[0].confidence - 0.7) < 1e-9, str(checkins))


def run(r, binary, proto_root, code, file_name, argv_of, expect_output, extra_env=None):
    """The whole test for one example, its checks recorded in `r` (an okr_e2e.Checks):
    writes `code` to <tmp>/file_name, runs argv_of(path) against a fresh server, checks the
    printed output matches the regex `expect_output` (multiline) and the server state."""
    with okr_e2e.temp_dir("okr-readme-example-") as workdir:
        os.symlink(os.path.abspath(proto_root), os.path.join(workdir, "proto"))
        path = os.path.join(workdir, file_name)
        with open(path, "w") as f:
            f.write(code)
        server = start_server(binary, workdir)
        try:
            run_against(r, server, proto_root, workdir, path, argv_of, expect_output,
                        extra_env)
        finally:
            server.stop()
            if r.failed:
                print("--- server log:\n" + server.log())


def run_against(r, server, proto_root, workdir, path, argv_of, expect_output, extra_env):
    started = time.time()
    try:
        done = run_example(argv_of(path), workdir, server.grpc_port, extra_env)
    except subprocess.TimeoutExpired as e:
        r.check(f"the example finishes within {EXAMPLE_TIMEOUT_S} s", False,
                f"stdout: {e.stdout!r} stderr: {e.stderr!r}")
        return
    print(f"--- example ran in {time.time() - started:.1f} s, exit {done.returncode}; "
          f"stdout:\n{done.stdout}--- stderr:\n{done.stderr}---")
    r.check("the example exits 0", done.returncode == 0, done.stderr[-2000:])
    r.check(f"the example prints /{expect_output}/", re.search(expect_output, done.stdout, re.M),
            done.stdout[-2000:])
    try:
        check_server_state(r, proto_root, workdir, server.grpc_port, admin_token(workdir))
    except Exception:  # noqa: BLE001 -- e.g. NOT_FOUND: the example did not create it
        r.check("the server holds what the example created", False, traceback.format_exc())
    log = server.log()
    r.check("the server refused nothing (no 'audit: permission denied' line)",
            "audit: permission denied" not in log, log[-2000:])
