#!/usr/bin/env bash
# Registers xfc's namespace and its search attributes on a Temporal cluster with the `temporal` CLI, as an operator
# does once per cluster. Safe to run again: what exists is kept (retention is updated to the given value).
#
#   deploy/temporal/setup-namespace.sh [NAMESPACE [RETENTION [NAME=TYPE ...]]]
#   deploy/temporal/setup-namespace.sh xfc 30d XfcUser=Keyword
#
# The search attributes xfc uses are listed in ops/search-attribute.ts; `xfc doctor` prints the exact commands for
# whichever are missing, and the test harness calls this script with that list. TEMPORAL_ADDRESS and the CLI's TLS
# variables (TEMPORAL_TLS_*) select the cluster; TEMPORAL_CLI_PATH the CLI (default: temporal on PATH, ~/go/bin).
set -euo pipefail
namespace="${1:-xfc}"
retention="${2:-30d}"
shift $(($# > 2 ? 2 : $#))
[ $# -gt 0 ] || set -- XfcUser=Keyword
cli="${TEMPORAL_CLI_PATH:-$(command -v temporal || echo "$HOME/go/bin/temporal")}"
[ -x "$cli" ] || { echo "setup-namespace.sh: the temporal CLI was not found (go install github.com/temporalio/cli/cmd/temporal@v1.5.1)" >&2; exit 1; }

if "$cli" operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  "$cli" operator namespace update --namespace "$namespace" --retention "$retention" >/dev/null
  echo "namespace $namespace: exists (retention $retention)"
else
  "$cli" operator namespace create --namespace "$namespace" --retention "$retention" \
    --description "xfc: scans of the XFC scratch disk and their applications"
  echo "namespace $namespace: created (retention $retention)"
fi

# A new namespace reaches every frontend within the namespace cache refresh (2 s); until then it is "not found".
for _ in $(seq 50); do
  "$cli" operator search-attribute list --namespace "$namespace" >/dev/null 2>&1 && break
  sleep 0.2
done
names=() types=()
for pair in "$@"; do
  names+=(--name "${pair%%=*}") types+=(--type "${pair#*=}")
done
# Creating an attribute that exists with the same type succeeds; with another type it fails and says so.
"$cli" operator search-attribute create --namespace "$namespace" "${names[@]}" "${types[@]}" >/dev/null
echo "search attributes on $namespace: $*"
