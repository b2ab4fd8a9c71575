#!/usr/bin/env bash
# Runs the Jira sync integration tests with Stoplight Prism (proxy mode, --errors) between
# the connector and the fake Jira, so every request the connector sends and every response
# the fake serves is validated against Atlassian's OpenAPI file. A request violation comes
# back as a 422 and a response violation as a 500, failing the test that caused it; the run
# also fails on any violation Prism only logs (prism_lib.sh).
#
#   prism_integration_test.sh <connectors_jira_sync_integration_test> <openapi.json> [gtest args]
#
# One Prism serves the whole binary (it needs 10-30 s to start). The script picks the port
# the binary's shared fake binds (OKR_TEST_FAKE_JIRA_PORT), starts Prism forwarding to it, and
# points the connector at Prism (OKR_TEST_JIRA_URL); see jira_test_stack.h. Exit 77 (skipped)
# only when Prism is not installed.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <integration_test_binary> <openapi.json> [gtest args...]" >&2
  exit 2
fi
TEST_BIN=$1
SPEC=$2
shift 2
source "$(dirname "${BASH_SOURCE[0]}")/prism_lib.sh"
prism_find
prism_check_spec "$SPEC"

WORK=$(mktemp -d)
PRISM_PID=""
cleanup() {
  if [[ -n "$PRISM_PID" ]]; then
    kill "$PRISM_PID" 2>/dev/null || true
    wait "$PRISM_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAKE_PORT=$(free_port)
prism_start "$SPEC" "http://127.0.0.1:$FAKE_PORT" "$WORK/prism.log"

echo "== running $(basename "$TEST_BIN") through Prism (fake Jira on 127.0.0.1:$FAKE_PORT)"
test_rc=0
OKR_TEST_FAKE_JIRA_PORT=$FAKE_PORT OKR_TEST_JIRA_URL="http://127.0.0.1:$PROXY_PORT" \
  timeout 300 "$TEST_BIN" "$@" || test_rc=$?

prism_verdict "$WORK/prism.log" "$test_rc" "$(basename "$TEST_BIN")"
