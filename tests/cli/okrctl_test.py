#!/usr/bin/python3
"""End-to-end test of okrctl (issue #18) against the real okr-server binary.

Starts okr-server on a temporary SQLite file (--auth=tokens, the default, with
OKR_ADMIN_TOKEN as the admin credential; gRPC and HTTP on 127.0.0.1:0), runs an okrctl
session (teams, cycle, objectives, key results, check-ins, get/list/tree/findings/events,
a VIEWER token refused a write, NOT_FOUND, usage errors, updates and deletes of teams and
cycles, a check-in read back, a subscription and a rule changed, watch until SIGINT) and compares
what okrctl prints with the golden files in golden/ for table, json and yaml output.

Volatile values are normalised before comparing, keeping their width so that table columns
stay aligned: times of day become YYYY-MM-DDThh:mm:ssZ (fractions .nnnnnn), generated 16-hex ids become x's,
token secrets become S's. The cycle lies in the past, so expected progress is 1 and health
does not depend on today's date.

Usage: okrctl_test.py OKRCTL OKR_SERVER GOLDEN_DIR
With OKRCTL_UPDATE_GOLDEN=1 the golden files are rewritten from this run.
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import difflib
import json
import os
import re
import pty
import queue
import signal
import subprocess
import sys
import threading
import time

import yaml  # python3-yaml, installed by .ci/install-deps.sh

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import okr_e2e  # noqa: E402

ADMIN_SECRET = "okrctl-test-admin-secret-0123456789"
UPDATE = os.environ.get("OKRCTL_UPDATE_GOLDEN") == "1"


TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
ID_RE = re.compile(r"(checkIns|workItemLinks)/[0-9a-f]{16}")
SECRET_RE = re.compile(r"okr_[A-Za-z0-9_-]{43}")


def normalise(text):
    def time_of_day(m):
        t = m.group(0)
        if t.endswith("T00:00:00Z"):
            return t  # dates the test chose (cycle bounds)
        # The fraction's length varies (proto3 JSON prints 0, 3, 6 or 9 digits).
        return "YYYY-MM-DDThh:mm:ss" + (".nnnnnn" if m.group(1) else "") + "Z"
    text = TIME_RE.sub(time_of_day, text)
    text = ID_RE.sub(lambda m: m.group(1) + "/" + "x" * 16, text)
    text = SECRET_RE.sub(lambda m: "okr_" + "S" * 43, text)
    return text


class Session:
    def __init__(self, okrctl, golden_dir, results, address):
        self.okrctl = okrctl
        self.golden_dir = golden_dir
        self.results = results
        self.address = address
        self.env = dict(os.environ)
        self.env.pop("NO_COLOR", None)
        self.env.pop("OKR_ADDRESS", None)
        self.env["OKR_TOKEN"] = ADMIN_SECRET
        self.outputs = []

    def run(self, *args, token=None, env_address=False):
        env = dict(self.env)
        if token is not None:
            env["OKR_TOKEN"] = token
        argv = [self.okrctl] + list(args)
        if env_address:
            env["OKR_ADDRESS"] = self.address
        else:
            argv = [self.okrctl, "--address", self.address] + list(args)
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        self.outputs.append(p.stdout + p.stderr)
        return p

    def golden(self, name, text):
        path = os.path.join(self.golden_dir, name + ".txt")
        text = normalise(text)
        if UPDATE:
            with open(path, "w") as f:
                f.write(text)
            self.results.check(f"{name} (golden written)", True)
            return
        want = open(path).read() if os.path.exists(path) else "<missing golden file>\n"
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                            "golden/" + name + ".txt", "okrctl"))
        self.results.check(f"{name} matches golden", text == want, diff)

    def expect(self, name, args, rc=0, golden=True, token=None, stderr_golden=False,
               env_address=False):
        """Runs okrctl; checks the exit code and (optionally) stdout/stderr against goldens."""
        p = self.run(*args, token=token, env_address=env_address)
        self.results.check(f"{name} exits {rc}", p.returncode == rc,
                           f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        if golden:
            self.golden(name, p.stdout)
        if stderr_golden:
            self.golden(name + ".stderr", p.stderr)
        return p


def start_server(server, tmp, extra_args=(), name="server"):
    """okr-server with OKR_ADMIN_TOKEN=ADMIN_SECRET on <tmp>/<name>.db, log <name>.log."""
    return okr_e2e.start_server(server, tmp, extra_args, env={"OKR_ADMIN_TOKEN": ADMIN_SECRET},
                                name=name, db_name=name + ".db")


def scenario(s, r):
    # Setup, through the admin token in OKR_TOKEN (and once the address in OKR_ADDRESS).
    s.expect("create_team", ["create", "team", "payments", "--name", "Payments"],
             env_address=True)
    s.expect("create_team_child", ["create", "team", "checkout", "--name", "Checkout",
                                   "--parent", "payments"])
    s.expect("create_cycle.json", ["create", "cycle", "2020-q4", "--name", "2020 Q4",
                                   "--start", "2020-10-01", "--end", "2021-01-01", "-o", "json"])
    s.expect("create_objective", ["create", "objective", "o1", "--team", "payments",
                                  "--cycle", "2020-q4", "--title", "Make paying effortless"])
    s.expect("create_objective_child", ["create", "obj", "o2", "--team", "teams/checkout",
                                        "--cycle", "cycles/2020-q4", "--title",
                                        "Faster checkout", "--parent", "objectives/o1"])
    s.expect("create_keyresult_metric.json",
             ["-o", "json", "create", "keyresult", "o1", "k1", "--title",
              "Cut checkout drop-off from 40% to 20%", "--metric", "40:20:%"])
    s.expect("create_keyresult_milestone", ["create", "kr", "o2", "k1", "--milestone",
                                            "--title", "Ship one-click pay"])
    s.expect("create_keyresult_work_items", ["create", "keyresult", "o2", "k2", "--work-items",
                                             "--title", "Close the checkout epics"])
    s.expect("checkin", ["checkin", "o1/k1", "30", "--confidence", "0.7", "--note",
                         "new form live"])
    s.expect("checkin_milestone.json", ["checkin", "objectives/o2/keyResults/k1", "1", "-o",
                                        "json"])
    s.expect("link", ["link", "o2/k2", "jira", "OKRX-101", "--title", "Epic one", "--weight",
                      "3"])

    # Reads in every format.
    s.expect("get_objective", ["get", "objective", "o1"])
    s.expect("get_objective.json", ["get", "objective", "objectives/o1", "-o", "json"])
    p_yaml = s.expect("get_objective.yaml", ["get", "objective", "o1", "-o", "yaml"])
    p_json = s.run("get", "objective", "o1", "-o", "json")
    r.check("yaml is the same data as json",
            yaml.safe_load(p_yaml.stdout) == json.loads(p_json.stdout), p_yaml.stdout)
    s.expect("get_keyresult", ["get", "keyresult", "o1/k1"])
    s.expect("list_teams", ["list", "teams"])
    s.expect("list_objectives", ["list", "objectives", "--cycle", "2020-q4"])
    s.expect("list_objectives.json", ["list", "objectives", "--team", "checkout", "-o", "json"])
    s.expect("list_keyresults", ["list", "keyresults", "o2"])
    s.expect("list_checkins", ["list", "checkins", "o1/k1"])
    # A proposed objective without key results is a finding.
    s.expect("create_objective_bare", ["create", "objective", "o3", "--team", "checkout",
                                       "--cycle", "2020-q4", "--title", "Tidy the ledger",
                                       "--kind", "aspirational"])
    s.expect("propose_bare", ["propose", "o3"])
    s.expect("tree_objective", ["tree", "o1"])
    s.expect("tree_cycle", ["tree", "2020-q4"])
    s.expect("tree_cycle.json", ["tree", "cycles/2020-q4", "-o", "json"])
    p_yaml = s.expect("tree_cycle.yaml", ["tree", "2020-q4", "-o", "yaml"])
    p_json = s.run("tree", "2020-q4", "-o", "json")
    r.check("tree yaml is the same data as json",
            yaml.safe_load(p_yaml.stdout) == json.loads(p_json.stdout), p_yaml.stdout)
    s.expect("findings", ["findings", "2020-q4"])
    s.expect("findings.json", ["findings", "2020-q4", "-o", "json"])
    s.expect("events", ["events", "o1/k1"])
    s.expect("events.json", ["events", "o1/k1", "-o", "json"])

    # A VIEWER token reads but may not write.
    p = s.expect("create_token.json", ["create", "token", "viewer", "--name", "Vera Viewer",
                                       "--role", "VIEWER", "-o", "json"])
    secret = json.loads(p.stdout)["secret"] if p.returncode == 0 else ""
    s.expect("list_tokens", ["list", "tokens"])
    s.expect("viewer_reads", ["get", "objective", "o1"], token=secret)
    p = s.expect("viewer_write_refused", ["checkin", "o1/k1", "35"], rc=1, golden=False,
                 token=secret)
    r.check("viewer_write_refused names PERMISSION_DENIED",
            p.stderr.startswith("PERMISSION_DENIED: ") and p.stdout == "", p.stderr)
    p = s.expect("bad_token", ["list", "teams"], rc=1, golden=False, token="not-a-token")
    r.check("bad_token is UNAUTHENTICATED", p.stderr.startswith("UNAUTHENTICATED: "), p.stderr)

    # RPC errors: exit 1 with "CODE: message" on stderr.
    s.expect("not_found", ["get", "objective", "nope"], rc=1, golden=False,
             stderr_golden=True)
    s.expect("invalid_argument", ["create", "keyresult", "o1", "--title", "Flat",
                                  "--metric", "5:5"], rc=1, golden=False, stderr_golden=True)
    p = s.run("--address", "127.0.0.1:1", "list", "teams")
    r.check("unreachable server exits 1 with UNAVAILABLE",
            p.returncode == 1 and p.stderr.startswith("UNAVAILABLE: "), p.stderr)

    # Usage errors: exit 2, nothing sent.
    s.expect("usage_missing_kind", ["create", "keyresult", "o1", "--title", "x"], rc=2,
             golden=False, stderr_golden=True)
    s.expect("usage_unsupported", ["update", "token", "viewer", "--name", "V"], rc=2,
             golden=False, stderr_golden=True)
    s.expect("usage_unknown_flag", ["get", "objective", "o1", "--colour"], rc=2, golden=False,
             stderr_golden=True)
    s.expect("usage_arguments", ["get", "objective"], rc=2, golden=False, stderr_golden=True)
    s.expect("usage_output", ["list", "teams", "-o", "xml"], rc=2, golden=False)
    s.expect("usage_key_result_name", ["get", "keyresult", "k1"], rc=2, golden=False,
             stderr_golden=True)

    # Help on every level.
    s.expect("help", ["--help"])
    s.expect("help_create", ["create", "--help"])
    s.expect("help_create_objective", ["create", "objective", "--help"])
    s.expect("help_checkin", ["help", "checkin"])
    s.expect("help_delete_team", ["delete", "team", "--help"])

    # Writes after reads: update, lifecycle, delete.
    s.expect("update_keyresult", ["update", "keyresult", "o1/k1", "--target", "10"])
    s.expect("propose", ["propose", "o1"])
    s.expect("delete_objective_refused", ["delete", "objective", "o2"], rc=1, golden=False,
             stderr_golden=True)
    s.expect("delete_objective", ["delete", "objective", "o2", "--force"])

    teams_and_cycles(s, r)
    checkins_subscriptions_rules(s, r)
    scopes(s, r)

    watch(s, r)

    r.check("no colour codes when stdout is not a terminal",
            all("\033[" not in out for out in s.outputs))


def teams_and_cycles(s, r):
    """update/delete team and cycle: a rename, a stale etag, a delete refused while
    objectives refer to it (exit 1, FAILED_PRECONDITION) and done with --force."""
    s.expect("update_team", ["update", "team", "checkout", "--name", "Checkout Crew",
                             "--jira-project", "CHK"])
    p = s.expect("update_team_stale_etag", ["update", "team", "checkout", "--name", "X",
                                            "--etag", "stale"], rc=1, golden=False)
    r.check("update_team_stale_etag is ABORTED", p.stderr.startswith("ABORTED: "), p.stderr)
    s.expect("setup_team_ops", ["create", "team", "ops", "--name", "Ops", "--parent",
                                "payments"], golden=False)
    s.expect("setup_team_ops_tools", ["create", "team", "ops-tools", "--name", "Ops Tools",
                                      "--parent", "ops"], golden=False)
    s.expect("setup_objective_ops", ["create", "objective", "o4", "--team", "ops", "--cycle",
                                     "2020-q4", "--title", "Run the ledger"], golden=False)
    p = s.expect("delete_team_refused", ["delete", "team", "ops"], rc=1, golden=False,
                 stderr_golden=True)
    r.check("delete_team_refused is FAILED_PRECONDITION",
            p.stderr.startswith("FAILED_PRECONDITION: ") and p.stdout == "", p.stderr)
    s.expect("delete_team", ["delete", "team", "teams/ops", "--force"])
    p = s.run("get", "team", "ops-tools", "-o", "json")
    r.check("delete team --force moves its sub-teams up",
            p.returncode == 0 and json.loads(p.stdout).get("parent") == "teams/payments",
            p.stdout + p.stderr)
    p = s.run("get", "objective", "o4")
    r.check("delete team --force deletes its objectives",
            p.returncode == 1 and p.stderr.startswith("NOT_FOUND: "), p.stderr)

    s.expect("setup_cycle", ["create", "cycle", "2021-q1", "--name", "2021 Q1", "--start",
                             "2021-01-01", "--end", "2021-04-01"], golden=False)
    s.expect("setup_objective_2021", ["create", "objective", "o5", "--team", "payments",
                                      "--cycle", "2021-q1", "--title", "Plan 2021"],
             golden=False)
    s.expect("update_cycle", ["update", "cycle", "2021-q1", "--name", "2021 H1", "--end",
                              "2021-07-01"])
    p = s.expect("update_cycle_invalid", ["update", "cycle", "2021-q1", "--end", "2020-12-01"],
                 rc=1, golden=False)
    r.check("update_cycle_invalid is INVALID_ARGUMENT",
            p.stderr.startswith("INVALID_ARGUMENT: "), p.stderr)
    p = s.expect("delete_cycle_refused", ["delete", "cycle", "2021-q1"], rc=1, golden=False)
    r.check("delete_cycle_refused is FAILED_PRECONDITION",
            p.stderr.startswith("FAILED_PRECONDITION: "), p.stderr)
    s.expect("delete_cycle", ["delete", "cycle", "cycles/2021-q1", "--force"])
    p = s.run("get", "objective", "o5")
    r.check("delete cycle --force deletes its objectives",
            p.returncode == 1 and p.stderr.startswith("NOT_FOUND: "), p.stderr)
    s.expect("usage_update_nothing", ["update", "cycle", "2020-q4"], rc=2, golden=False)


def checkins_subscriptions_rules(s, r):
    """get checkin (full and short name); update subscription and rule."""
    p = s.run("list", "checkins", "o1/k1", "-o", "json")
    name = json.loads(p.stdout)["checkIns"][0]["name"] if p.returncode == 0 else "o1/k1/none"
    full = s.expect("get_checkin", ["get", "checkin", name])
    short = s.run("get", "checkin", "o1/k1/" + name.rsplit("/", 1)[-1])
    r.check("get checkin O/K/C is the same check-in",
            short.returncode == 0 and short.stdout == full.stdout, short.stdout + short.stderr)
    p = s.expect("get_checkin_missing", ["get", "checkin", "o1/k1/nope"], rc=1, golden=False)
    r.check("get_checkin_missing is NOT_FOUND", p.stderr.startswith("NOT_FOUND: "), p.stderr)

    # The target is a closed loopback port (the server allows 127.0.0.1/32 for this test).
    s.expect("setup_subscription", ["create", "subscription", "hooks", "--url",
                                    "http://127.0.0.1:9/okr", "--secret",
                                    "okrctl-test-webhook-secret", "--team", "payments"],
             golden=False)
    s.expect("update_subscription", ["update", "subscription", "hooks", "--url",
                                      "http://127.0.0.1:9/okr-v2", "--type", "HEALTH_CHANGED"])
    s.expect("usage_update_subscription", ["update", "subscription", "hooks", "--every-event",
                                            "--team", "payments"], rc=2, golden=False)
    s.expect("cleanup_subscription", ["delete", "subscription", "hooks"], golden=False)

    s.expect("setup_rule", ["create", "rule", "r1", "--objective", "o1", "--condition",
                            "behind-pace", "--threshold", "0.2"], golden=False)
    s.expect("update_rule", ["update", "rule", "r1", "--condition", "no-check-in", "--days",
                             "14"])
    s.expect("usage_update_rule", ["update", "rule", "r1", "--days", "7"], rc=2, golden=False)
    s.expect("cleanup_rule", ["delete", "rule", "r1"], golden=False)


def scopes(s, r):
    """--jql / --gitlab-* of create/update keyresult reach the server and come back."""
    s.expect("create_objective_scoped", ["create", "objective", "o4", "--team", "payments",
                                         "--cycle", "2020-q4", "--title", "Fast pages"],
             golden=False)
    p = s.expect("create_keyresult_scope", ["-o", "json", "create", "keyresult", "o4", "k1",
                                            "--work-items", "--title", "Latency", "--jql",
                                            "project = OKRX AND labels = latency"], golden=False)
    w = json.loads(p.stdout).get("workItems", {}) if p.returncode == 0 else {}
    r.check("create keyresult --jql keeps the scope",
            w.get("jiraJql") == "project = OKRX AND labels = latency", p.stdout)
    p = s.expect("update_keyresult_scope", ["-o", "json", "update", "keyresult", "o4/k1",
                                            "--gitlab-project", "acme/checkout", "--gitlab-label",
                                            "nps", "--gitlab-label", "q4", "--gitlab-milestone",
                                            "2026.4"], golden=False)
    w = json.loads(p.stdout).get("workItems", {}) if p.returncode == 0 else {}
    r.check("update keyresult --gitlab-* sets the GitLab scope and keeps the JQL",
            (w.get("gitlabProject"), w.get("gitlabLabels"), w.get("gitlabMilestone"),
             w.get("jiraJql")) == ("acme/checkout", ["nps", "q4"], "2026.4",
                                   "project = OKRX AND labels = latency"), p.stdout)


def watch(s, r):
    """watch prints each event as it happens (one JSON object per line) until SIGINT."""
    proc = subprocess.Popen([s.okrctl, "--address", s.address, "watch", "--objective", "o1",
                             "--type", "PROGRESS_CHANGED", "-o", "json"],
                            env=dict(s.env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True)
    reader.start()
    try:
        def read_event(deadline):
            try:
                return json.loads(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                return None

        # The history comes first: the check-in above moved o1/k1.
        first = read_event(time.monotonic() + 10)
        r.check("watch replays history",
                first is not None and first["type"] == "PROGRESS_CHANGED", str(first))
        s.run("checkin", "o1/k1", "10")  # the target: progress 1
        seen_live = False
        deadline = time.monotonic() + 10
        while not seen_live:
            event = read_event(deadline)
            if event is None:
                break
            seen_live = (event.get("subject") == "objectives/o1/keyResults/k1" and
                         event.get("newProgress") == 1)
        r.check("watch prints a live event", seen_live)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
        r.check("watch ends with exit 0 on SIGINT", rc == 0, f"exit {rc}: {proc.stderr.read()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def tls(okrctl, server, tmp, r):
    """--tls-ca-file: TLS trusting that CA works; plaintext to a TLS server fails (exit 1)."""
    certs = okr_e2e.make_certs(os.path.join(tmp, "certs"))
    d = os.path.dirname(certs["ca.crt"])
    tls_server = start_server(server, tmp, ["--tls-cert-file=" + certs["server.crt"],
                                            "--tls-key-file=" + certs["server.key"]],
                              name="tls-server")
    port = tls_server.grpc_port
    try:
        env = dict(os.environ, OKR_TOKEN=ADMIN_SECRET)
        base = [okrctl, "--address", f"localhost:{port}"]
        p = subprocess.run(base + ["--tls-ca-file", os.path.join(d, "ca.crt"), "list", "teams"],
                           env=env, capture_output=True, text=True, timeout=30)
        r.check("--tls-ca-file: TLS call works", p.returncode == 0 and p.stdout.startswith("NAME"),
                p.stderr)
        p = subprocess.run(base + ["list", "teams"], env=env, capture_output=True, text=True,
                           timeout=30)
        r.check("plaintext to a TLS server exits 1 with UNAVAILABLE",
                p.returncode == 1 and p.stderr.startswith("UNAVAILABLE: "), p.stderr)
        p = subprocess.run(base + ["--tls-ca-file", os.path.join(d, "missing.crt"), "list",
                                   "teams"], env=env, capture_output=True, text=True, timeout=30)
        r.check("an unreadable --tls-ca-file is a usage error", p.returncode == 2, p.stderr)
    finally:
        tls_server.stop()


def colours(okrctl, address, r):
    """On a terminal the table is coloured, unless NO_COLOR is set."""
    def on_tty(extra_env):
        env = dict(os.environ, OKR_TOKEN=ADMIN_SECRET)
        env.pop("NO_COLOR", None)
        env.update(extra_env)
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(okrctl, [okrctl, "--address", address, "get", "objective", "o1"], env)
        out = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.waitpid(pid, 0)
        os.close(fd)
        return out.decode()
    r.check("a terminal gets colours", "\033[" in on_tty({}))
    r.check("NO_COLOR turns them off", "\033[" not in on_tty({"NO_COLOR": "1"}))


def completion(okrctl, r):
    """The bash completion the build copies next to the binary completes verbs, nouns and
    a command's flags."""
    script = os.path.join(os.path.dirname(okrctl), "okrctl.bash")
    def complete(*words):
        words = ["okrctl", *words]
        cmd = (f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
               f"COMP_CWORD={len(words) - 1}; _okrctl; echo \"${{COMPREPLY[*]}}\"")
        env = dict(os.environ, PATH=os.path.dirname(okrctl) + ":" + os.environ["PATH"])
        return subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True,
                              timeout=30).stdout.split()
    r.check("completion: verbs", complete("cr") == ["create"], complete("cr"))
    r.check("completion: nouns", complete("create", "ob") == ["objective"],
            complete("create", "ob"))
    got = complete("create", "objective", "--ti")
    r.check("completion: a command's flags", got == ["--title"], got)
    got = complete("-o", "y")
    r.check("completion: output formats", got == ["yaml"], got)


def main():
    okrctl, server, golden_dir = sys.argv[1:4]
    r = okr_e2e.Checks()
    with okr_e2e.temp_dir("okrctl-test-") as tmp:
        try:
            okr = start_server(server, tmp, ["--outbound-allow-cidrs=127.0.0.1/32"])
            try:
                address = f"127.0.0.1:{okr.grpc_port}"
                scenario(Session(okrctl, golden_dir, r, address), r)
                colours(okrctl, address, r)
                completion(okrctl, r)
                tls(okrctl, server, tmp, r)
            finally:
                okr.stop()
        finally:
            if r.failed:
                for log in ("server.log", "tls-server.log"):
                    if os.path.exists(os.path.join(tmp, log)):
                        print(f"{log}:\n" + open(os.path.join(tmp, log)).read()[-4000:])
    r.finish()


if __name__ == "__main__":
    main()
