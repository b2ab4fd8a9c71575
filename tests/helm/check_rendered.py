"""Checks the manifests rendered from the okr-service chart for one set of values.

    python3 check_rendered.py CHART_DIR MANIFESTS.yaml [VALUES_OVERRIDE.yaml...]

The expectations follow from the merged values (storage backend, connectors, ingress,
secrets, auth, TLS...), so the same checks apply to every values file. NOTES.txt as
rendered is checked too when MANIFESTS.yaml.notes exists. Prints one line per problem and
exits 1 if there is any.
"""

import base64
import json
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chart_lib  # noqa: E402

STANDARD_LABELS = [
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
    "app.kubernetes.io/component", "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by", "helm.sh/chart",
]
# The environment okr-server reads; the names are fixed by the server.
SERVER_ENV = {
    "OKR_GRPC_ADDRESS", "OKR_HTTP_ADDRESS", "OKR_DATABASE", "OKR_LOG_FORMAT",
    "OKR_PUBLIC_URL", "OKR_RECONCILE_INTERVAL", "OKR_JIRA_URL", "OKR_JIRA_EMAIL",
    "OKR_JIRA_API_TOKEN", "OKR_JIRA_PAT", "OKR_JIRA_WEBHOOK_SECRET",
    "OKR_JIRA_STORY_POINTS_FIELD", "OKR_GITLAB_URL", "OKR_GITLAB_TOKEN",
    "OKR_GITLAB_WEBHOOK_TOKEN", "OKR_GITLAB_LABEL_PREFIX", "OKR_GITHUB_URL",
    "OKR_GITHUB_TOKEN", "OKR_GITHUB_WEBHOOK_SECRET", "OKR_GITHUB_LABEL_PREFIX",
    "OKR_GITHUB_WEIGHT_LABEL_PREFIX", "OKR_CONFIG",
    "OKR_AUTH", "OKR_ADMIN_TOKEN", "OKR_TLS_CERT_FILE", "OKR_TLS_KEY_FILE",
    "OKR_TLS_CLIENT_CA_FILE", "OKR_OUTBOUND_ALLOW_CIDRS", "OKR_RULE_MAX_ISSUES_PER_DAY",
    "OKR_EVENT_RETENTION", "OKR_WEBHOOK_DEDUPE_RETENTION", "OKR_REQUEST_ID_RETENTION",
    "OKR_MAX_SUBSCRIPTIONS", "OKR_MAX_RULES", "OKR_MAX_API_TOKENS",
    "OKR_HTTP_HEADER_TIMEOUT", "OKR_HTTP_BODY_TIMEOUT", "OKR_HTTP_IDLE_TIMEOUT",
    "OKR_HTTP_MAX_CONNECTIONS",
}
# Where the chart mounts the kubernetes.io/tls Secret's keys (under the /etc/okr volume).
TLS_DIR = "/etc/okr/tls"
SECRET_ENV = {
    "OKR_JIRA_API_TOKEN": ("jira", "apiToken", "jiraApiToken"),
    "OKR_JIRA_PAT": ("jira", "pat", "jiraPat"),
    "OKR_JIRA_WEBHOOK_SECRET": ("jira", "webhookSecret", "jiraWebhookSecret"),
    "OKR_GITLAB_TOKEN": ("gitlab", "token", "gitlabToken"),
    "OKR_GITLAB_WEBHOOK_TOKEN": ("gitlab", "webhookToken", "gitlabWebhookToken"),
    "OKR_GITHUB_TOKEN": ("github", "token", "githubToken"),
    "OKR_GITHUB_WEBHOOK_SECRET": ("github", "webhookSecret", "githubWebhookSecret"),
}
# Each tracker's section in the values, the settings it puts into the ConfigMap (variable:
# key in the section) and its list of named sites in config.connectorsFile.
TRACKERS = {
    "jira": ({"OKR_JIRA_URL": "url"}, "jira_sites"),
    "gitlab": ({"OKR_GITLAB_URL": "url", "OKR_GITLAB_LABEL_PREFIX": "labelPrefix"},
               "gitlab_instances"),
    "github": ({"OKR_GITHUB_URL": "url", "OKR_GITHUB_LABEL_PREFIX": "labelPrefix",
                "OKR_GITHUB_WEIGHT_LABEL_PREFIX": "weightLabelPrefix"}, "github_instances"),
}
# Helper variables the chart composes OKR_DATABASE from in postgres mode.
HELPER_ENV = {"OKR_DB_PASSWORD", "OKR_DB_USER"}


