#!/usr/bin/env bash
# CI: a throwaway PostgreSQL server for the test run (the PostgreSQL store's tests need
# one; with CI=true they fail instead of skipping when none is configured). Installs
# nothing: .ci/install-deps.sh already lists `postgresql`.
#
#   eval "$(.ci/start-postgres.sh start)"          # exports OKR_TEST_POSTGRES_URL/_DIR/_CTL
#   trap '.ci/start-postgres.sh stop' EXIT          # uses $OKR_TEST_POSTGRES_DIR
#
# The work is done by tests/testing/postgres/temp_postgres.sh (also usable by hand).
set -euo pipefail
helper="$(cd "$(dirname "$0")/.." && pwd)/tests/testing/postgres/temp_postgres.sh"

case "${1:-}" in
  start)
    exec "$helper" start
    ;;
  stop)
    dir=${2:-${OKR_TEST_POSTGRES_DIR:-}}
    if [ -z "$dir" ]; then
      echo "start-postgres: stop: no directory (pass it or set OKR_TEST_POSTGRES_DIR)" >&2
      exit 2
    fi
    exec "$helper" stop "$dir"
    ;;
  *)
    echo "usage: $0 start | stop [DIR]" >&2
    exit 2
    ;;
esac
