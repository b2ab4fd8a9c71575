#!/usr/bin/python3
"""Runs README's Node client example (the ```js block between <!-- node-example --> and
<!-- /node-example -->) exactly as written, with node, against the real okr-server binary:
@grpc/grpc-js and @grpc/proto-loader loading proto/okr/v1/okr_service.proto at run time,
the admin token read from okr.db.admin-token. Checks it printed the objective at progress
0.5 and left team, cycle, objective, key result and check-in in the server (see
readme_examples.py).

The npm packages are test tools installed by .ci/install-deps.sh into
${OKR_NPM_PREFIX:-$HOME/.cache/okr-npm}, outside the repository; node finds them through
NODE_PATH. A missing node or package fails the test with a message naming what to install.

Usage: readme_node_example_test.py OKR_SERVER_BINARY PROTO_ROOT README
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import os
import shutil
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readme_examples  # noqa: E402


def main():
    binary, proto_root, code = readme_examples.example_from_argv(
        __doc__, "node-example", "js", "Node")
    node = shutil.which("node")
    npm_prefix = os.environ.get("OKR_NPM_PREFIX") or os.path.join(
        os.environ.get("HOME") or "/tmp", ".cache", "okr-npm")
    node_modules = os.path.join(npm_prefix, "node_modules")
    missing = [p for p in ("@grpc/grpc-js", "@grpc/proto-loader")
               if not os.path.isfile(os.path.join(node_modules, p, "package.json"))]
    if not node or missing:
        print(f"FAIL node or npm packages missing (node: {node}, missing in {node_modules}: "
              f"{missing}); run .ci/install-deps.sh (Debian nodejs npm, then "
              f"npm install --prefix {npm_prefix} @grpc/grpc-js@1 @grpc/proto-loader@0)")
        return 1
    r = readme_examples.Checks()
    r.check("the example uses @grpc/grpc-js and @grpc/proto-loader",
            'require("@grpc/grpc-js")' in code and 'require("@grpc/proto-loader")' in code)
    r.check("the example loads okr/v1/okr_service.proto from proto/",
            '"okr/v1/okr_service.proto"' in code and '"proto"' in code)
    r.check("the example reads its address from OKR_ADDRESS", "process.env.OKR_ADDRESS" in code)
    readme_examples.run(r, binary, proto_root, code, "example.js",
                        lambda path: [node, path],
                        expect_output=r"^objectives/\S+ progress: 0\.5$",
                        extra_env={"NODE_PATH": node_modules})
    r.finish()


if __name__ == "__main__":
    sys.exit(main())
