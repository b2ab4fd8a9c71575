#!/usr/bin/env bash
# Contract test: the production JiraClient talks to fake_jira_main through Stoplight Prism
# in proxy mode, which validates every request and every response against Atlassian's
# OpenAPI file (--errors turns a violation into a 422 for the request / 500 for the response,
# so the client step fails). The test also fails on any violation Prism logs.
#
#   prism_contract_test.sh <fake_jira_main> <jira_contract_client> <openapi.json>
#
# Finding and starting Prism: prism_lib.sh (exit 77, reported by CTest as skipped, when Prism
# is not installed). The client gets 120 s.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 <fake_jira_main> <jira_contract_client> <openapi.json>" >&2
  exit 2
fi
FAKE_BIN=$1
CLIENT_BIN=$2
SPEC=$3
source "$(dirname "${BASH_SOURCE[0]}")/prism_lib.sh"
prism_find
prism_check_spec "$SPEC"

WORK=$(mktemp -d)
FAKE_PID=""
PRISM_PID=""
cleanup() {
  for pid in $PRISM_PID $FAKE_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $PRISM_PID $FAKE_PID; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting fake Jira"
"$FAKE_BIN" --port=0 --port_file="$WORK/fake.port" --seed=3 \
  --project_issue_types=OKRS:Epic,Story,Bug,Sub-task >"$WORK/fake.log" 2>&1 &
FAKE_PID=$!
deadline=$(( $(date +%s) + 20 ))
until [[ -s "$WORK/fake.port" ]]; do
  if ! kill -0 "$FAKE_PID" 2>/dev/null; then
    echo "FAIL: fake_jira_main exited:" >&2; cat "$WORK/fake.log" >&2; exit 1
  fi
  if (( $(date +%s) > deadline )); then
    echo "FAIL: fake_jira_main did not start within 20 s" >&2; exit 1
  fi
  sleep 0.1
done
FAKE_PORT=$(cat "$WORK/fake.port")
echo "fake Jira on 127.0.0.1:$FAKE_PORT"

prism_start "$SPEC" "http://127.0.0.1:$FAKE_PORT" "$WORK/prism.log"

echo "== running the Jira client through Prism"
client_rc=0
timeout 120 "$CLIENT_BIN" --base_url="http://127.0.0.1:$PROXY_PORT" || client_rc=$?

prism_verdict "$WORK/prism.log" "$client_rc" "jira_contract_client"
