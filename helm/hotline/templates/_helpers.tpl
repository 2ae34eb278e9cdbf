{{/* Release-wide name: the release name, suffixed with the chart name unless it contains it. */}}
{{- define "hotline.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one service's objects. Call with (dict "root" $ "name" $name). */}}
{{- define "hotline.svcname" -}}
{{- printf "%s-%s" (include "hotline.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object, without the selector labels (see hotline.selectorLabels). */}}
{{- define "hotline.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: hotline
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels of the release-wide objects. */}}
{{- define "hotline.labels" -}}
{{ include "hotline.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one service. Call with (dict "root" $ "name" $name). */}}
{{- define "hotline.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "hotline.image" -}}
{{- $root := .root -}}
{{- $repo := .svc.image.repository -}}
{{- if $root.Values.image.registry -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) $repo -}}
{{- end -}}
{{- printf "%s:%s" $repo (.svc.image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion) -}}
{{- end -}}

{{- define "hotline.tenancySecret" -}}
{{- .Values.tenancy.existingSecret | default (printf "%s-tenancy" (include "hotline.fullname" .)) -}}
{{- end -}}

{{- define "hotline.clickhouseSecret" -}}
{{- .Values.clickhouse.existingSecret | default (printf "%s-clickhouse" (include "hotline.fullname" .)) -}}
{{- end -}}

{{- define "hotline.envConfigMap" -}}
{{- printf "%s-env" (include "hotline.fullname" .) -}}
{{- end -}}

{{/* The Secret with tls.crt, tls.key and ca.crt: the existing one, or cert-manager's. */}}
{{- define "hotline.tlsSecret" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "hotline.fullname" .)) -}}
{{- end -}}

{{/* Fail early on TLS values that cannot work (the schema checks types, this the combination). */}}
{{- define "hotline.validateTls" -}}
{{- if .Values.tls.enabled -}}
{{- if and (not .Values.tls.existingSecret) (not .Values.tls.certManager.issuerRef.name) -}}
{{- fail "tls.enabled needs tls.existingSecret or tls.certManager.issuerRef.name" -}}
{{- end -}}
{{- if and .Values.tls.existingSecret .Values.tls.certManager.issuerRef.name -}}
{{- fail "tls: set tls.existingSecret or tls.certManager.issuerRef, not both" -}}
{{- end -}}
{{- else if .Values.tls.mutual -}}
{{- fail "tls.mutual needs tls.enabled" -}}
{{- end -}}
{{- end -}}
