"""Shared scaffolding of the end-to-end tests that drive the real okr-server binary from
Python (Debian's python3-grpcio, messages generated with protoc).

Import it from a test script next to it, or from another folder by putting this folder on
sys.path relative to the script (set sys.dont_write_bytecode first, so that no __pycache__
lands in the source tree):

    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
    import okr_e2e

What it offers:

  build_messages(proto_root, out_dir) -> okr_service_pb2
      protoc's Python messages of okr/v1/okr_service.proto, imported. protoc(...) compiles
      any other .proto the same way.
  start_server(binary, tmp_dir, args=(), env=None, db_name="okr.db", name="server", ...)
      -> Server
      okr-server on 127.0.0.1:0 (gRPC and HTTP) with --database=sqlite:<tmp_dir>/<db_name>
      (db_name=None: no --database flag, pass your own in args), its output in
      <tmp_dir>/<name>.log; returns once the `serving grpc_port=N http_port=M` line is
      logged, raises ServerError if the process exits first or does not serve in time.
      Starting again with the same tmp_dir and db_name (another name) restarts on the
      same database file.
  Server: proc, grpc_port, http_port, address, log_path, log(), channel(credentials=None),
      stop() -> exit code (SIGTERM; -1 if it had to be killed); also a context manager.
  run_to_exit(binary, tmp_dir, args=(), ...) -> Exited(returncode, stdout, stderr)
      okr-server expected to stop at startup (a configuration error); returncode is None
      if it was still running after `timeout` seconds (it is killed).
  child_env(**extra)
      The environment a server child gets: the caller's, without any OKR_* setting or
      proxy variable, plus `extra` (e.g. OKR_ADMIN_TOKEN, LD_PRELOAD).
  Client(channel, pb, token=None, metadata=())
      Every OkrService method as an attribute (generic unary-unary / unary-stream calls,
      default deadline 10 s); calls carry `authorization: Bearer <token>` when a token is
      given. client.bearer(secret) / client.with_authorization(value) make siblings.
  outcome(fn, req) -> (code, details, response); code_of(fn, req) -> (code, details)
      One call with its gRPC status instead of an exception.
  http_get(port, path, tls_context=None) -> (status or None, body)
  make_certs(dir) -> {file name: path}: a CA, a server certificate for
      127.0.0.1/localhost, client certificates from that CA and from a foreign CA.
  Checks: check(name, cond, detail="") prints `ok   name` or `FAIL name: detail`;
      section(name, fn, *args) runs a part, an exception failing it; finish() prints
      `N passed, M failed` and exits 1 on any failure (or when nothing was checked).
"""
import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

import grpc

OKR_SERVICE_PROTO = "okr/v1/okr_service.proto"
SERVING_RE = re.compile(r"serving grpc_port=(\d+) http_port=(\d+)")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                   "ALL_PROXY")
DEFAULT_DEADLINE_S = 10


# ---------------------------------------------------------------------------------------
# Messages

def protoc(include_dir, out_dir, *files, extra_args=()):
    """protoc -I<include_dir> --python_out=<out_dir> [extra_args] files...; out_dir is
    created when missing."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["protoc", f"-I{include_dir}", f"--python_out={out_dir}", *extra_args,
                    *files], check=True)


def build_messages(proto_root, out_dir):
    """Generates okr/v1/okr_service.proto's Python messages into out_dir, puts out_dir on
    sys.path and returns the imported okr_service_pb2 module."""
    protoc(proto_root, out_dir, OKR_SERVICE_PROTO)
    sys.path.insert(0, out_dir)
    from okr.v1 import okr_service_pb2  # noqa: E402
    return okr_service_pb2


# ---------------------------------------------------------------------------------------
# The server process

class ServerError(RuntimeError):
    """okr-server exited or did not serve in time; the message holds its log."""


def child_env(**extra):
    """The caller's environment without any OKR_* setting or proxy variable, plus `extra`:
    what a server started by a test sees, whatever the developer's shell has set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OKR_") and k not in PROXY_VARIABLES}
    env.update(extra)
    return env


def server_argv(binary, tmp_dir, args=(), db_name="okr.db"):
    """[binary, loopback port-0 addresses, --database=sqlite:<tmp_dir>/<db_name>, *args]."""
    argv = [os.path.abspath(binary), "--grpc-address=127.0.0.1:0",
            "--http-address=127.0.0.1:0"]
    if db_name is not None:
        argv.append(f"--database=sqlite:{os.path.join(tmp_dir, db_name)}")
    return argv + list(args)


