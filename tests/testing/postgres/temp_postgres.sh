#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: initdb in a temp directory, trust auth, listening
# on 127.0.0.1 on a free port and on a Unix socket inside that directory, tuned for speed
# (fsync off: the data is disposable). Uses the Debian postgresql-15 binaries; as root it
# runs the server as the `postgres` OS user (initdb refuses to run as root).
#
#   eval "$(tests/testing/postgres/temp_postgres.sh start)"   # exports OKR_TEST_POSTGRES_*
#   ... run tests ...
#   tests/testing/postgres/temp_postgres.sh stop "$OKR_TEST_POSTGRES_DIR"
#
# Subcommands:
#   start            creates and starts a server; prints `export VAR=...` lines for eval:
#                    OKR_TEST_POSTGRES_URL (libpq URI of the `postgres` superuser database),
#                    OKR_TEST_POSTGRES_DIR (the temp directory), OKR_TEST_POSTGRES_CTL
#                    (this script, for tests that stop/start a server of their own).
#   stop DIR         stops the server of DIR (if running) and deletes DIR.
#   ctl DIR stop     stops the server of DIR, keeping its data (clients see it go away).
#   ctl DIR start    starts it again on the same port.
#   ctl DIR status   exit 0 if it is running.
#   ctl DIR freeze   SIGSTOPs the server's processes (by PID): connections stay open but
#                    nothing answers, like a hung host or a black-holed network.
#   ctl DIR thaw     SIGCONTs them.
# Progress and errors go to stderr; only the export lines go to stdout.
set -euo pipefail

pg_bin=${OKR_PG_BIN:-}
if [ -z "$pg_bin" ]; then
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && pg_bin=$d
  done
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "temp_postgres: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 1
fi

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# Runs a command as the server's OS user: `postgres` when we are root, else ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pg_ctl start with the options this script uses; $1 = dir, $2 = port.
pg_start() {
  local dir=$1 port=$2
  as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -s \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB" start >&2
}

# Waits (up to 30 s) until the server of $1 accepts connections.
wait_ready() {
  local dir=$1 port deadline
  port=$(cat "$dir/port")
  deadline=$(( $(date +%s) + 30 ))
  until "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "temp_postgres: server in $dir not ready after 30s; log:" >&2
      tail -n 30 "$dir/server.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

cmd_start() {
  local dir port attempt
  dir=$(mktemp -d "${TMPDIR:-/tmp}/okr-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if ! as_pg "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
    echo "temp_postgres: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 1
  fi
  for attempt in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 30000 ))
    port_in_use "$port" && continue
    echo "$port" >"$dir/port"
    if pg_start "$dir" "$port"; then
      wait_ready "$dir"
      echo "temp_postgres: server on 127.0.0.1:$port, data in $dir" >&2
      echo "export OKR_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/postgres"
      echo "export OKR_TEST_POSTGRES_DIR=$dir"
      echo "export OKR_TEST_POSTGRES_CTL=$self"
      return 0
    fi
    echo "temp_postgres: start on port $port failed (attempt $attempt)" >&2
  done
  tail -n 30 "$dir/server.log" >&2 || true
  rm -rf "$dir"
  return 1
}

check_dir() {
  if [ -z "${1:-}" ] || [ ! -f "$1/port" ] || [ ! -d "$1/data" ]; then
    echo "temp_postgres: \"${1:-}\" is not a directory made by '$0 start'" >&2
    exit 2
  fi
}

# The postmaster's PID and its children's (the backends), if it runs.
server_pids() {
  local pid
  [ -f "$1/data/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$1/data/postmaster.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  echo "$pid" $(pgrep -P "$pid" || true)
}

cmd_stop() {
  local dir=${1:-}
  check_dir "$dir"
  if [ -f "$dir/data/postmaster.pid" ]; then
    # A frozen server would ignore the stop request.
    kill -CONT $(server_pids "$dir") 2>/dev/null || true
    as_pg "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >&2 || true
  fi
  rm -rf "$dir"
}

cmd_ctl() {
  local dir=${1:-} action=${2:-}
  check_dir "$dir"
  case "$action" in
    stop) as_pg "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 -s stop >&2 ;;
    start) pg_start "$dir" "$(cat "$dir/port")" && wait_ready "$dir" ;;
    status) as_pg "$pg_bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 ;;
    freeze) kill -STOP $(server_pids "$dir") ;;
    thaw) kill -CONT $(server_pids "$dir") ;;
    *) echo "usage: $0 ctl DIR stop|start|status|freeze|thaw" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  ctl) cmd_ctl "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 start | stop DIR | ctl DIR stop|start|status|freeze|thaw" >&2; exit 2 ;;
esac
