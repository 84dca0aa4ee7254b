#!/usr/bin/env bash
# Creates the xfc vhost and one RabbitMQ user per xfc process, each with only the permissions it uses
# (docs/security.md, "RabbitMQ"). Idempotent: re-running resets the permissions and keeps existing passwords.
#
#   deploy/rabbitmq/setup-users.sh            # on a broker node, as a user who may run rabbitmqctl
#
# Passwords of NEW users come from XFC_AMQP_PASSWORD_SETUP / _CONTROL / _BRIDGE / _OPS / _REQUESTER, or are generated and
# printed once. Put each in the XFC_AMQP_URL of its process only: amqp://xfc-bridge:<password>@host:5672/xfc
#
# Every xfc process declares the topology (idempotently) when it connects, so each user needs `configure` on the
# five xfc objects, `write` on the queues and `read` on the exchanges (queue.bind); beyond that, each gets only what
# it does: the control worker publishes to `xfc`, the bridge consumes the two work queues and publishes rejects to
# `xfc.dlx`, ops reads `xfc.dead` and re-publishes to `xfc`, a requester (another service) publishes scan requests.
# Nothing may touch any other object in the vhost. Set the broker's max_message_size too (rabbitmq.conf here).
set -euo pipefail

vhost=${XFC_AMQP_VHOST:-xfc}
prefix=${XFC_AMQP_USER_PREFIX:-xfc-}
ctl=${RABBITMQCTL:-rabbitmqctl}

topology='^(xfc|xfc\.dlx|xfc\.scan\.request|xfc\.scan\.completed|xfc\.dead)$'
bind_queues='xfc\.scan\.request|xfc\.scan\.completed|xfc\.dead'
exchanges='xfc|xfc\.dlx'

# role  configure  write  read
permissions=(
  "setup     $topology ^($bind_queues)$         ^($exchanges)$"
  "control   $topology ^(xfc|$bind_queues)$     ^($exchanges)$"
  "bridge    $topology ^(xfc\.dlx|$bind_queues)$ ^($exchanges|xfc\.scan\.request|xfc\.scan\.completed)$"
  "ops       $topology ^(xfc|$bind_queues)$     ^($exchanges|xfc\.dead)$"
  "requester $topology ^(xfc|$bind_queues)$     ^($exchanges)$"
)

# Which routing keys each user may publish to the topic exchange `xfc` (RabbitMQ topic authorisation): only the
# scan side (the control worker, which publishes what scanUser measured) may publish results; other services
# (`requester`) and operators (`ops`: `xfc amqp dead --requeue`) only requests. A result requeued by ops is refused
# by the broker and stays in xfc.dead; it needs no requeue, since xfc applies its own results inside Temporal. Only
# the bridge may write to `xfc.dlx` (dead letters with their reason); the broker dead-letters by itself.
# role  write pattern on exchange xfc
topic_permissions=(
  "setup     ^$"
  "control   ^scan\.(request|completed|failed)$"
  "bridge    ^$"
  "ops       ^scan\.request$"
  "requester ^scan\.request$"
)

"$ctl" -q add_vhost "$vhost" 2>/dev/null || true
existing=$("$ctl" -q list_users --no-table-headers | awk '{print $1}')

for entry in "${permissions[@]}"; do
  read -r role configure write read <<<"$entry"
  user="$prefix$role"
  if ! grep -qxF "$user" <<<"$existing"; then
    var="XFC_AMQP_PASSWORD_${role^^}"
    password=${!var:-}
    if [ -z "$password" ]; then
      password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | cut -c1-24)
      echo "created $user with password $password (store it now; it is not shown again)"
    else
      echo "created $user (password from $var)"
    fi
    # The password goes through standard input, not the command line (visible in ps).
    printf '%s' "$password" | "$ctl" -q add_user "$user" >/dev/null
  fi
  "$ctl" -q set_permissions -p "$vhost" "$user" "$configure" "$write" "$read"
  echo "permissions of $user on vhost $vhost: configure '$configure' write '$write' read '$read'"
done

for entry in "${topic_permissions[@]}"; do
  read -r role write <<<"$entry"
  "$ctl" -q set_topic_permissions -p "$vhost" "$prefix$role" xfc "$write" '^$'
  echo "topic permissions of $prefix$role on exchange xfc: publish routing keys '$write'"
done