class Server:
    """A running okr-server child (see start_server)."""

    def __init__(self, proc, grpc_port, http_port, log_path, log_file):
        self.proc = proc
        self.grpc_port = grpc_port
        self.http_port = http_port
        self.log_path = log_path
        self.returncode = None
        self._log_file = log_file
        self._channels = []

    @property
    def address(self):
        """host:port of the gRPC listener."""
        return f"127.0.0.1:{self.grpc_port}"

    def log(self):
        """Everything the server wrote so far (stdout and stderr)."""
        with open(self.log_path) as f:
            return f.read()

    def channel(self, credentials=None, options=None):
        """A channel to the gRPC port: plaintext, or TLS with `credentials`
        (grpc.ssl_channel_credentials). stop() closes the channels made here."""
        if credentials is None:
            ch = grpc.insecure_channel(self.address, options=options)
        else:
            ch = grpc.secure_channel(self.address, credentials, options=options)
        self._channels.append(ch)
        return ch

    def stop(self, timeout=15):
        """Closes this server's channels, sends SIGTERM (if still running) and waits;
        returns the exit code, -1 if it had to be killed."""
        for ch in self._channels:
            ch.close()
        self._channels = []
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = -1
            self._log_file.close()
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_server(binary, tmp_dir, args=(), env=None, db_name="okr.db", name="server",
                 cwd=None, ready=None, timeout=20):
    """Starts okr-server on 127.0.0.1:0 (gRPC and HTTP), SQLite <tmp_dir>/<db_name> (None:
    no --database flag), extra flags `args`, environment child_env(**env), output in
    <tmp_dir>/<name>.log, working directory `cwd`. Returns a Server once the `serving
    grpc_port=N http_port=M` line is logged and `ready()` (if given) holds; raises
    ServerError with the log when the process exits first or after `timeout` seconds
    (then it is killed)."""
    log_path = os.path.join(tmp_dir, f"{name}.log")
    log_file = open(log_path, "w")
    proc = subprocess.Popen(server_argv(binary, tmp_dir, args, db_name), stdout=log_file,
                            stderr=log_file, env=child_env(**(env or {})), cwd=cwd)
    server = Server(proc, 0, 0, log_path, log_file)
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = SERVING_RE.search(server.log())
        if m and (ready is None or ready()):
            server.grpc_port, server.http_port = int(m.group(1)), int(m.group(2))
            return server
        if proc.poll() is not None:
            server.stop()
            raise ServerError(f"okr-server {name} exited {proc.returncode}: {server.log()}")
        time.sleep(0.05)  # polling the log file, bounded by the deadline
    proc.kill()
    server.stop()
    raise ServerError(f"okr-server {name} did not start within {timeout} s: {server.log()}")


