#!/usr/bin/env bash
# Installs the Debian 12 packages okr-service needs to build, run and test, skipping what
# is already installed. Usage: .ci/install-deps.sh [--runtime-only]
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev libsimdjson-dev libssl-dev
  libsqlite3-dev libpq-dev golang-github-gogo-googleapis-dev prometheus-cpp-dev
  libctemplate-dev libboost-dev)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-grpcio python3-protobuf python3-yaml openssl
  nghttp2-client postgresql curl prometheus
  golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
  chromium
  clang-14 libfuzzer-14-dev libclang-rt-14-dev)

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" != "--runtime-only" ]; then
  pkgs+=("${test_pkgs[@]}")
  # The chart check validates values with a JSON-schema validator from npm.
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi

missing=()
npm_prefix="${OKR_NPM_PREFIX:-$HOME/.cache/okr-npm}"
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} Debian packages present"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test tools from npm, kept outside the repository: Prism validates the Jira connector's
# traffic against Atlassian's OpenAPI spec; ajv validates the chart's values; @grpc/grpc-js
# and @grpc/proto-loader run README's Node client example.
if [ "${1:-}" != "--runtime-only" ]; then
  if [ ! -x "$npm_prefix/node_modules/.bin/prism" ] || [ ! -x "$npm_prefix/node_modules/.bin/ajv" ] ||
     [ ! -f "$npm_prefix/node_modules/@grpc/grpc-js/package.json" ] ||
     [ ! -f "$npm_prefix/node_modules/@grpc/proto-loader/package.json" ]; then
    echo "install-deps: installing npm test tools into $npm_prefix"
    mkdir -p "$npm_prefix"
    npm install --silent --no-audit --no-fund --prefix "$npm_prefix" \
      @stoplight/prism-cli@5 ajv-cli@5 ajv-formats@3 @grpc/grpc-js@1 @grpc/proto-loader@0 >/dev/null
  fi
fi
