#!/usr/bin/env bash
# Creates Temporal's two PostgreSQL databases (persistence and visibility) if they are missing and brings their
# schemas to the version this server release expects, with Temporal's own SQL tool. Safe to run again (before every
# upgrade, as the operator of a cluster does): existing databases are kept and only newer schema versions applied.
#
#   POSTGRES_SEEDS=db.example.org POSTGRES_USER=temporal POSTGRES_PWD=… deploy/temporal/setup-schema.sh
#
# The same variables as config/xfc.yaml: POSTGRES_SEEDS (127.0.0.1), DB_PORT (5432), POSTGRES_USER (temporal),
# POSTGRES_PWD, DBNAME (temporal), VISIBILITY_DBNAME (temporal_visibility). XFC_TEMPORAL_HOME is where build.sh put
# the tool and the schemas. The password reaches the tool through its environment (SQL_PASSWORD), never argv.
set -euo pipefail
home="${XFC_TEMPORAL_HOME:-$HOME/.cache/xfc/temporal-server-${TEMPORAL_SERVER_VERSION:-v1.29.1}}"
tool="$home/bin/temporal-sql-tool"
schema="$home/schema/postgresql/v12"
[ -x "$tool" ] || { echo "setup-schema.sh: $tool is missing: run deploy/temporal/build.sh first" >&2; exit 1; }
export SQL_PASSWORD="${POSTGRES_PWD:-}"
common=(--plugin postgres12 --endpoint "${POSTGRES_SEEDS:-127.0.0.1}" --port "${DB_PORT:-5432}"
  --user "${POSTGRES_USER:-temporal}")

setup() { # database, schema directory (temporal or visibility)
  local out
  if ! out="$("$tool" "${common[@]}" --database "$1" create-database 2>&1)"; then
    grep -q 'already exists' <<<"$out" || { echo "$out" >&2; return 1; }
  fi
  "$tool" "${common[@]}" --database "$1" --quiet setup-schema -v 0.0
  "$tool" "${common[@]}" --database "$1" --quiet update-schema -d "$schema/$2/versioned"
  echo "$1: schema $2 up to date"
}
setup "${DBNAME:-temporal}" temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