class Exited:
    """How a server expected to stop at startup ended: returncode (None: still running
    after the timeout, then killed), stdout, stderr, output (both)."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    @property
    def output(self):
        return self.stdout + self.stderr


def run_to_exit(binary, tmp_dir, args=(), env=None, db_name="okr.db", timeout=20):
    """Runs okr-server (arguments as start_server's) expecting it to stop by itself, e.g.
    on a configuration error; returns an Exited."""
    try:
        res = subprocess.run(server_argv(binary, tmp_dir, args, db_name),
                             env=child_env(**(env or {})), capture_output=True, text=True,
                             timeout=timeout)
        return Exited(res.returncode, res.stdout, res.stderr)
    except subprocess.TimeoutExpired as e:
        return Exited(None, "", f"still running after {timeout} s: {e.stdout!r} {e.stderr!r}")


@contextlib.contextmanager
def temp_dir(prefix):
    """A temporary directory, removed with everything in it at the end of the block."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# The client

class Client:
    """Every OkrService method as an attribute, through grpcio's generic stubs:
    client.CreateTeam(req, timeout=10, metadata=()) returns the response, a server-streaming
    method (client.streaming) returns the response iterator. Calls carry this client's
    metadata: `authorization: Bearer <token>` when a token is given, then `metadata`."""

    def __init__(self, channel, pb, token=None, metadata=(), _calls=None):
        self._channel, self._pb = channel, pb
        self._metadata = ([("authorization", f"Bearer {token}")] if token is not None else [])
        self._metadata += list(metadata)
        if _calls is None:
            _calls = {}
            from google.protobuf import descriptor_pb2, empty_pb2
            for method in pb.DESCRIPTOR.services_by_name["OkrService"].methods:
                out_cls = (empty_pb2.Empty
                           if method.output_type.full_name == "google.protobuf.Empty"
                           else getattr(pb, method.output_type.name))
                shape = descriptor_pb2.MethodDescriptorProto()
                method.CopyToProto(shape)
                make = channel.unary_stream if shape.server_streaming else channel.unary_unary
                _calls[method.name] = (make(f"/okr.v1.OkrService/{method.name}",
                                            request_serializer=lambda m: m.SerializeToString(),
                                            response_deserializer=out_cls.FromString),
                                       shape.server_streaming)
        self._calls = _calls
        self.streaming = {name for name, (_, stream) in _calls.items() if stream}

    def with_authorization(self, value):
        """A client on the same channel sending `authorization: <value>` (None: none)."""
        md = [] if value is None else [("authorization", value)]
        return Client(self._channel, self._pb, metadata=md, _calls=self._calls)

    def bearer(self, secret):
        """A client on the same channel sending `authorization: Bearer <secret>`."""
        return self.with_authorization(f"Bearer {secret}")

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._calls:
            raise AttributeError(name)
        call, stream = self._calls[name]

        def invoke(req, timeout=DEFAULT_DEADLINE_S, metadata=(), **kwargs):
            return call(req, timeout=timeout, metadata=self._metadata + list(metadata),
                        **kwargs)
        invoke.server_streaming = stream
        invoke.__name__ = name
        return invoke


def outcome(fn, req, timeout=DEFAULT_DEADLINE_S):
    """(code, details, response) of fn(req); details is "" for OK and response None for an
    error. For a server-streaming method of a Client the response is the stream's first
    message (None if it ended empty) and the stream is cancelled."""
    try:
        resp = fn(req, timeout=timeout)
        if getattr(fn, "server_streaming", False):
            first = next(resp, None)
            resp.cancel()
            return grpc.StatusCode.OK, "", first
        return grpc.StatusCode.OK, "", resp
    except grpc.RpcError as e:
        return e.code(), e.details() or "", None


def code_of(fn, req, timeout=DEFAULT_DEADLINE_S):
    """(code, details) of fn(req)."""
    code, details, _ = outcome(fn, req, timeout)
    return code, details


# ---------------------------------------------------------------------------------------
# HTTP and TLS

def http_get(port, path, tls_context=None, timeout=10):
    """GET http(s)://127.0.0.1:<port><path> without any proxy: (status, body text); an error
    status is returned like a success, a transport failure (refused, TLS, bad answer) as
    (None, repr(exception)). HTTPS when an ssl.SSLContext is given."""
    scheme = "https" if tls_context is not None else "http"
    handlers = [urllib.request.ProxyHandler({})]
    if tls_context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=tls_context))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(f"{scheme}://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        return None, repr(e)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    """Writes ca.crt, server.{crt,key} (for localhost and 127.0.0.1, signed by ca),
    client.{crt,key} (signed by ca), foreign-ca.crt and foreign-client.{crt,key} (signed by
    foreign-ca) into d, made with the `openssl` command line; returns {file name: path}."""
    os.makedirs(d, exist_ok=True)

    def ca(name, cn):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={cn}",
                cwd=d)

    def leaf(name, ca_name, cn, ext):
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca_name}.crt", "-CAkey",
                f"{ca_name}.key", "-CAcreateserial", "-out", f"{name}.crt", "-days", "2",
                "-extfile", f"{name}.ext", cwd=d)

    ca("ca", "okr-test-ca")
    ca("foreign-ca", "someone-elses-ca")
    leaf("server", "ca", "localhost",
         "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
         "basicConstraints=CA:FALSE\n")
    leaf("client", "ca", "okr-client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    leaf("foreign-client", "foreign-ca", "okr-client",
         "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    return {n: os.path.join(d, n) for n in os.listdir(d)}


# ---------------------------------------------------------------------------------------
# Results

class Checks:
    """Named checks, printed as they are made; finish() sums them up."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        """Records one check and prints `ok   name`, or `FAIL name: detail` (a detail of
        several lines goes below the name). Returns bool(cond)."""
        if cond:
            self.passed += 1
            print("ok   " + name)
        else:
            self.failed += 1
            text = str(detail)
            suffix = "" if text == "" else (":\n" if "\n" in text.rstrip("\n") else ": ") + text
            print("FAIL " + name + suffix)
        return bool(cond)

    def section(self, name, fn, *args):
        """Runs one part of a test; an exception fails it and the next part still runs."""
        print(f"--- {name}")
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 -- report and go on with the other parts
            self.check(f"{name} ran to the end", False, traceback.format_exc())

    def exit_code(self):
        """1 on any failure or when nothing was checked, else 0."""
        return 1 if self.failed or not self.passed else 0

    def finish(self):
        """Prints `N passed, M failed` and exits with exit_code()."""
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(self.exit_code())
