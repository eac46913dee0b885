{{/*
Labels on every object the chart writes. The pods' own labels stay
app.kubernetes.io/name=bulkhead-manager alone, as config/default has them:
the Service, the NetworkPolicy and the PodDisruptionBudget select by it.
*/}}
{{- define "bulkhead.labels" -}}
app.kubernetes.io/name: bulkhead-manager
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: bulkhead
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
