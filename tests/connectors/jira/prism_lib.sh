# Shared by the Prism tests of the Jira connector (source it; bash only): finds Prism, starts
# it in proxy mode with --errors in front of an upstream (the fake Jira) and checks its log
# for contract violations afterwards.
#
#   source prism_lib.sh
#   prism_find                                 # sets PRISM_BIN; exits 77 if absent (1 in CI)
#   prism_check_spec "$SPEC"                   # exits 1 if the OpenAPI file is unreadable
#   prism_start "$SPEC" "http://127.0.0.1:$P" "$LOG"   # sets PRISM_PID and PROXY_PORT
#   ...run the connector against http://127.0.0.1:$PROXY_PORT, keeping its exit code...
#   prism_verdict "$LOG" "$rc" "what ran"      # exits 1 on violations or rc != 0
#
# Prism comes from npm, installed outside the repo by .ci/install-deps.sh:
#   npm install --prefix ~/.cache/okr-npm @stoplight/prism-cli@5
# It is looked up in $PRISM, then $OKR_NPM_PREFIX (default ~/.cache/okr-npm), then PATH.
# Startup is bounded by PRISM_START_TIMEOUT (default 240 s; Prism needs ~10-30 s to load the
# 2.3 MB spec on a busy 2-core machine).

prism_find() {
  PRISM_BIN=${PRISM:-}
  local npm_prefix=${OKR_NPM_PREFIX:-$HOME/.cache/okr-npm}
  if [[ -z "$PRISM_BIN" && -x "$npm_prefix/node_modules/.bin/prism" ]]; then
    PRISM_BIN=$npm_prefix/node_modules/.bin/prism
  fi
  if [[ -z "$PRISM_BIN" ]]; then
    PRISM_BIN=$(command -v prism || true)
  fi
  if [[ -z "$PRISM_BIN" && "${CI:-}" == "true" ]]; then
    echo "FAIL: Prism not found in CI (.ci/install-deps.sh installs it into $npm_prefix)" >&2
    exit 1
  fi
  if [[ -z "$PRISM_BIN" ]]; then
    echo "SKIP: Prism not found (set PRISM, or: npm install --prefix ~/.cache/okr-npm" \
         "@stoplight/prism-cli@5)"
    exit 77
  fi
}

prism_check_spec() {
  if [[ ! -r "$1" ]]; then
    echo "FAIL: OpenAPI spec not readable at $1 (shared/ must sit beside the clone)" >&2
    exit 1
  fi
}

# A port that was free a moment ago on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
}

# prism_start <spec> <upstream-url> <log>: starts Prism and waits until it listens. A free
# port can be taken between probing and Prism binding it, so this retries a few times.
prism_start() {
  local spec=$1 upstream=$2 log=$3
  local timeout=${PRISM_START_TIMEOUT:-240}
  local attempt port started_at deadline
  PROXY_PORT=""
  PRISM_PID=""
  for attempt in 1 2 3; do
    port=$(free_port)
    echo "== starting Prism ($PRISM_BIN, $("$PRISM_BIN" --version 2>/dev/null || echo '?'))" \
         "on 127.0.0.1:$port -> $upstream, attempt $attempt"
    "$PRISM_BIN" proxy --errors -h 127.0.0.1 -p "$port" "$spec" "$upstream" >"$log" 2>&1 &
    PRISM_PID=$!
    started_at=$(date +%s)
    deadline=$(( started_at + timeout ))
    while ! grep -q "Prism is listening" "$log"; do
      if ! kill -0 "$PRISM_PID" 2>/dev/null; then
        break
      fi
      if (( $(date +%s) > deadline )); then
        echo "FAIL: Prism did not start within $timeout s; last log lines:" >&2
        tail -n 20 "$log" >&2
        exit 1
      fi
      sleep 0.2
    done
    if grep -q "Prism is listening" "$log"; then
      PROXY_PORT=$port
      echo "Prism ready after $(( $(date +%s) - started_at )) s"
      return 0
    fi
    wait "$PRISM_PID" 2>/dev/null || true
    PRISM_PID=""
    if ! grep -q "EADDRINUSE" "$log"; then
      echo "FAIL: Prism exited during startup:" >&2; tail -n 30 "$log" >&2; exit 1
    fi
  done
  echo "FAIL: Prism could not bind a port in 3 attempts" >&2
  exit 1
}

# prism_violations <log>: everything Prism flagged after startup (its startup listing of
# example routes is noise), even if the connector coped with it: errors (✖), warnings (⚠)
# and validator output. One exception: "Unable to match the returned status code" right
# after an upstream 429. Jira documents that any REST call may be rate limited with a 429
# and Retry-After (developer.atlassian.com/cloud/jira/platform/rate-limiting/), but the
# OpenAPI file lists 429 on only a few operations, so a fake answering 429 to exercise the
# retry path is not a contract violation.
prism_violations() {
  sed -n '/Prism is listening/,$p' "$1" | awk '
    /The upstream call to .* has returned [0-9]+/ {
      last_status = $NF
      next
    }
    /Unable to match the returned status code/ && last_status == "429" { next }
    /✖|⚠|[Vv]iolation|VIOLATIONS|UNPROCESSABLE|VALIDATOR/ { print }
  '
}

# prism_verdict <log> <exit code of what ran through Prism> <its name>: fails (exit 1) on any
# violation Prism logged, then on a non-zero exit code; prints PASS otherwise.
prism_verdict() {
  local log=$1 rc=$2 what=$3 violations
  violations=$(prism_violations "$log")
  if [[ -n "$violations" ]]; then
    echo "FAIL: Prism reported contract violations:" >&2
    echo "$violations" >&2
    exit 1
  fi
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: $what exited with $rc; Prism log tail:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  echo "PASS: $what passed through Prism, no contract violations"
}
