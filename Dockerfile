# syntax=docker/dockerfile:1
#
# One image for every xfc process; the command picks the role:
#   docker run IMAGE worker --role control | worker --role scan | bridge | db migrate | amqp setup
#
# glibc base (Debian bookworm), not Alpine: @temporalio/core-bridge ships its native module for
# x86_64/aarch64-unknown-linux-gnu only. Node 20 is the runtime the test suite runs on.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: compile TypeScript and bundle the workflows ----------------------------------------------------------
FROM ${NODE_IMAGE} AS build
# python3, make and a C compiler build the native walker (lib/walker/native/, binding.gyp) with the node-gyp npm ships,
# against the Node headers the image has in /usr/local/include/node.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: package.json's allowScripts already denies the only install scripts in the tree (@swc/core,
# esbuild, protobufjs) and the build works without them; older npm versions ignore allowScripts, so say it here
# too. It also skips our own `prepare` (= build), which cannot run before the sources are copied below.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# tsc → dist/, then dist/workflow-bundle.js: the control worker loads this prebuilt bundle instead of running
# webpack at start-up, so what runs is exactly what was built here.
RUN npm run build && test -s dist/workflow-bundle.js
# The native walker (skipped by --ignore-scripts above): build/Release/xfc_walker.node, loaded by dist/walker.
RUN npm run build:native && test -s build/Release/xfc_walker.node

# --- production dependencies only, from the same lockfile --------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# @temporalio/core-bridge ships its native library for five platforms (~140 MB); keep the one this image runs on,
# named the way core-bridge's own loader names it.
RUN keep="$(node -p "({ x64: 'x86_64', arm64: 'aarch64' })[process.arch] + '-unknown-linux-gnu'")" \
  && test -d "node_modules/@temporalio/core-bridge/releases/$keep" \
  && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} +

# --- runtime -----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps children: node as PID 1 would ignore SIGTERM in any command
# that installs no handler of its own, and then be killed hard after the grace period.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 xfc \
  && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin xfc

WORKDIR /app
# Everything is owned by root and read-only to the xfc user: the process cannot change its own code.
# package.json is needed at run time too: its "type": "module" makes dist/*.js ES modules.
COPY package.json ./
COPY bin/ ./bin/
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release/xfc_walker.node ./build/Release/xfc_walker.node
# SQL migrations are read from db/migrations (db/migrate.ts looks beside the sources when running from dist/).
COPY --from=build /src/db/migrations ./db/migrations

ENV NODE_ENV=production \
  NODE_OPTIONS=--enable-source-maps \
  XFC_METRICS_PORT=9464 \
  XFC_TEMPORAL_METRICS_PORT=9465
# Prometheus: xfc's own metrics and the Temporal SDK's (workers only).
EXPOSE 9464 9465

# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

# No HEALTHCHECK here: the same image runs one-shot jobs (db migrate, amqp setup) and long-running processes with
# different probes; docker-compose.yml and the Kubernetes manifests define a check per process instead.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/xfc.cjs"]
CMD ["worker", "--role", "control"]
