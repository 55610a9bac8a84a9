#!/usr/bin/env bash
# Lints the Helm chart and validates what it renders (defaults and every documented example) with
# kubeconform -strict against the Kubernetes schemas (and the CRDs catalog for the ServiceMonitor).
# Needs helm and kubeconform on PATH (CI installs pinned versions); KUBE_VERSION picks the schemas.
set -euo pipefail
cd "$(dirname "$0")/.."

CHART=deploy/helm/baton-proxy
KUBE_VERSION="${KUBE_VERSION:-1.30.0}"
KUBECONFORM="${KUBECONFORM:-kubeconform}"
CRDS_CATALOG='https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'

# name -> helm value arguments; the defaults need an upstream (gateway mode requires one).
cases=("defaults|--set upstream.url=http://mcp.vendor.svc.cluster.local:3000/mcp")
for example in "$CHART"/examples/*.yaml; do
  cases+=("$(basename "$example" .yaml)|-f $example")
done

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0
for entry in "${cases[@]}"; do
  name="${entry%%|*}"
  read -r -a args <<<"${entry#*|}"
  echo "== $name"
  if ! helm lint --strict "$CHART" "${args[@]}"; then
    echo "::error::helm lint failed for $name"; failed=$((failed + 1)); continue
  fi
  if ! helm template "ci-$name" "$CHART" --namespace mcp --kube-version "$KUBE_VERSION" "${args[@]}" >"$out/$name.yaml"; then
    echo "::error::helm template failed for $name"; failed=$((failed + 1)); continue
  fi
  if ! "$KUBECONFORM" -strict -summary -kubernetes-version "$KUBE_VERSION" \
      -schema-location default -schema-location "$CRDS_CATALOG" "$out/$name.yaml"; then
    echo "::error::kubeconform rejected what $name renders"; failed=$((failed + 1))
  fi
done
echo "${#cases[@]} cases, $failed failed"
[ "$failed" -eq 0 ]