class Checker:
    def __init__(self):
        self.problems = []

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
        return condition

    def equal(self, actual, expected, what):
        return self.expect(actual == expected, "%s: got %r, want %r" % (what, actual, expected))


def by_kind(docs):
    kinds = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc)
    return kinds


def one(c, kinds, kind):
    docs = kinds.get(kind, [])
    c.equal(len(docs), 1, "number of %s resources" % kind)
    return docs[0] if docs else None


def check(chart_dir, manifests_path, overrides):
    c = Checker()
    values = chart_lib.merged_values(os.path.join(chart_dir, "values.yaml"), overrides)
    chart = chart_lib.load_yaml(os.path.join(chart_dir, "Chart.yaml"))
    with open(manifests_path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    sqlite = values["storage"]["backend"] == "sqlite"
    tls = values["tls"]
    tls_on = bool(tls.get("existingSecret"))
    auth = values["auth"]
    tokens = auth["mode"] == "tokens"

    for doc in docs:
        name = "%s/%s" % (doc.get("kind"), doc.get("metadata", {}).get("name"))
        for field in ("apiVersion", "kind", "metadata"):
            c.expect(field in doc, "%s has no %s" % (name, field))
        labels = doc.get("metadata", {}).get("labels") or {}
        for label in STANDARD_LABELS:
            c.expect(label in labels, "%s lacks label %s" % (name, label))
        c.expect(len(doc["metadata"]["name"]) <= 63, "%s: name longer than 63" % name)
    kinds = by_kind(docs)

    # --- Deployment and pod ------------------------------------------------------------
    dep = one(c, kinds, "Deployment")
    # The settings ConfigMap, and the connector file's own one when config.connectorsFile
    # is set.
    connectors_file = values["config"].get("connectorsFile") or {}
    config_maps = kinds.get("ConfigMap", [])
    connectors_cms = [m for m in config_maps if m["metadata"]["name"].endswith("-connectors")]
    kinds["ConfigMap"] = [m for m in config_maps if m not in connectors_cms]
    cm = one(c, kinds, "ConfigMap")
    c.equal(len(connectors_cms), 1 if connectors_file else 0, "number of connector ConfigMaps")
    svc = one(c, kinds, "Service")
    if not (dep and cm and svc):
        return c.problems
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    for k, v in spec["selector"]["matchLabels"].items():
        c.equal(pod_labels.get(k), v, "pod label %s (Deployment selector)" % k)
    if values["autoscaling"]["enabled"]:
        c.expect("replicas" not in spec, "Deployment sets replicas although an HPA scales it")
    else:
        c.equal(spec.get("replicas"), values["replicaCount"], "Deployment replicas")
    if sqlite:
        c.equal(spec.get("replicas"), 1, "sqlite mode replicas")
        c.equal(spec["strategy"]["type"], "Recreate", "sqlite mode update strategy")
    else:
        c.equal(spec["strategy"]["type"], "RollingUpdate", "postgres mode update strategy")

    psc = pod.get("securityContext", {})
    c.equal(psc.get("runAsNonRoot"), True, "pod runAsNonRoot")
    c.equal(psc.get("runAsUser"), 10001, "pod runAsUser")
    c.equal(psc.get("fsGroup"), 10001, "pod fsGroup")
    c.equal(psc.get("seccompProfile", {}).get("type"), "RuntimeDefault", "pod seccompProfile")

    c.equal(len(pod["containers"]), 1, "number of containers")
    ctr = pod["containers"][0]
    sc = ctr.get("securityContext", {})
    c.equal(sc.get("readOnlyRootFilesystem"), True, "container readOnlyRootFilesystem")
    c.equal(sc.get("allowPrivilegeEscalation"), False, "container allowPrivilegeEscalation")
    c.equal(sc.get("runAsNonRoot"), True, "container runAsNonRoot")
    c.expect("ALL" in sc.get("capabilities", {}).get("drop", []), "capabilities do not drop ALL")
    c.equal(sc.get("seccompProfile", {}).get("type"), "RuntimeDefault", "container seccompProfile")
    c.expect(ctr.get("resources", {}).get("requests"), "container has no resource requests")

    image = values["image"]
    if image.get("digest"):
        c.equal(ctr["image"], "%s@%s" % (image["repository"], image["digest"]), "image")
    else:
        tag = str(image.get("tag") or chart["appVersion"])
        c.equal(ctr["image"], "%s:%s" % (image["repository"], tag), "image (pinned tag)")

    ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
    c.equal(ports, {"grpc": values["containerPorts"]["grpc"],
                    "http": values["containerPorts"]["http"]}, "container ports")
    # Liveness is the process (gRPC health service "" or /healthz), readiness the database
    # (service okr.v1.OkrService or /readyz). With TLS the http port speaks HTTPS only,
    # and Kubernetes' gRPC probe cannot do TLS: both become HTTPS GETs.
    https = {"scheme": "HTTPS"} if tls_on else {}
    if values["livenessProbe"]["enabled"]:
        live = ctr.get("livenessProbe", {})
        if tls_on:
            c.equal(live.get("httpGet"), {"path": "/healthz", "port": "http", **https},
                    "liveness probe (HTTPS, TLS on)")
            c.expect("grpc" not in live, "gRPC liveness probe although TLS is on")
        else:
            c.equal(live.get("grpc"), {"port": values["containerPorts"]["grpc"], "service": ""},
                    "liveness probe (native gRPC, service \"\")")
            c.expect("httpGet" not in live, "liveness probe has both gRPC and httpGet")
    if values["readinessProbe"]["enabled"]:
        ready = ctr.get("readinessProbe", {})
        if tls_on:
            c.equal(ready.get("httpGet"), {"path": "/readyz", "port": "http", **https},
                    "readiness probe (HTTPS, TLS on)")
            c.expect("grpc" not in ready, "gRPC readiness probe although TLS is on")
        else:
            c.equal(ready.get("grpc"),
                    {"port": values["containerPorts"]["grpc"], "service": "okr.v1.OkrService"},
                    "readiness probe (native gRPC, service okr.v1.OkrService)")
            c.expect("httpGet" not in ready, "readiness probe has both gRPC and httpGet")
        # Liveness and readiness must not be the same check: a database outage must take
        # the pod out of the Service, never restart it.
        c.expect(ready != ctr.get("livenessProbe"), "readiness probe is the liveness probe")
    if values["startupProbe"]["enabled"]:
        c.equal(ctr.get("startupProbe", {}).get("httpGet"),
                {"path": "/healthz", "port": "http", **https}, "startup probe")

    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    c.expect("emptyDir" in volumes.get(mounts.get("/tmp"), {}), "/tmp is not an emptyDir")
    # /etc/okr is one read-only projected volume: the connector file's ConfigMap and/or the
    # TLS Secret's keys under tls/ (one volume, so no mount is nested in a read-only one).
    for m in ctr.get("volumeMounts", []):
        c.expect(m["mountPath"] == "/etc/okr" or not m["mountPath"].startswith("/etc/okr/"),
                 "%s is mounted inside /etc/okr" % m["mountPath"])
    etc_okr = volumes.get(mounts.get("/etc/okr"), {})
    sources = etc_okr.get("projected", {}).get("sources", [])
    if connectors_file or tls_on:
        c.expect(sources, "/etc/okr is not a projected volume")
        ro = [m.get("readOnly") for m in ctr["volumeMounts"] if m["mountPath"] == "/etc/okr"]
        c.equal(ro, [True], "/etc/okr mounted read-only")
    if connectors_file and connectors_cms:
        # The file is the values rendered as JSON, mounted read-only and named by OKR_CONFIG.
        text = connectors_cms[0].get("data", {}).get("connectors.json", "")
        c.equal(json.loads(text) if text else None, connectors_file, "connectors.json")
        c.equal([s["configMap"].get("name") for s in sources if "configMap" in s],
                [connectors_cms[0]["metadata"]["name"]], "ConfigMap mounted at /etc/okr")
        c.equal((cm.get("data") or {}).get("OKR_CONFIG"), "/etc/okr/connectors.json",
                "OKR_CONFIG")
        c.expect("checksum/connectors" in spec["template"]["metadata"].get("annotations", {}),
                 "no checksum/connectors annotation: pods would not restart on a change")
    else:
        c.expect(not any("configMap" in s for s in sources),
                 "a ConfigMap at /etc/okr without config.connectorsFile")
        c.expect("OKR_CONFIG" not in (cm.get("data") or {}), "OKR_CONFIG without a file")
    tls_sources = [s["secret"] for s in sources if "secret" in s]
    if tls_on:
        want_items = [{"key": "tls.crt", "path": "tls/tls.crt"},
                      {"key": "tls.key", "path": "tls/tls.key"}]
        if tls.get("clientCa"):
            want_items.append({"key": "ca.crt", "path": "tls/ca.crt"})
        c.equal(tls_sources, [{"name": tls["existingSecret"], "items": want_items}],
                "TLS Secret projected into /etc/okr/tls")
    else:
        c.equal(tls_sources, [], "Secrets projected into /etc/okr without tls.existingSecret")
    if not (connectors_file or tls_on):
        c.expect("/etc/okr" not in mounts,
                 "/etc/okr mounted without config.connectorsFile or tls.existingSecret")
    pvcs = kinds.get("PersistentVolumeClaim", [])
    if sqlite:
        data = volumes.get(mounts.get("/var/lib/okr"), {})
        persistence = values["storage"]["sqlite"]["persistence"]
        if persistence["enabled"]:
            claim = data.get("persistentVolumeClaim", {}).get("claimName")
            if persistence.get("existingClaim"):
                c.equal(claim, persistence["existingClaim"], "claim mounted at /var/lib/okr")
                c.equal(len(pvcs), 0, "number of PVCs with existingClaim")
            else:
                c.equal([p["metadata"]["name"] for p in pvcs], [claim],
                        "PVC mounted at /var/lib/okr")
        else:
            c.expect("emptyDir" in data, "/var/lib/okr is not an emptyDir without persistence")
    else:
        c.expect("/var/lib/okr" not in mounts, "postgres mode mounts /var/lib/okr")
        c.equal(len(pvcs), 0, "number of PVCs in postgres mode")

    # --- Environment: ConfigMap for settings, Secret references for secrets -----------
    c.equal([e.get("configMapRef", {}).get("name") for e in ctr.get("envFrom", [])],
            [cm["metadata"]["name"]], "envFrom")
    cm_data = cm.get("data") or {}
    extra = set(values["config"]["extraEnv"])
    for key in cm_data:
        c.expect(key in SERVER_ENV or key in extra, "ConfigMap has unknown key %s" % key)
    env = ctr.get("env", [])
    names = [e["name"] for e in env]
    extra_env = {e["name"] for e in values["extraEnv"]}
    for n in names:
        c.expect(n in SERVER_ENV or n in HELPER_ENV or n in extra_env, "unknown env var %s" % n)
    c.equal(len(names), len(set(names)), "env var names are unique")
    secret_strings = [values["externalDatabase"].get("password") or "",
                      auth.get("adminToken") or ""]
    c.expect("OKR_ADMIN_TOKEN" not in cm_data, "OKR_ADMIN_TOKEN is in the ConfigMap")
    for var, (section, key, _) in SECRET_ENV.items():
        c.expect(var not in cm_data, "secret %s is in the ConfigMap" % var)
        secret_strings.append(values[section].get(key) or "")
    c.expect("OKR_DB_PASSWORD" not in cm_data, "OKR_DB_PASSWORD is in the ConfigMap")
    cm_text = yaml.safe_dump(cm)
    for s in secret_strings:
        if s:
            c.expect(s not in cm_text, "a secret value appears in the ConfigMap")
            c.expect(s not in yaml.safe_dump(dep), "a secret value appears in the Deployment")

    # $(VAR) in an env value expands only variables defined before it.
    seen = set(cm_data)
    for e in env:
        for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", e.get("value", "")):
            c.expect(ref in seen, "env %s uses $(%s) before it is defined" % (e["name"], ref))
        seen.add(e["name"])

    secrets = kinds.get("Secret", [])
    chart_secret_name = None
    if values["existingSecret"]:
        c.equal(len(secrets), 0, "number of Secrets with existingSecret")
        connector_secret = values["existingSecret"]
    else:
        c.equal(len(secrets), 1, "number of Secrets")
        chart_secret_name = secrets[0]["metadata"]["name"] if secrets else None
        connector_secret = chart_secret_name
    secret_data = {}
    if secrets:
        secret_data = {k: base64.b64decode(v).decode()
                       for k, v in (secrets[0].get("data") or {}).items()}
    by_name = {e["name"]: e for e in env}
    for var, (section, key, secret_key) in SECRET_ENV.items():
        if not values[section]["enabled"]:
            c.expect(var not in by_name, "%s set although %s is disabled" % (var, section))
            c.expect(values["secretKeys"][secret_key] not in secret_data,
                     "%s stored in the chart Secret although %s is disabled" % (var, section))
            continue
        ref = by_name.get(var, {}).get("valueFrom", {}).get("secretKeyRef")
        if not c.expect(ref, "%s is not taken from a Secret" % var):
            continue
        c.equal(ref.get("name"), connector_secret, "%s secret name" % var)
        c.equal(ref.get("key"), values["secretKeys"][secret_key], "%s secret key" % var)
        if chart_secret_name and values[section].get(key):
            c.equal(secret_data.get(ref["key"]), values[section][key], "Secret value of %s" % var)

    db = values["externalDatabase"]
    if sqlite:
        c.equal(cm_data.get("OKR_DATABASE"), "sqlite:/var/lib/okr/okr.db", "OKR_DATABASE")
        c.expect("OKR_DATABASE" not in by_name, "sqlite OKR_DATABASE must come from the ConfigMap")
    else:
        c.expect("OKR_DATABASE" not in cm_data, "postgres OKR_DATABASE is in the ConfigMap")
        query = "?sslmode=%s" % db["sslMode"] if db.get("sslMode") else ""
        want = "postgresql://$(OKR_DB_USER):$(OKR_DB_PASSWORD)@%s:%d/%s%s" % (
            db["host"], db["port"], db["database"], query)
        c.equal(by_name.get("OKR_DATABASE", {}).get("value"), want, "OKR_DATABASE")
        c.equal(by_name.get("OKR_DB_USER", {}).get("value"), db["user"], "OKR_DB_USER")
        ref = by_name.get("OKR_DB_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {})
        if db.get("existingSecret"):
            c.equal((ref.get("name"), ref.get("key")),
                    (db["existingSecret"], db["existingSecretPasswordKey"]), "password secret")
        else:
            c.equal(ref.get("name"), chart_secret_name, "password secret name")
            c.equal(secret_data.get(ref.get("key")), db["password"], "Secret value of password")

    # --- Access control, TLS, outbound deliveries, rules ------------------------------
    c.equal(cm_data.get("OKR_AUTH"), auth["mode"], "OKR_AUTH")
    admin_ref = by_name.get("OKR_ADMIN_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef")
    if tokens and auth.get("existingSecret"):
        c.equal(admin_ref, {"name": auth["existingSecret"], "key": auth["existingSecretKey"]},
                "OKR_ADMIN_TOKEN from auth.existingSecret")
        c.expect(values["secretKeys"]["adminToken"] not in secret_data,
                 "admin token stored in the chart Secret although auth.existingSecret is set")
    elif tokens and auth.get("adminToken"):
        c.equal(admin_ref, {"name": chart_secret_name, "key": values["secretKeys"]["adminToken"]},
                "OKR_ADMIN_TOKEN from the chart Secret")
        c.equal(secret_data.get(values["secretKeys"]["adminToken"]), auth["adminToken"],
                "Secret value of the admin token")
    else:
        c.expect("OKR_ADMIN_TOKEN" not in by_name,
                 "OKR_ADMIN_TOKEN set without auth.mode=tokens and an admin token")
        c.expect(values["secretKeys"]["adminToken"] not in secret_data,
                 "admin token in the chart Secret without auth.mode=tokens")
        c.expect(not (tokens and not sqlite),
                 "postgres with auth.mode=tokens rendered without an admin token")
    want_tls = {}
    if tls_on:
        want_tls = {"OKR_TLS_CERT_FILE": TLS_DIR + "/tls.crt",
                    "OKR_TLS_KEY_FILE": TLS_DIR + "/tls.key"}
        if tls.get("clientCa"):
            want_tls["OKR_TLS_CLIENT_CA_FILE"] = TLS_DIR + "/ca.crt"
    c.equal({k: v for k, v in cm_data.items() if k.startswith("OKR_TLS_")}, want_tls,
            "OKR_TLS_* settings")
    cidrs = values["outbound"]["allowCidrs"]
    c.equal(cm_data.get("OKR_OUTBOUND_ALLOW_CIDRS"), ",".join(cidrs) if cidrs else None,
            "OKR_OUTBOUND_ALLOW_CIDRS")
    c.equal(cm_data.get("OKR_RULE_MAX_ISSUES_PER_DAY"), str(values["rules"]["maxIssuesPerDay"]),
            "OKR_RULE_MAX_ISSUES_PER_DAY")
    for var, key in (("OKR_EVENT_RETENTION", "events"),
                     ("OKR_WEBHOOK_DEDUPE_RETENTION", "webhookDedupe"),
                     ("OKR_REQUEST_ID_RETENTION", "requestIds")):
        c.equal(cm_data.get(var), values["retention"][key], var)
    for var, key in (("OKR_HTTP_HEADER_TIMEOUT", "headerTimeout"),
                     ("OKR_HTTP_BODY_TIMEOUT", "bodyTimeout"),
                     ("OKR_HTTP_IDLE_TIMEOUT", "idleTimeout")):
        c.equal(cm_data.get(var), values["httpListener"][key], var)
    c.equal(cm_data.get("OKR_HTTP_MAX_CONNECTIONS"),
            str(values["httpListener"]["maxConnections"]), "OKR_HTTP_MAX_CONNECTIONS")
    for var, key in (("OKR_MAX_SUBSCRIPTIONS", "subscriptions"), ("OKR_MAX_RULES", "rules"),
                     ("OKR_MAX_API_TOKENS", "apiTokens")):
        c.equal(cm_data.get(var), str(values["limits"][key]), var)

    cfg = values["config"]
    c.equal(cm_data.get("OKR_LOG_FORMAT"), cfg["logFormat"], "OKR_LOG_FORMAT")
    c.equal(cm_data.get("OKR_RECONCILE_INTERVAL"), cfg["reconcileInterval"], "OKR_RECONCILE_INTERVAL")
    c.equal(cm_data.get("OKR_GRPC_ADDRESS"), "0.0.0.0:%d" % values["containerPorts"]["grpc"],
            "OKR_GRPC_ADDRESS")
    c.equal(cm_data.get("OKR_HTTP_ADDRESS"), "0.0.0.0:%d" % values["containerPorts"]["http"],
            "OKR_HTTP_ADDRESS")
    for section, (keys, _) in TRACKERS.items():
        for var, key in keys.items():
            want = values[section][key] if values[section]["enabled"] else None
            c.equal(cm_data.get(var), want, var)

    # --- Service, Ingress, ServiceMonitor, PDB, HPA, ServiceAccount --------------------
    sports = {p["name"]: (p["port"], p["targetPort"]) for p in svc["spec"]["ports"]}
    c.equal(sports, {"grpc": (values["service"]["grpcPort"], "grpc"),
                     "http": (values["service"]["httpPort"], "http")}, "Service ports")
    for k, v in svc["spec"]["selector"].items():
        c.equal(pod_labels.get(k), v, "pod label %s (Service selector)" % k)

    ingresses = kinds.get("Ingress", [])
    if values["ingress"]["enabled"]:
        c.equal(len(ingresses), 1, "number of Ingresses")
        for rule in (ingresses[0]["spec"]["rules"] if ingresses else []):
            paths = rule["http"]["paths"]
            want = [v["path"] for v in values["ingress"]["paths"]]
            # The pages (issue #14) are always routed, with these path types.
            pages = {"/": "Exact", "/objectives": "Prefix", "/cycles": "Prefix",
                     "/teams": "Prefix", "/login": "Exact", "/logout": "Exact",
                     "/static": "Prefix"}
            want += list(pages)
            for p in paths:
                if p["path"] in pages:
                    c.equal(p["pathType"], pages[p["path"]], "Ingress pathType of %s" % p["path"])
            for tracker, (_, key) in TRACKERS.items():
                want += ["/webhooks/%s/%s" % (tracker, s["name"])
                         for s in connectors_file.get(key, []) if s["name"] != "default"]
            c.equal(sorted(p["path"] for p in paths), sorted(want), "Ingress paths")
            for p in paths:
                c.equal(p["backend"]["service"], {"name": svc["metadata"]["name"],
                        "port": {"number": values["service"]["httpPort"]}}, "Ingress backend")
    else:
        c.equal(len(ingresses), 0, "number of Ingresses")

    monitors = kinds.get("ServiceMonitor", [])
    if values["metrics"]["serviceMonitor"]["enabled"]:
        c.equal(len(monitors), 1, "number of ServiceMonitors")
        if monitors:
            ep = monitors[0]["spec"]["endpoints"][0]
            c.equal((ep["port"], ep["path"]), ("http", "/metrics"), "ServiceMonitor endpoint")
            c.equal(ep.get("scheme"), "https" if tls_on else "http", "ServiceMonitor scheme")
            tls_config = values["metrics"]["serviceMonitor"].get("tlsConfig") or None
            c.equal(ep.get("tlsConfig"), tls_config if tls_on else None,
                    "ServiceMonitor tlsConfig")
    else:
        c.equal(len(monitors), 0, "number of ServiceMonitors")

    # The PrometheusRule carries rules/okr-alerts.yaml unchanged (the file promtool tests).
    prometheus_rules = kinds.get("PrometheusRule", [])
    rule_values = values["metrics"]["prometheusRule"]
    if rule_values["enabled"]:
        c.equal(len(prometheus_rules), 1, "number of PrometheusRules")
        if prometheus_rules:
            rule = prometheus_rules[0]
            shipped = chart_lib.load_yaml(os.path.join(chart_dir, "rules", "okr-alerts.yaml"))
            c.equal(rule.get("spec"), shipped, "PrometheusRule spec (rules/okr-alerts.yaml)")
            c.equal(rule["apiVersion"], "monitoring.coreos.com/v1", "PrometheusRule apiVersion")
            for k, v in (rule_values.get("labels") or {}).items():
                c.equal(rule["metadata"]["labels"].get(k), v, "PrometheusRule label " + k)
    else:
        c.equal(len(prometheus_rules), 0, "number of PrometheusRules")

    pdbs = kinds.get("PodDisruptionBudget", [])
    c.equal(len(pdbs), 1 if values["podDisruptionBudget"]["enabled"] else 0, "number of PDBs")
    for pdb in pdbs:
        c.equal(pdb["spec"]["selector"]["matchLabels"], spec["selector"]["matchLabels"],
                "PDB selector")
        c.equal(len({"minAvailable", "maxUnavailable"} & set(pdb["spec"])), 1,
                "PDB sets exactly one of minAvailable/maxUnavailable")

    hpas = kinds.get("HorizontalPodAutoscaler", [])
    if values["autoscaling"]["enabled"]:
        c.expect(not sqlite, "HPA rendered in sqlite mode")
        c.equal(len(hpas), 1, "number of HPAs")
        if hpas:
            c.equal(hpas[0]["spec"]["scaleTargetRef"]["name"], dep["metadata"]["name"],
                    "HPA target")
    else:
        c.equal(len(hpas), 0, "number of HPAs")

    sas = kinds.get("ServiceAccount", [])
    if values["serviceAccount"]["create"]:
        c.equal([s["metadata"]["name"] for s in sas], [pod.get("serviceAccountName")],
                "ServiceAccount of the pods")

    # --- NOTES.txt: how to call the API with this access control and TLS --------------
    notes_path = manifests_path + ".notes"
    if os.path.exists(notes_path):
        with open(notes_path, encoding="utf-8") as f:
            notes = f.read()
        if tls_on:
            c.expect("-cacert ca.crt" in notes and "-plaintext" not in notes,
                     "NOTES: grpcurl is not told the CA (or still uses -plaintext) with TLS")
            c.equal("-cert client.crt -key client.key" in notes, bool(tls.get("clientCa")),
                    "NOTES: grpcurl client certificate flags")
        else:
            c.expect("grpcurl -plaintext" in notes, "NOTES: no plaintext grpcurl example")
        if tokens:
            c.expect('-H "authorization: Bearer $OKR_TOKEN"' in notes,
                     "NOTES: no grpcurl example with the bearer token")
            if not (auth.get("existingSecret") or auth.get("adminToken")):
                want = "exec deploy/%s -- cat /var/lib/okr/okr.db.admin-token" % (
                    dep["metadata"]["name"])
                c.expect(want in notes, "NOTES: no %r for the generated admin token" % want)
            elif auth.get("existingSecret"):
                c.expect("get secret %s " % auth["existingSecret"] in notes,
                         "NOTES: not told to read the admin token from auth.existingSecret")
        else:
            c.expect("auth.mode=none" in notes and "WARNING" in notes,
                     "NOTES: no warning for auth.mode=none")
        # The webhook address of each enabled tracker, and none of a disabled one.
        base = values["config"].get("publicUrl")
        ingress = values["ingress"]
        if not base and ingress["enabled"] and ingress["hosts"]:
            base = "%s://%s" % ("https" if ingress["tls"] else "http", ingress["hosts"][0])
        if not base:
            base = "%s://%s.%s.svc:%d" % (
                "https" if tls_on else "http", svc["metadata"]["name"],
                svc["metadata"]["namespace"], values["service"]["httpPort"])
        for tracker in TRACKERS:
            hook = "%s/webhooks/%s " % (base, tracker)
            c.equal(hook in notes, bool(values[tracker]["enabled"]),
                    "NOTES: %r is printed" % hook.strip())
        for secret in secret_strings:
            if secret:
                c.expect(secret not in notes, "NOTES: a secret value appears in NOTES.txt")
    return c.problems


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(argv[1], argv[2], argv[3:])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
