{{/* Names, labels and the pieces of the pod spec that the workload templates share. */}}

{{- define "baton-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "baton-proxy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The metrics Service's name: the full name cut so that "-metrics" still fits a Service name's 63 characters. */}}
{{- define "baton-proxy.metricsName" -}}
{{- printf "%s-metrics" (include "baton-proxy.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{- define "baton-proxy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "baton-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "baton-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "baton-proxy.labels" -}}
helm.sh/chart: {{ include "baton-proxy.chart" . }}
{{ include "baton-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end -}}

{{- define "baton-proxy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "baton-proxy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image reference: repository@digest when a digest is given, else repository:tag (tag defaults to appVersion). */}}
{{- define "baton-proxy.image" -}}
{{- /* A values file's numbers reach templates as doubles: 1.10 is 1.1, 20240101 prints as 2.0240101e+07, 010 is 8 (--set keeps integers as integers). */ -}}
{{- if kindIs "float64" .image.tag -}}
{{- fail (printf "%s must be a string: a number in a values file loses its spelling (1.10 is read as 1.1); quote it" .name) -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .appVersion (toString .image.tag)) -}}
{{- end -}}
{{- end -}}

{{/*
An extraEnv value as text. Helm reads every number of a values file as a double, which toString
writes as 8.388608e+06 from 1000000 on: a whole number is written with its digits instead.
*/}}
{{- define "baton-proxy.envValue" -}}
{{- $text := toString . -}}
{{- /* Nested, not `and`: the Go of older Helm evaluates both operands, and eq refuses a string beside a float. */ -}}
{{- if kindIs "float64" . -}}
{{- if eq . (float64 (int64 .)) }}{{ $text = toString (int64 .) }}{{ end -}}
{{- end -}}
{{- $text -}}
{{- end -}}

{{/* Secret values set in values.yaml, as env name -> value; the chart creates a Secret only when this is non-empty and no existingSecret is named. */}}
{{- define "baton-proxy.secretData" -}}
{{- $data := dict -}}
{{- if include "baton-proxy.upstreamIsSecret" . }}{{- $_ := set $data "BATON_UPSTREAM" (include "baton-proxy.upstream" .) -}}{{- end -}}
{{- if .Values.events.apiKey }}{{- $_ := set $data "BATON_API_KEY" .Values.events.apiKey -}}{{- end -}}
{{- if .Values.consent.token }}{{- $_ := set $data "BATON_CONSENT_TOKEN" .Values.consent.token -}}{{- end -}}
{{- range $name, $value := .Values.secret.extraEnv }}{{- $_ := set $data $name (include "baton-proxy.envValue" $value) -}}{{- end -}}
{{- toJson $data -}}
{{- end -}}

{{- define "baton-proxy.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else if ne (include "baton-proxy.secretData" .) "{}" -}}
{{- include "baton-proxy.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* Where the proxy forwards to: the vendor's server on loopback in sidecar mode, upstream.url in gateway mode. */}}
{{- define "baton-proxy.upstream" -}}
{{- if eq .Values.mode "sidecar" -}}
{{- printf "http://127.0.0.1:%d%s" (int .Values.sidecar.server.port) .Values.sidecar.server.path -}}
{{- else -}}
{{- required "upstream.url is required in gateway mode (the MCP endpoint to put the proxy in front of, e.g. http://my-mcp.vendor.svc:3000/mcp)" .Values.upstream.url -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the upstream URL has a query: hosted servers take API keys there (serve sends it on every
request), so the whole URL is kept in the chart's Secret, never in the pod spec or the install notes.
*/}}
{{- define "baton-proxy.upstreamIsSecret" -}}
{{- if and (ne .Values.mode "sidecar") (contains "?" (.Values.upstream.url | default "")) -}}
{{- if .Values.secret.existingSecret -}}
{{- fail "upstream.url has a query, which may hold a credential: the chart keeps such a URL in its own Secret, and with secret.existingSecret it creates none (leave secret.existingSecret empty and put your keys in secret.extraEnv, or drop the query)" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/* The upstream as the install notes show it: without its query when that is kept in the Secret. */}}
{{- define "baton-proxy.upstreamShown" -}}
{{- if include "baton-proxy.upstreamIsSecret" . -}}
{{- $url := urlParse (include "baton-proxy.upstream" .) -}}
{{- printf "%s://%s%s (its query is kept in the Secret)" $url.scheme $url.host $url.path -}}
{{- else -}}
{{- include "baton-proxy.upstream" . -}}
{{- end -}}
{{- end -}}

{{/* The MCP path clients use on the proxy: serve.path, else the upstream's own path (serve's default). */}}
{{- define "baton-proxy.publicPath" -}}
{{- if .Values.serve.path -}}
{{- .Values.serve.path -}}
{{- else if eq .Values.mode "sidecar" -}}
{{- .Values.sidecar.server.path -}}
{{- else -}}
{{- (urlParse (include "baton-proxy.upstream" .)).path | default "/" -}}
{{- end -}}
{{- end -}}

{{/* BATON_EVENT_SINK: the listed sinks, plus the file on its emptyDir when events.file is enabled. */}}
{{- define "baton-proxy.eventSinks" -}}
{{- $sinks := list -}}
{{- range .Values.events.sinks }}{{- $sinks = append $sinks . -}}{{- end -}}
{{- if .Values.events.file.enabled }}{{- $sinks = append $sinks (printf "file://%s/events.jsonl" (trimSuffix "/" .Values.events.file.mountPath)) -}}{{- end -}}
{{- join "," $sinks -}}
{{- end -}}

{{/*
Refuses values that the schema cannot express, with a message saying what to change:
the grace period must outlast any preStop sleep plus the drain plus the sinks' 2 s flush deadline,
or Kubernetes SIGKILLs the proxy mid-drain and its last events are lost.
*/}}
{{- define "baton-proxy.validate" -}}
{{- $drainMs := int64 .Values.serve.drainTimeoutMs -}}
{{- $sleepMs := 0 -}}
{{- with .Values.lifecycle }}{{- with .preStop }}{{- with .sleep }}{{- $sleepMs = mul (int64 .seconds) 1000 -}}{{- end }}{{- end }}{{- end -}}
{{- $neededMs := add $sleepMs $drainMs 2000 -}}
{{- $graceMs := mul (int64 .Values.terminationGracePeriodSeconds) 1000 -}}
{{- if le $graceMs $neededMs -}}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must exceed serve.drainTimeoutMs (%d ms) plus the 2 s event flush%s: raise it to at least %d" (int64 .Values.terminationGracePeriodSeconds) $drainMs (ternary (printf " plus the %d ms preStop sleep" $sleepMs) "" (gt $sleepMs 0)) (add (div $neededMs 1000) 1)) -}}
{{- end -}}
{{- if and (eq .Values.mode "sidecar") (or (eq (int .Values.sidecar.server.port) (int .Values.serve.port)) (eq (int .Values.sidecar.server.port) (int .Values.serve.adminPort))) -}}
{{- fail (printf "sidecar.server.port %d collides with the proxy's own ports (serve.port %d, serve.adminPort %d): the two containers share the pod's network" (int .Values.sidecar.server.port) (int .Values.serve.port) (int .Values.serve.adminPort)) -}}
{{- end -}}
{{- if eq (int .Values.serve.port) (int .Values.serve.adminPort) -}}
{{- fail "serve.port and serve.adminPort must differ" -}}
{{- end -}}
{{- /* A budget that lets no pod be evicted makes every `kubectl drain` of the pod's node hang. */ -}}
{{- with .Values.podDisruptionBudget -}}
{{- if .enabled -}}
{{- $replicas := int (ternary $.Values.autoscaling.minReplicas $.Values.replicaCount $.Values.autoscaling.enabled) -}}
{{- if not (kindIs "invalid" .maxUnavailable) -}}
{{- if or (eq (toString .maxUnavailable) "0") (eq (toString .maxUnavailable) "0%") -}}
{{- fail (printf "podDisruptionBudget.maxUnavailable (%v) lets no pod be evicted: node drains would hang; allow at least 1" .maxUnavailable) -}}
{{- end -}}
{{- else if and (gt $replicas 0) (or (eq (toString .minAvailable) "100%") (and (not (kindIs "string" .minAvailable)) (ge (int .minAvailable) $replicas))) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%v) with %d replica(s) lets no pod be evicted: node drains would hang; run more replicas (%s) or lower minAvailable" .minAvailable $replicas (ternary "autoscaling.minReplicas" "replicaCount" $.Values.autoscaling.enabled)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The proxy container, shared by both modes. */}}
{{- define "baton-proxy.proxyContainer" -}}
- name: baton-proxy
  image: {{ include "baton-proxy.image" (dict "image" .Values.image "appVersion" .Chart.AppVersion "name" "image.tag") | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  # The image's default command, with the chart's ports: flags win over BATON_LISTEN/BATON_ADMIN_LISTEN.
  args:
    - serve
    - --listen
    - {{ printf "0.0.0.0:%d" (int .Values.serve.port) | quote }}
    - --admin-listen
    - {{ printf "0.0.0.0:%d" (int .Values.serve.adminPort) | quote }}
  env:
    {{- if not (include "baton-proxy.upstreamIsSecret" .) }}
    - name: BATON_UPSTREAM
      value: {{ include "baton-proxy.upstream" . | quote }}
    {{- end }}
    {{- with .Values.serve.path }}
    - name: BATON_PATH
      value: {{ . | quote }}
    {{- end }}
    {{- with .Values.serve.allowedOrigins }}
    - name: BATON_ALLOWED_ORIGINS
      value: {{ join "," . | quote }}
    {{- end }}
    - name: BATON_MAX_BODY_BYTES
      value: {{ int64 .Values.serve.maxBodyBytes | toString | quote }}
    - name: BATON_DRAIN_TIMEOUT_MS
      value: {{ int64 .Values.serve.drainTimeoutMs | toString | quote }}
    - name: BATON_SESSION_IDLE_MS
      value: {{ int64 .Values.serve.sessionIdleMs | toString | quote }}
    - name: BATON_IDLE_TIMEOUT_MS
      value: {{ int64 .Values.serve.idleTimeoutMs | toString | quote }}
    - name: BATON_MAX_SESSIONS
      value: {{ int64 .Values.serve.maxSessions | toString | quote }}
    - name: BATON_BODY_TIMEOUT_MS
      value: {{ int64 .Values.serve.bodyTimeoutMs | toString | quote }}
    - name: BATON_CONSENT_MODE
      value: {{ .Values.consent.mode | quote }}
    - name: BATON_EVENT_SINK
      value: {{ include "baton-proxy.eventSinks" . | quote }}
    {{- with .Values.tenantId }}
    - name: BATON_TENANT_ID
      value: {{ . | quote }}
    {{- end }}
    {{- with .Values.vendorId }}
    - name: BATON_VENDOR_ID
      value: {{ . | quote }}
    {{- end }}
    - name: BATON_SCRUB
      value: {{ ternary "on" "off" .Values.events.scrub | quote }}
    {{- with .Values.events.scrubKeys }}
    - name: BATON_SCRUB_KEYS
      value: {{ join "," . | quote }}
    {{- end }}
    - name: BATON_SLOW_CALL_MS
      value: {{ int64 .Values.events.slowCallMs | toString | quote }}
    {{- range $name, $value := .Values.extraEnv }}
    - name: {{ $name }}
      value: {{ include "baton-proxy.envValue" $value | quote }}
    {{- end }}
  {{- if or (include "baton-proxy.secretName" .) .Values.extraEnvFrom }}
  envFrom:
    {{- with (include "baton-proxy.secretName" .) }}
    # Secrets (BATON_API_KEY, BATON_CONSENT_TOKEN, secret.extraEnv) only ever come from this Secret.
    - secretRef:
        name: {{ . }}
    {{- end }}
    {{- with .Values.extraEnvFrom }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  ports:
    - name: http
      containerPort: {{ .Values.serve.port }}
      protocol: TCP
    - name: admin
      containerPort: {{ .Values.serve.adminPort }}
      protocol: TCP
  startupProbe:
    httpGet:
      path: /healthz
      port: admin
    {{- toYaml .Values.startupProbe | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: admin
    {{- toYaml .Values.livenessProbe | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: admin
    {{- toYaml .Values.readinessProbe | nindent 4 }}
  {{- with .Values.lifecycle }}
  lifecycle:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- if .Values.events.file.enabled }}
    - name: events
      mountPath: {{ .Values.events.file.mountPath }}
    {{- end }}
    {{- with .Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* The vendor's MCP server container in sidecar mode. */}}
{{- define "baton-proxy.serverContainer" -}}
{{- $server := .Values.sidecar.server -}}
- name: mcp-server
  image: {{ include "baton-proxy.image" (dict "image" $server.image "appVersion" "latest" "name" "sidecar.server.image.tag") | quote }}
  imagePullPolicy: {{ $server.image.pullPolicy }}
  {{- with $server.command }}
  command:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $server.args }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $server.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $server.envFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - name: mcp
      containerPort: {{ $server.port }}
      protocol: TCP
  {{- with $server.livenessProbe }}
  livenessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $server.lifecycle }}
  lifecycle:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml $server.resources | nindent 4 }}
  securityContext:
    {{- toYaml $server.securityContext | nindent 4 }}
  {{- with $server.volumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
