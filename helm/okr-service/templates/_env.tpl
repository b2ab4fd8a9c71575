{{/*
Environment of the okr-server container beyond the ConfigMap: the secrets, each from its
Secret key (connector secrets optional, so an unset secret stays an unset variable), the
admin token, the PostgreSQL URL, and extraEnv. Renders nothing when there is nothing to
add.
*/}}
{{- define "okr-service.env" -}}
{{- $sqlite := eq .Values.storage.backend "sqlite" }}
{{- if .Values.jira.enabled }}
- name: OKR_JIRA_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.jiraApiToken }}
      optional: true
- name: OKR_JIRA_PAT
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.jiraPat }}
      optional: true
- name: OKR_JIRA_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.jiraWebhookSecret }}
      optional: true
{{- end }}
{{- if .Values.gitlab.enabled }}
- name: OKR_GITLAB_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.gitlabToken }}
      optional: true
- name: OKR_GITLAB_WEBHOOK_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.gitlabWebhookToken }}
      optional: true
{{- end }}
{{- if .Values.github.enabled }}
- name: OKR_GITHUB_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.githubToken }}
      optional: true
- name: OKR_GITHUB_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.secretName" . }}
      key: {{ .Values.secretKeys.githubWebhookSecret }}
      optional: true
{{- end }}
{{- if eq .Values.auth.mode "tokens" }}
{{- if .Values.auth.existingSecret }}
- name: OKR_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.auth.existingSecret }}
      key: {{ .Values.auth.existingSecretKey }}
{{- else if .Values.auth.adminToken }}
- name: OKR_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.fullname" . }}
      key: {{ .Values.secretKeys.adminToken }}
{{- end }}
{{- end }}
{{- if not $sqlite }}
{{- $query := "" }}
{{- if .Values.externalDatabase.sslMode }}
{{- $query = printf "?sslmode=%s" .Values.externalDatabase.sslMode }}
{{- end }}
# The password comes from a Secret; OKR_DATABASE embeds it with Kubernetes'
# $(VAR) expansion, so it never appears in the ConfigMap or the pod spec.
- name: OKR_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "okr-service.databaseSecretName" . }}
      key: {{ include "okr-service.databaseSecretKey" . }}
- name: OKR_DB_USER
  value: {{ .Values.externalDatabase.user | quote }}
- name: OKR_DATABASE
  value: {{ printf "postgresql://$(OKR_DB_USER):$(OKR_DB_PASSWORD)@%s:%d/%s%s" .Values.externalDatabase.host (int .Values.externalDatabase.port) .Values.externalDatabase.database $query | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
