{{/*
Shared names, labels and checks of the okr-service chart.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "okr-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, at most 63 characters (DNS label limit). The release name is
used alone when it already contains the chart name.
*/}}
{{- define "okr-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Value of the helm.sh/chart label. */}}
{{- define "okr-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that identify the pods; immutable once a Deployment exists. */}}
{{- define "okr-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "okr-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Standard labels of every resource. */}}
{{- define "okr-service.labels" -}}
helm.sh/chart: {{ include "okr-service.chart" . }}
{{ include "okr-service.selectorLabels" . }}
app.kubernetes.io/version: {{ include "okr-service.imageTag" . | quote }}
app.kubernetes.io/part-of: okr-service
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Image tag: image.tag, or the chart's appVersion so the chart pins its image. */}}
{{- define "okr-service.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag | toString | trunc 63 }}
{{- end }}

{{/* Full image reference; a digest wins over the tag. */}}
{{- define "okr-service.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "okr-service.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "okr-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "okr-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Secret with the connector secrets (the chart's or existingSecret). */}}
{{- define "okr-service.secretName" -}}
{{- default (include "okr-service.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* Name of the Secret and key holding the PostgreSQL password. */}}
{{- define "okr-service.databaseSecretName" -}}
{{- if .Values.externalDatabase.existingSecret }}
{{- .Values.externalDatabase.existingSecret }}
{{- else }}
{{- include "okr-service.secretName" . }}
{{- end }}
{{- end }}

{{- define "okr-service.databaseSecretKey" -}}
{{- if .Values.externalDatabase.existingSecret }}
{{- .Values.externalDatabase.existingSecretPasswordKey }}
{{- else }}
{{- .Values.secretKeys.databasePassword }}
{{- end }}
{{- end }}

{{/* Name of the SQLite PersistentVolumeClaim. */}}
{{- define "okr-service.pvcName" -}}
{{- default (printf "%s-data" (include "okr-service.fullname" .)) .Values.storage.sqlite.persistence.existingClaim }}
{{- end }}

{{/* OKR_PUBLIC_URL: config.publicUrl, or derived from the first ingress host. */}}
{{- define "okr-service.publicUrl" -}}
{{- if .Values.config.publicUrl }}
{{- .Values.config.publicUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := first .Values.ingress.hosts }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) $host }}
{{- end }}
{{- end }}

{{/*
Configuration checks, included by the ConfigMap, the Deployment and the HPA: a bad
combination fails the render with one clear message instead of a broken release.
*/}}
{{- define "okr-service.validate" -}}
{{- $backend := .Values.storage.backend }}
{{- if eq $backend "sqlite" }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "storage.backend=sqlite supports exactly one replica, but replicaCount=%d: SQLite is a single-writer file database on a ReadWriteOnce volume. Set replicaCount=1, or use storage.backend=postgres with externalDatabase.* to run several replicas." (int .Values.replicaCount)) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- fail "autoscaling.enabled=true is not allowed with storage.backend=sqlite: SQLite supports exactly one replica. Use storage.backend=postgres to autoscale." }}
{{- end }}
{{- else if eq $backend "postgres" }}
{{- if not .Values.externalDatabase.host }}
{{- fail "storage.backend=postgres needs externalDatabase.host." }}
{{- end }}
{{- if and (not .Values.externalDatabase.existingSecret) (not .Values.externalDatabase.password) }}
{{- fail "storage.backend=postgres needs a database password: set externalDatabase.existingSecret (and existingSecretPasswordKey), or externalDatabase.password." }}
{{- end }}
{{- if and (not .Values.externalDatabase.existingSecret) (regexMatch "[:/@?#\\[\\] ]" (toString .Values.externalDatabase.password)) }}
{{- fail "externalDatabase.password contains a character that is reserved in a URL (: / @ ? # [ ] or space): percent-encode it, since it is placed into OKR_DATABASE=postgresql://user:password@host/db." }}
{{- end }}
{{- if and .Values.externalDatabase.password (not .Values.externalDatabase.existingSecret) .Values.existingSecret }}
{{- fail "externalDatabase.password cannot be stored because existingSecret is set (the chart creates no Secret): put the password into a Secret and set externalDatabase.existingSecret." }}
{{- end }}
{{- else }}
{{- fail (printf "storage.backend must be \"sqlite\" or \"postgres\", not %q." (toString $backend)) }}
{{- end }}
{{- if and .Values.jira.enabled (not .Values.jira.url) }}
{{- fail "jira.enabled=true needs jira.url." }}
{{- end }}
{{- if and .Values.gitlab.enabled (not .Values.gitlab.url) }}
{{- fail "gitlab.enabled=true needs gitlab.url." }}
{{- end }}
{{- if and .Values.github.enabled (not .Values.github.url) }}
{{- fail "github.enabled=true needs github.url (https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server)." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not be greater than autoscaling.maxReplicas." }}
{{- end }}
{{- $tokens := eq .Values.auth.mode "tokens" }}
{{- if not (or $tokens (eq .Values.auth.mode "none")) }}
{{- fail (printf "auth.mode must be \"tokens\" or \"none\", not %q." (toString .Values.auth.mode)) }}
{{- end }}
{{- if and $tokens (eq $backend "postgres") (not .Values.auth.existingSecret) (not .Values.auth.adminToken) }}
{{- fail "storage.backend=postgres with auth.mode=tokens needs an admin token: set auth.existingSecret (and auth.existingSecretKey), or auth.adminToken (at least 16 characters). Only the SQLite store creates the first admin token itself." }}
{{- end }}
{{- if and $tokens .Values.auth.adminToken (not .Values.auth.existingSecret) .Values.existingSecret }}
{{- fail "auth.adminToken cannot be stored because existingSecret is set (the chart creates no Secret): put the token into a Secret and set auth.existingSecret." }}
{{- end }}
{{- if and .Values.tls.clientCa (not .Values.tls.existingSecret) }}
{{- fail "tls.clientCa=true needs tls.existingSecret: a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt." }}
{{- end }}
{{- end }}
