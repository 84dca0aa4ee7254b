#!/usr/bin/env bash
# CI check of docker-compose.yml, without a Docker engine (`docker compose config` only parses and resolves):
#   1. the file is a valid Compose file (`docker compose config -q`);
#   2. the promises the deployment docs make about it still hold (pinned images, a read-only XFC root for the scan
#      worker, no database/RabbitMQ/SMTP settings in the scan worker, ordered start-up).
# When the Compose CLI plugin is missing it is built from the pinned release through the Go module proxy
# (about 4 minutes on 2 cores) and installed as a Docker CLI plugin; without the docker CLI it runs standalone.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE_VERSION=v2.40.3
COMPOSE_MODULE=github.com/docker/compose/v2
plugin="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-compose"

compose() {
  if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    docker compose "$@"
  elif [ -x "$plugin" ]; then
    "$plugin" "$@"
  else
    return 127
  fi
}

install_compose() {
  command -v go >/dev/null 2>&1 || {
    echo "check-compose: the Docker Compose plugin is missing and Go is not installed to build it." >&2
    echo "Install docker-compose-plugin (or Go) and run again." >&2
    exit 1
  }
  echo "check-compose: building Docker Compose $COMPOSE_VERSION (one-off) into $plugin"
  local dir src
  # `go install` refuses this module (its go.mod has exclude directives), so build from the module's own tree.
  dir=$(go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || {
    echo "check-compose: could not download $COMPOSE_MODULE@$COMPOSE_VERSION" >&2
    exit 1
  }
  src=$(mktemp -d)
  trap 'rm -rf "$src"' RETURN
  cp -R "$dir/." "$src" && chmod -R u+w "$src"
  mkdir -p "$(dirname "$plugin")"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" -o "$plugin" ./cmd)
}

compose version >/dev/null 2>&1 || install_compose
echo "check-compose: $(compose version)"

# 1. Valid Compose file.
compose -f docker-compose.yml config -q

# 2. What deploy/README.md and docs/security.md say about it.
compose -f docker-compose.yml config --format json | node --input-type=module -e '
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { services } = JSON.parse(Buffer.concat(chunks).toString());
const problems = [];
for (const [name, service] of Object.entries(services)) {
  const image = service.image ?? "";
  const tag = image.includes(":") ? image.slice(image.lastIndexOf(":") + 1) : "";
  if (!service.build && (tag === "" || tag === "latest")) problems.push(`${name}: image ${image} is not pinned`);
}
const scan = services["scan-worker"];
if (!scan) problems.push("scan-worker: missing");
else {
  const root = (scan.volumes ?? []).find((v) => v.target === "/work/xfc");
  if (!root || root.read_only !== true) problems.push("scan-worker: /work/xfc must be mounted read-only");
  for (const name of ["XFC_DATABASE_URL", "XFC_AMQP_URL", "XFC_SMTP_URL"]) {
    if (name in (scan.environment ?? {})) problems.push(`scan-worker: must not get ${name}`);
  }
  if (scan.read_only !== true) problems.push("scan-worker: root file system must be read-only");
}
const after = (service, dependency, condition) =>
  services[service]?.depends_on?.[dependency]?.condition === condition ||
  problems.push(`${service}: must wait for ${dependency} (${condition})`);
after("migrate", "postgres", "service_healthy");
after("migrate", "rabbitmq", "service_healthy");
after("control-worker", "migrate", "service_completed_successfully");
after("control-worker", "temporal", "service_healthy");
after("bridge", "migrate", "service_completed_successfully");
after("bridge", "temporal", "service_healthy");
after("scan-worker", "temporal", "service_healthy");
const command = (services.temporal?.command ?? []).join(" ");
if (!command.includes("--search-attribute XfcUser=Keyword")) problems.push("temporal: XfcUser search attribute");
if (problems.length > 0) {
  console.error(problems.map((p) => `check-compose: ${p}`).join("\n"));
  process.exit(1);
}
console.log(`check-compose: docker-compose.yml is valid (${Object.keys(services).length} services)`);
'
