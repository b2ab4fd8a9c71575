#!/usr/bin/env bash
# Checks the okr-service Helm chart without a helm binary (none is packaged for Debian 12).
#
#   bash tests/helm/check_chart.sh helm/okr-service
#
# 1. Chart.yaml, values.yaml and ci/*.yaml parse as YAML (PyYAML), values.schema.json as JSON;
#    values.yaml keeps the documented GitHub defaults.
# 2. values.yaml, and each ci/*.yaml merged over it, validate against values.schema.json
#    with ajv-cli (draft-07); a few known-bad values must be rejected.
# 3. Every .Values path a template references exists in values.yaml, every value is used
#    and commented, every include names a defined template (check_values_refs.py).
# 4. The sqlite guard exists: a `fail` for replicaCount > 1 (and autoscaling) in sqlite mode.
# 5. The chart renders (render/main.go: Go text/template + Sprig, as Helm) for the
#    defaults, each ci/*.yaml and a few more value sets; the manifests and NOTES.txt are
#    checked (check_rendered.py), and value sets the chart must refuse fail with their
#    message.
#
# Needs: python3 with PyYAML (Debian: python3-yaml); node and npm (ajv-cli@5 and
# ajv-formats are installed once into ${OKR_NPM_PREFIX:-$HOME/.cache/okr-npm}, outside the
# repository); Go with Sprig and sigs.k8s.io/yaml (Debian: golang-go
# golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev), built once into
# ${OKR_HELM_CACHE:-$HOME/.cache/okr-helm}. A missing tool fails its checks with a message
# naming what to install. Prints "N passed, M failed" last; exits 1 on any failure.
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/Chart.yaml" ]]; then
  echo "usage: $0 CHART_DIR   (a directory with Chart.yaml)" >&2
  exit 2
fi
CHART="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NPM_PREFIX="${OKR_NPM_PREFIX:-${HOME:-/tmp}/.cache/okr-npm}"
HELM_CACHE="${OKR_HELM_CACHE:-${HOME:-/tmp}/.cache/okr-helm}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/okr-chart-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# The Python helpers import each other: keep __pycache__ out of the source tree.
export PYTHONDONTWRITEBYTECODE=1

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }

# check NAME CMD...: runs CMD; its output is shown only when it fails.
check() {
  local name="$1"
  shift
  if "$@" >"$WORK/out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    sed 's/^/    /' "$WORK/out"
  fi
}

# check_fails NAME PATTERN CMD...: CMD must fail with output matching PATTERN (grep -E).
check_fails() {
  local name="$1" pattern="$2"
  shift 2
  if "$@" >"$WORK/out" 2>&1; then
    fail "$name (expected a failure, but it succeeded)"
  elif grep -Eq -- "$pattern" "$WORK/out"; then
    pass "$name"
  else
    fail "$name (failed, but without /$pattern/)"
    sed 's/^/    /' "$WORK/out"
  fi
}

