#!/usr/bin/env bash
# Builds the Temporal server and its SQL tool from the Go module proxy (no prebuilt download), once per version:
#
#   deploy/temporal/build.sh            # → $XFC_TEMPORAL_HOME (default ~/.cache/xfc/temporal-server-v1.29.1)
#
# and puts beside them the PostgreSQL schemas that ship inside the server module, so that setup-schema.sh needs
# neither Go nor the module cache later. v1.29.1 builds with Go 1.26; a newer release needs GOTOOLCHAIN=go1.27.3.
# Idempotent: an existing build of the same version is kept (delete the directory to rebuild).
set -euo pipefail
version="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
home="${XFC_TEMPORAL_HOME:-$HOME/.cache/xfc/temporal-server-$version}"
if [ -x "$home/bin/temporal-server" ] && [ -x "$home/bin/temporal-sql-tool" ] && [ -d "$home/schema/postgresql/v12" ]; then
  echo "temporal server $version already built in $home"
  exit 0
fi
command -v go >/dev/null || { echo "build.sh: Go is needed to build the Temporal server (apt-get install golang, or a Go toolchain)" >&2; exit 1; }
mkdir -p "$home/bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Built outside any module (go install pkg@version), with the versions the server's own go.mod pins.
(cd "$tmp" && GOBIN="$tmp" \
  go install "go.temporal.io/server/cmd/server@$version" "go.temporal.io/server/cmd/tools/sql@$version")
mv "$tmp/server" "$home/bin/temporal-server"
mv "$tmp/sql" "$home/bin/temporal-sql-tool"
module="$(go env GOMODCACHE)/go.temporal.io/server@$version"
rm -rf "$home/schema" && mkdir -p "$home/schema"
cp -r "$module/schema/postgresql" "$home/schema/" && chmod -R u+w "$home/schema"
echo "temporal server $version built in $home ($(du -sh "$home/bin" | cut -f1))"
