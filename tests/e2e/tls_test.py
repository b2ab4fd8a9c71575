#!/usr/bin/python3
"""End-to-end test of okr-server's TLS from another language: Debian's python3-grpcio and
Python's ssl module against the real okr-server binary, with certificates made by the
`openssl` command line for this run (a CA, a server certificate for 127.0.0.1/localhost,
a client certificate from the CA and one from a foreign CA).

  1. TLS (--tls-cert-file/--tls-key-file): an RPC over a TLS channel that trusts the CA
     works; a plaintext channel and a channel trusting only the foreign CA fail
     (UNAVAILABLE); GET /healthz over HTTPS works, plain HTTP does not.
  2. mTLS (--tls-client-ca-file as well): the RPC works with the client certificate and
     fails without one or with the foreign one; HTTPS still needs no client certificate.
  3. Startup errors: a lone --tls-cert-file exits 2 naming --tls-key-file; a missing,
     non-PEM or mismatched file exits non-zero naming its flag.

Usage: tls_test.py OKR_SERVER_BINARY PROTO_ROOT
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import os
import ssl
import sys

import grpc

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import okr_e2e  # noqa: E402
from okr_e2e import Client, http_get  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    binary, proto_root = sys.argv[1], sys.argv[2]
    r = okr_e2e.Checks()
    check = r.check
    with okr_e2e.temp_dir("okr-tls-e2e-") as tmp:
        scenario(check, binary, proto_root, tmp)
    r.finish()


def scenario(check, binary, proto_root, tmp):
    pb = okr_e2e.build_messages(proto_root, tmp)
    c = okr_e2e.make_certs(os.path.join(tmp, "certs"))
    ca, foreign_ca = read(c["ca.crt"]), read(c["foreign-ca.crt"])

    def start(name, flags):
        """okr-server with a fresh SQLite database <name>.db and the given flags."""
        return okr_e2e.start_server(binary, tmp, ["--auth=none", *flags], name=name,
                                    db_name=f"{name}.db")

    def startup_error(name, flags):
        """okr-server expected to stop at startup: (exit code or None, output)."""
        done = okr_e2e.run_to_exit(binary, tmp, ["--auth=none", *flags], db_name=f"{name}.db")
        return done.returncode, done.output

    def get_team(channel, team_id):
        return Client(channel, pb).GetTeam(pb.GetTeamRequest(name=f"teams/{team_id}"))

    def create_team(channel, team_id):
        return Client(channel, pb).CreateTeam(pb.CreateTeamRequest(
            team_id=team_id, team=pb.Team(display_name="T")))

    def rpc_code(channel_factory, fn=get_team, team_id="payments"):
        try:
            with channel_factory() as channel:
                fn(channel, team_id)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            return e.code(), e.details()

    def tls_channel(port, root=ca, key=None, chain=None):
        creds = grpc.ssl_channel_credentials(root_certificates=root, private_key=key,
                                             certificate_chain=chain)
        return lambda: grpc.secure_channel(f"127.0.0.1:{port}", creds)

    def https_get(port, path, cafile=c["ca.crt"]):
        return http_get(port, path, tls_context=ssl.create_default_context(cafile=cafile))

    # --- 1. TLS -------------------------------------------------------------------
    server = start("tls", [f"--tls-cert-file={c['server.crt']}",
                           f"--tls-key-file={c['server.key']}"])
    try:
        port = server.grpc_port
        code, msg = rpc_code(tls_channel(port), create_team)
        check("TLS: CreateTeam over a channel trusting the CA works",
              code == grpc.StatusCode.OK, (code, msg))
        code, msg = rpc_code(tls_channel(port))
        check("TLS: GetTeam over TLS reads it back", code == grpc.StatusCode.OK, (code, msg))
        code, msg = rpc_code(lambda: grpc.insecure_channel(f"127.0.0.1:{port}"))
        check("TLS: a plaintext channel fails with UNAVAILABLE",
              code == grpc.StatusCode.UNAVAILABLE, (code, msg))
        code, msg = rpc_code(tls_channel(port, root=foreign_ca))
        check("TLS: a client that does not trust the server's CA fails with UNAVAILABLE",
              code == grpc.StatusCode.UNAVAILABLE, (code, msg))
        code, msg = rpc_code(lambda: grpc.secure_channel(
            f"127.0.0.1:{port}", grpc.ssl_channel_credentials(root_certificates=ca),
            options=[("grpc.ssl_target_name_override", "localhost")]))
        check("TLS: the certificate is valid for localhost too", code == grpc.StatusCode.OK,
              (code, msg))
        status, body = https_get(server.http_port, "/healthz")
        check("TLS: HTTPS GET /healthz with the CA answers 200", status == 200, (status, body))
        status, body = https_get(server.http_port, "/readyz")
        check("TLS: HTTPS GET /readyz answers 200", status == 200, (status, body))
        status, body = https_get(server.http_port, "/healthz", cafile=c["foreign-ca.crt"])
        check("TLS: HTTPS with a foreign CA fails certificate verification",
              status is None and "CERTIFICATE_VERIFY_FAILED" in body, (status, body))
        status, body = http_get(server.http_port, "/healthz")
        check("TLS: plain HTTP GET /healthz fails", status is None, (status, body))
        status, body = https_get(server.http_port, "/healthz")
        check("TLS: HTTPS still answers after the plain HTTP attempt", status == 200,
              (status, body))
    finally:
        rc = server.stop()
        check("TLS: server exits 0 on SIGTERM", rc == 0, rc)

    # --- 2. mTLS ------------------------------------------------------------------
    server = start("mtls", [f"--tls-cert-file={c['server.crt']}",
                            f"--tls-key-file={c['server.key']}",
                            f"--tls-client-ca-file={c['ca.crt']}"])
    try:
        port = server.grpc_port
        client_key, client_crt = read(c["client.key"]), read(c["client.crt"])
        code, msg = rpc_code(tls_channel(port, key=client_key, chain=client_crt), create_team)
        check("mTLS: CreateTeam with the client certificate works",
              code == grpc.StatusCode.OK, (code, msg))
        code, msg = rpc_code(tls_channel(port, key=client_key, chain=client_crt))
        check("mTLS: GetTeam with the client certificate works",
              code == grpc.StatusCode.OK, (code, msg))
        code, msg = rpc_code(tls_channel(port))
        check("mTLS: without a client certificate the RPC fails with UNAVAILABLE",
              code == grpc.StatusCode.UNAVAILABLE, (code, msg))
        code, msg = rpc_code(tls_channel(port, key=read(c["foreign-client.key"]),
                                         chain=read(c["foreign-client.crt"])))
        check("mTLS: a client certificate from another CA fails with UNAVAILABLE",
              code == grpc.StatusCode.UNAVAILABLE, (code, msg))
        code, msg = rpc_code(lambda: grpc.insecure_channel(f"127.0.0.1:{port}"))
        check("mTLS: a plaintext channel fails with UNAVAILABLE",
              code == grpc.StatusCode.UNAVAILABLE, (code, msg))
        status, body = https_get(server.http_port, "/healthz")
        check("mTLS: HTTPS GET /healthz needs no client certificate (webhooks)",
              status == 200, (status, body))
    finally:
        rc = server.stop()
        check("mTLS: server exits 0 on SIGTERM", rc == 0, rc)

    # --- 3. Startup errors --------------------------------------------------------
    rc, out = startup_error("cert-only", [f"--tls-cert-file={c['server.crt']}"])
    check("startup: --tls-cert-file alone exits 2 naming --tls-key-file",
          rc == 2 and "--tls-key-file" in out, (rc, out))
    rc, out = startup_error("ca-only", [f"--tls-client-ca-file={c['ca.crt']}"])
    check("startup: --tls-client-ca-file without a certificate exits 2",
          rc == 2 and "--tls-client-ca-file" in out, (rc, out))
    missing = os.path.join(tmp, "no-such-cert.pem")
    cert, key = f"--tls-cert-file={c['server.crt']}", f"--tls-key-file={c['server.key']}"
    # (name, flags, what it is, every fragment the output must hold); each exits non-zero.
    for name, flags, desc, fragments in [
            ("missing-cert", [f"--tls-cert-file={missing}", key],
             "a missing certificate file exits non-zero naming --tls-cert-file",
             [f"--tls-cert-file: {missing}"]),
            ("missing-key", [cert, f"--tls-key-file={missing}"],
             "a missing key file exits non-zero naming --tls-key-file",
             [f"--tls-key-file: {missing}"]),
            ("key-as-cert", [f"--tls-cert-file={c['server.key']}", key],
             "a certificate file without a certificate names --tls-cert-file",
             ["--tls-cert-file", "no PEM certificate"]),
            ("wrong-key", [cert, f"--tls-key-file={c['client.key']}"],
             "a key of another certificate names --tls-key-file",
             ["--tls-key-file", "does not belong"]),
            ("bad-ca", [cert, key, f"--tls-client-ca-file={c['client.key']}"],
             "a client CA file without certificates names --tls-client-ca-file",
             ["--tls-client-ca-file"]),
            ("missing-ca", [cert, key, f"--tls-client-ca-file={missing}"],
             "a missing client CA file names --tls-client-ca-file",
             [f"--tls-client-ca-file: {missing}"])]:
        rc, out = startup_error(name, flags)
        check(f"startup: {desc}", rc not in (0, None) and all(f in out for f in fragments),
              (rc, out))

if __name__ == "__main__":
    main()