ci_files=()
for f in "$CHART"/ci/*.yaml; do
  [[ -e "$f" ]] && ci_files+=("$f")
done

# --- 1. YAML and JSON parse ------------------------------------------------------------
PY=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then
    PY="$candidate"
    break
  fi
done
if [[ -z "$PY" ]]; then
  fail "python3 with PyYAML is needed for the YAML checks (apt-get install python3-yaml)"
  echo "$passed passed, $failed failed"
  exit 1
fi

for f in "$CHART/Chart.yaml" "$CHART/values.yaml" "${ci_files[@]}"; do
  check "YAML parses: ${f#"$CHART"/}" "$PY" "$HERE/chart_lib.py" parse "$f"
done
check "JSON parses: values.schema.json" "$PY" -m json.tool "$CHART/values.schema.json"
check "Chart.yaml: apiVersion v2, name okr-service, version 0.1.0, appVersion \"0.1.0\"" \
  "$PY" -c '
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
want = {"apiVersion": "v2", "name": "okr-service", "version": "0.1.0", "appVersion": "0.1.0"}
bad = {k: c.get(k) for k, v in want.items() if c.get(k) != v}
sys.exit("unexpected Chart.yaml fields: %r" % bad if bad else 0)' "$CHART/Chart.yaml"
check "values.yaml: GitHub defaults (off, https://api.github.com, OKR, weight:, /webhooks/github)" \
  "$PY" -c '
import sys, yaml
v = yaml.safe_load(open(sys.argv[1]))
want = {"enabled": False, "url": "https://api.github.com", "labelPrefix": "OKR",
        "weightLabelPrefix": "weight:", "token": "", "webhookSecret": ""}
bad = {k: v["github"].get(k) for k in want if v["github"].get(k) != want[k]}
keys = {k: v["secretKeys"].get(k) for k in ("githubToken", "githubWebhookSecret")}
if keys != {"githubToken": "github-token", "githubWebhookSecret": "github-webhook-secret"}:
    bad["secretKeys"] = keys
paths = [p["path"] for p in v["ingress"]["paths"]]
if "/webhooks/github" not in paths:
    bad["ingress.paths"] = paths
sys.exit("unexpected github defaults: %r" % bad if bad else 0)' "$CHART/values.yaml"
check "ci/ has sqlite-values.yaml and postgres-values.yaml" \
  test -f "$CHART/ci/sqlite-values.yaml" -a -f "$CHART/ci/postgres-values.yaml"

# --- 2. Schema validation with ajv-cli -------------------------------------------------
AJV="$NPM_PREFIX/node_modules/.bin/ajv"
ajv_ready=1
if [[ ! -x "$AJV" || ! -d "$NPM_PREFIX/node_modules/ajv-formats" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    fail "npm is needed to install ajv-cli (apt-get install npm, or nodejs with npm)"
    ajv_ready=0
  else
    echo "installing ajv-cli@5 and ajv-formats@3 into $NPM_PREFIX"
    mkdir -p "$NPM_PREFIX"
    if ! npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error \
      ajv-cli@5 ajv-formats@3 >"$WORK/npm.log" 2>&1; then
      fail "npm install --prefix $NPM_PREFIX ajv-cli@5 ajv-formats@3 failed (is the npm registry reachable?)"
      sed 's/^/    /' "$WORK/npm.log"
      ajv_ready=0
    fi
  fi
fi

# validate_merged NAME [OVERRIDE.yaml]: merges OVERRIDE over values.yaml as Helm does and
# validates the result against the schema.
validate_merged() {
  local json="$WORK/$1.json"
  shift
  "$PY" "$HERE/chart_lib.py" merge "$json" "$CHART/values.yaml" "$@" &&
    "$AJV" validate --spec=draft7 --all-errors --errors=text -c ajv-formats \
      -s "$CHART/values.schema.json" -d "$json"
}
# Strict mode only warns (on stderr) about e.g. union types: treat a warning as an error.
ajv_compile_clean() {
  local out rc=0
  out="$("$AJV" compile --spec=draft7 --strict=true -c ajv-formats \
    -s "$CHART/values.schema.json" 2>&1)" || rc=$?
  echo "$out"
  [[ "$rc" == 0 && "$out" != *"strict mode"* ]]
}
if [[ "$ajv_ready" == 1 ]]; then
  check "values.schema.json compiles (draft-07, strict, no warnings)" ajv_compile_clean
  check "schema accepts values.yaml" validate_merged values
  for f in "${ci_files[@]}"; do
    n="$(basename "$f" .yaml)"
    check "schema accepts ci/$n.yaml merged over values.yaml" validate_merged "$n" "$f"
  done
  # Values the schema must reject, each with the error ajv must give.
  bad_values=(
    'storage: {backend: mysql}|/storage/backend must be equal to one of the allowed values'
    'config: {logFormat: xml}|/config/logFormat must be equal to one of the allowed values'
    'replicacount: 1|must NOT have additional properties'
    'containerPorts: {grpc: "50051"}|/containerPorts/grpc must be integer'
    'config: {reconcileInterval: often}|/config/reconcileInterval must match pattern'
    'config: {connectorsFile: {jira_sites: [{name: eu, api_token: s3cret}]}}|must NOT have additional properties'
    'config: {connectorsFile: {jira: []}}|must NOT have additional properties'
    'auth: {mode: basic}|/auth/mode must be equal to one of the allowed values'
    'auth: {adminToken: too-short}|/auth/adminToken must match pattern'
    'tls: {clientCa: "yes"}|/tls/clientCa must be boolean'
    'outbound: {allowCidrs: [10.0.0.1]}|/outbound/allowCidrs/0 must match pattern'
    'rules: {maxIssuesPerDay: 0}|/rules/maxIssuesPerDay must be >= 1'
    'retention: {events: forever}|/retention/events must match pattern'
    'retention: {webhookDedupe: 0d}|/retention/webhookDedupe must match pattern'
    'limits: {rules: -1}|/limits/rules must be >= 0'
    'httpListener: {headerTimeout: soon}|/httpListener/headerTimeout must match pattern'
    'httpListener: {maxConnections: 0}|/httpListener/maxConnections must be >= 1'
    'github: {enabled: "true"}|/github/enabled must be boolean'
    'github: {url: api.github.com}|/github/url must match pattern'
    'github: {weightLabelPrefix: ""}|/github/weightLabelPrefix must NOT have fewer than 1 characters'
    'github: {apiToken: s3cret}|must NOT have additional properties'
    'secretKeys: {githubToken: "github token"}|/secretKeys/githubToken must match pattern'
    'config: {connectorsFile: {github_instances: [{name: ghes, token: s3cret}]}}|must NOT have additional properties'
    'config: {connectorsFile: {github_instances: [{name: GHES}]}}|/config/connectorsFile/github_instances/0/name must match pattern'
    'config: {connectorsFile: {github_instances: [{name: ghes, repos: acme/web}]}}|/config/connectorsFile/github_instances/0/repos must be array'
    'config: {connectorsFile: {github_instances: [{name: default, done: {acme/web: {excluded: {state_reasons: [wontfix]}}}}]}}|must be equal to one of the allowed values'
  )
  for i in "${!bad_values[@]}"; do
    bad="${bad_values[$i]%%|*}"
    printf '%s\n' "$bad" >"$WORK/bad$i.yaml"
    check_fails "schema rejects '$bad'" "${bad_values[$i]#*|}" \
      validate_merged "bad$i" "$WORK/bad$i.yaml"
  done
fi

# --- 3. Values references ----------------------------------------------------------------
check "every .Values reference exists, every value is used and commented" \
  "$PY" "$HERE/check_values_refs.py" "$CHART"

# --- 4. The sqlite replica guard -----------------------------------------------------------
check "templates fail for replicaCount > 1 and autoscaling in sqlite mode" "$PY" -c '
import glob, os, re, sys
text = "".join(open(p).read() for p in glob.glob(os.path.join(sys.argv[1], "templates", "*")))
need = [r"gt \(int \.Values\.replicaCount\) 1 \}\}\s*\{\{-? fail [^\n]*sqlite[^\n]*replica",
        r"if \.Values\.autoscaling\.enabled \}\}\s*\{\{-? fail [^\n]*sqlite"]
missing = [p for p in need if not re.search(p, text)]
sys.exit("guard not found: %s" % missing if missing else 0)' "$CHART"

# --- 5. Render and check the manifests ----------------------------------------------------
RENDER=""
if ! command -v go >/dev/null 2>&1; then
  fail "go is needed to render the chart (apt-get install golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev)"
else
  # Build render/main.go once per source version, in GOPATH mode against Debian's Go
  # packages in /usr/share/gocode; never touches the network.
  hash="$(sha256sum "$HERE/render/main.go" | cut -c1-16)"
  RENDER="$HELM_CACHE/render-$hash"
  if [[ ! -x "$RENDER" ]]; then
    src="$HELM_CACHE/gopath/src/okr-helm-render"
    mkdir -p "$src"
    cp "$HERE/render/main.go" "$src/main.go"
    # A go.mod beside the code lets GOPATH mode resolve sprig/v3 to Debian's sprig.
    printf 'module okr-helm-render\n\ngo 1.19\n' >"$src/go.mod"
    if ! (cd "$src" && GO111MODULE=off GOPATH="$HELM_CACHE/gopath:/usr/share/gocode" \
      GOCACHE="$HELM_CACHE/gocache" GOPROXY=off GOFLAGS='' \
      go build -o "$RENDER.$$" . >"$WORK/go.log" 2>&1); then
      fail "building the renderer failed (apt-get install golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev)"
      sed 's/^/    /' "$WORK/go.log"
      RENDER=""
    else
      mv "$RENDER.$$" "$RENDER"
    fi
  fi
fi

if [[ -n "$RENDER" ]]; then
  render_case() { # render_case NAME [VALUES...]
    local name="$1"
    shift
    local args=() out="$WORK/rendered-${name//[^A-Za-z0-9]/_}.yaml"
    for f in "$@"; do args+=(-f "$f"); done
    if "$RENDER" "${args[@]}" "$CHART" >"$out" 2>"$WORK/render.err" &&
      "$RENDER" -notes "${args[@]}" "$CHART" >"$out.notes" 2>>"$WORK/render.err"; then
      check "renders and the manifests are right: $name" \
        "$PY" "$HERE/check_rendered.py" "$CHART" "$out" "$@"
    else
      fail "renders: $name"
      sed 's/^/    /' "$WORK/render.err"
    fi
  }
  refuse_case() { # refuse_case NAME PATTERN VALUES_TEXT
    printf '%s\n' "$3" >"$WORK/refuse.yaml"
    check_fails "refuses $1" "$2" "$RENDER" -f "$WORK/refuse.yaml" "$CHART"
  }

  render_case "defaults (sqlite)"
  for f in "${ci_files[@]}"; do
    render_case "ci/$(basename "$f")" "$f"
  done
  cat >"$WORK/pg-chart-secret.yaml" <<'EOF'
storage: {backend: postgres}
replicaCount: 2
externalDatabase: {host: db.example.internal, port: 6432, password: s3cret-pw}
gitlab: {enabled: true, url: https://gitlab.example.com, token: glpat-xyz}
github: {enabled: false, token: ghp-stored-only-when-enabled}
podDisruptionBudget: {minAvailable: 1}
auth: {adminToken: pg-admin-token-0123456789}
EOF
  render_case "postgres with the password and admin token in the chart Secret" \
    "$WORK/pg-chart-secret.yaml"
  cat >"$WORK/pg-tls.yaml" <<'EOF'
storage: {backend: postgres}
externalDatabase: {host: db.example.internal, existingSecret: okr-postgres}
auth: {existingSecret: okr-admin, existingSecretKey: token}
tls: {existingSecret: okr-tls}
metrics: {serviceMonitor: {enabled: true}, prometheusRule: {enabled: true, labels: {release: kube-prometheus}}}
EOF
  render_case "postgres, admin token from auth.existingSecret, TLS without client CA" \
    "$WORK/pg-tls.yaml"
  cat >"$WORK/auth-none.yaml" <<'EOF'
auth: {mode: none, adminToken: ignored-without-tokens-0123}
outbound: {allowCidrs: [127.0.0.0/8]}
EOF
  render_case "sqlite with auth.mode=none" "$WORK/auth-none.yaml"
  cat >"$WORK/sqlite-misc.yaml" <<'EOF'
storage: {sqlite: {persistence: {existingClaim: okr-data}}}
image: {digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
existingSecret: okr-secrets
jira: {enabled: true, url: https://jira.example.com}
serviceAccount: {create: false}
podDisruptionBudget: {enabled: false}
config: {extraEnv: {OKR_EXPERIMENTAL: "1"}}
EOF
  render_case "sqlite with existingClaim, digest, existingSecret" "$WORK/sqlite-misc.yaml"
  cat >"$WORK/connectors-file.yaml" <<'EOF'
jira: {enabled: true, url: https://acme.atlassian.net}
ingress: {enabled: true, hosts: [okr.example.com]}
config:
  connectorsFile:
    jira_sites:
      - name: default
        done: {OKRX: {statuses: [Deployed]}}
      - name: eu
        url: https://acme-eu.atlassian.net
        email: okr-bot@acme.example
        api_token_env: OKR_JIRA_EU_API_TOKEN
        webhook_secret_file: /var/run/secrets/okr-eu/webhook-secret
        projects: [OPS]
        done: {OPS: {statuses: [Deployed], status_categories: [done]}}
    gitlab_instances:
      - name: internal
        url: https://gitlab.internal.example
        token_env: OKR_GITLAB_INTERNAL_TOKEN
        webhook_token_env: OKR_GITLAB_INTERNAL_WEBHOOK_TOKEN
        projects: [platform]
    github_instances:
      - name: default
        done: {acme/web: {labels: [deployed], credit: {in-review: 0.5},
                          excluded: {state_reasons: [not_planned, duplicate], labels: [wontfix]}}}
      - name: ghes
        url: https://github.acme.example/api/v3
        token_file: /var/run/secrets/okr-ghes/token
        webhook_secret_env: OKR_GITHUB_GHES_WEBHOOK_SECRET
        label_prefix: KR
        weight_label_prefix: "points:"
        repos: [platform/api, tools]
        done: {platform/api: {states: [closed], labels: [shipped]}}
github: {enabled: true, token: ghp-connectors-file}
extraEnv:
  - name: OKR_JIRA_EU_API_TOKEN
    valueFrom: {secretKeyRef: {name: okr-eu, key: api-token}}
EOF
  render_case "connector configuration file" "$WORK/connectors-file.yaml"
  cat >"$WORK/github-only.yaml" <<'EOF'
github:
  enabled: true
  url: https://github.acme.example/api/v3
  labelPrefix: KR
  weightLabelPrefix: "size/"
  token: github_pat_0123456789
  webhookSecret: gh-hook-secret-0123
secretKeys: {githubToken: gh-token, githubWebhookSecret: gh-webhook}
config: {publicUrl: https://okr.acme.example}
ingress: {enabled: true, hosts: [okr.acme.example]}
EOF
  render_case "GitHub only (Enterprise Server URL, own prefixes and secret keys)" \
    "$WORK/github-only.yaml"
  printf 'github: {enabled: true}\nexistingSecret: okr-secrets\n' >"$WORK/github-defaults.yaml"
  render_case "GitHub with its defaults and existingSecret" "$WORK/github-defaults.yaml"
  printf 'storage: {sqlite: {persistence: {enabled: false}}}\n' >"$WORK/sqlite-ephemeral.yaml"
  render_case "sqlite without persistence" "$WORK/sqlite-ephemeral.yaml"

  refuse_case "sqlite with replicaCount 2" "sqlite supports exactly one replica" 'replicaCount: 2'
  refuse_case "sqlite with autoscaling" "not allowed with storage.backend=sqlite" \
    'autoscaling: {enabled: true}'
  refuse_case "postgres without externalDatabase.host" "needs externalDatabase.host" \
    $'storage: {backend: postgres}\nexternalDatabase: {password: pw}'
  refuse_case "postgres without a password" "needs a database password" \
    $'storage: {backend: postgres}\nexternalDatabase: {host: db}'
  refuse_case "a password with URL-reserved characters" "percent-encode" \
    $'storage: {backend: postgres}\nexternalDatabase: {host: db, password: "a@b"}'
  refuse_case "jira without a URL" "jira.enabled=true needs jira.url" 'jira: {enabled: true}'
  refuse_case "gitlab without a URL" "gitlab.enabled=true needs gitlab.url" 'gitlab: {enabled: true}'
  refuse_case "github with an empty URL" "github.enabled=true needs github.url" \
    'github: {enabled: true, url: ""}'
  refuse_case "postgres with auth.mode=tokens and no admin token" \
    "storage.backend=postgres with auth.mode=tokens needs an admin token" \
    $'storage: {backend: postgres}\nexternalDatabase: {host: db, password: pw}'
  refuse_case "auth.adminToken with existingSecret" "auth.adminToken cannot be stored" \
    $'existingSecret: okr-secrets\nauth: {adminToken: 0123456789abcdef0}'
  refuse_case "an unknown auth.mode" 'auth.mode must be "tokens" or "none"' 'auth: {mode: basic}'
  refuse_case "tls.clientCa without tls.existingSecret" \
    "tls.clientCa=true needs tls.existingSecret" 'tls: {clientCa: true}'
fi

echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
