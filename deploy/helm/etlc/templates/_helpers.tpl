{{/* The name of the chart's objects: the release name. */}}
{{- define "etlc.fullname" -}}
{{- .Release.Name -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "etlc.labels" -}}
app.kubernetes.io/name: etlc
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels that select the gateway's pod. */}}
{{- define "etlc.selector" -}}
app.kubernetes.io/name: etlc
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
