#!/bin/sh
# Builds the candidate HTTP edge servers of bench/http_edge/candidates into OUT_DIR.
# Usage: bench/http_edge/build_candidates.sh OUT_DIR
set -eu
out=${1:?usage: build_candidates.sh OUT_DIR}
src=$(cd "$(dirname "$0")/candidates" && pwd)
mkdir -p "$out"
lock=${OKR_BUILD_LOCK:-/tmp/okr-build.lock}
cc() {
  name=$1
  shift
  echo "building $out/$name" >&2
  flock "$lock" nice -n 19 g++ -std=c++17 -O2 -Wall -Wextra -o "$out/$name" \
    "$src/$name.cc" "$@" -pthread
}
cc httplib_server $(pkg-config --cflags --libs cpp-httplib 2>/dev/null || true)
cc mhd_server $(pkg-config --cflags --libs libmicrohttpd)
cc beast_server
cc evhttp_server $(pkg-config --cflags --libs libevent libevent_pthreads)
