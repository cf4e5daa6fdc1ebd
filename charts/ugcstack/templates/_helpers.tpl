{{/* Chart name, overridable. */}}
{{- define "ugcstack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name. Object names are at most 63 characters, and some
get a suffix, so the prefix is kept to 52.
*/}}
{{- define "ugcstack.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object of the release. */}}
{{- define "ugcstack.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ugcstack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the operator's objects. */}}
{{- define "ugcstack.labels" -}}
{{ include "ugcstack.commonLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The manager pods' selector; never changes after install. */}}
{{- define "ugcstack.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ugcstack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "ugcstack.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ugcstack.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ugcstack.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret and key the demo stack's API verifies tokens with. */}}
{{- define "ugcstack.stackJWTSecretName" -}}
{{- default (printf "%s-jwt" .Values.stack.name) .Values.stack.api.jwt.existingSecret }}
{{- end }}
