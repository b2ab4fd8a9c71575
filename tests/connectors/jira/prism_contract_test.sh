#!/usr/bin/env bash
# Contract test: the production JiraClient talks to fake_jira_main through Stoplight Prism
# in proxy mode, which validates every request and every response against Atlassian's
# OpenAPI file (--errors turns a violation into a 422 for the request / 500 for the response,
# so the client step fails). The test also fails on any violation Prism logs.
#
#   prism_contract_test.sh <fake_jira_main> <jira_contract_client> <openapi.json>
#
# Prism comes from npm, installed outside the repo:
#   npm install --prefix ~/.cache/okr-npm @stoplight/prism-cli@5
# It is looked up in $PRISM, then ~/.cache/okr-npm/node_modules/.bin/prism, then PATH; if it
# is missing the test exits 77 (reported by CTest as skipped, with the reason). Waits are
# bounded: PRISM_START_TIMEOUT (default 240 s; Prism needs ~30 s to load the 2.3 MB spec on
# a busy 2-core machine) and 120 s for the client.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 <fake_jira_main> <jira_contract_client> <openapi.json>" >&2
  exit 2
fi
FAKE_BIN=$1
CLIENT_BIN=$2
SPEC=$3
START_TIMEOUT=${PRISM_START_TIMEOUT:-240}

PRISM_BIN=${PRISM:-}
NPM_PREFIX=${OKR_NPM_PREFIX:-$HOME/.cache/okr-npm}
if [[ -z "$PRISM_BIN" && -x "$NPM_PREFIX/node_modules/.bin/prism" ]]; then
  PRISM_BIN=$NPM_PREFIX/node_modules/.bin/prism
fi
if [[ -z "$PRISM_BIN" ]]; then
  PRISM_BIN=$(command -v prism || true)
fi
if [[ -z "$PRISM_BIN" && "${CI:-}" == "true" ]]; then
  echo "FAIL: Prism not found in CI (.ci/install-deps.sh installs it into $NPM_PREFIX)" >&2
  exit 1
fi
if [[ -z "$PRISM_BIN" ]]; then
  echo "SKIP: Prism not found (set PRISM, or: npm install --prefix ~/.cache/okr-npm" \
       "@stoplight/prism-cli@5)"
  exit 77
fi
if [[ ! -r "$SPEC" ]]; then
  echo "FAIL: OpenAPI spec not readable at $SPEC (shared/ must sit beside the clone)" >&2
  exit 1
fi

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

# Whole-second deadlines are precise enough here.
deadline_after() { echo $(( $(date +%s) + $1 )); }

echo "== starting fake Jira"
"$FAKE_BIN" --port=0 --port_file="$WORK/fake.port" --seed=3 >"$WORK/fake.log" 2>&1 &
FAKE_PID=$!
deadline=$(deadline_after 20)
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

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
}

# A free port can be taken between probing and Prism binding it: retry a few times.
PROXY_PORT=""
for attempt in 1 2 3; do
  port=$(free_port)
  echo "== starting Prism ($PRISM_BIN, $("$PRISM_BIN" --version 2>/dev/null || echo '?'))" \
       "on 127.0.0.1:$port, attempt $attempt"
  "$PRISM_BIN" proxy --errors -h 127.0.0.1 -p "$port" "$SPEC" "http://127.0.0.1:$FAKE_PORT" \
    >"$WORK/prism.log" 2>&1 &
  PRISM_PID=$!
  started_at=$(date +%s)
  deadline=$(deadline_after "$START_TIMEOUT")
  while ! grep -q "Prism is listening" "$WORK/prism.log"; do
    if ! kill -0 "$PRISM_PID" 2>/dev/null; then
      break
    fi
    if (( $(date +%s) > deadline )); then
      echo "FAIL: Prism did not start within $START_TIMEOUT s; last log lines:" >&2
      tail -n 20 "$WORK/prism.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  if grep -q "Prism is listening" "$WORK/prism.log"; then
    PROXY_PORT=$port
    echo "Prism ready after $(( $(date +%s) - started_at )) s"
    break
  fi
  wait "$PRISM_PID" 2>/dev/null || true
  PRISM_PID=""
  if ! grep -q "EADDRINUSE" "$WORK/prism.log"; then
    echo "FAIL: Prism exited during startup:" >&2; tail -n 30 "$WORK/prism.log" >&2; exit 1
  fi
done
if [[ -z "$PROXY_PORT" ]]; then
  echo "FAIL: Prism could not bind a port in 3 attempts" >&2; exit 1
fi

echo "== running the Jira client through Prism"
client_rc=0
timeout 120 "$CLIENT_BIN" --base_url="http://127.0.0.1:$PROXY_PORT" || client_rc=$?

# Anything Prism flagged after startup (its startup listing of example routes is noise), even
# if the client coped with it: errors (✖), warnings (⚠) and validator output.
violations=$(sed -n '/Prism is listening/,$p' "$WORK/prism.log" |
             grep -aE "✖|⚠|[Vv]iolation|VIOLATIONS|UNPROCESSABLE|VALIDATOR" || true)
if [[ -n "$violations" ]]; then
  echo "FAIL: Prism reported contract violations:" >&2
  echo "$violations" >&2
  exit 1
fi
if [[ $client_rc -ne 0 ]]; then
  echo "FAIL: jira_contract_client exited with $client_rc; Prism log tail:" >&2
  tail -n 40 "$WORK/prism.log" >&2
  exit 1
fi
echo "PASS: no contract violations"
