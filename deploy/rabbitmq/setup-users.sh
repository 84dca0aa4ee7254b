#!/usr/bin/env bash
# Creates the xfc vhost and one RabbitMQ user per xfc process, each with only the permissions it uses
# (docs/security.md, "RabbitMQ"). Idempotent: re-running resets the permissions and keeps existing passwords.
#
#   deploy/rabbitmq/setup-users.sh            # on a broker node, as a user who may run rabbitmqctl
#
# Passwords of NEW users come from XFC_AMQP_PASSWORD_SETUP / _CONTROL / _BRIDGE / _OPS, or are generated and
# printed once. Put each in the XFC_AMQP_URL of its process only: amqp://xfc-bridge:<password>@host:5672/xfc
#
# Every xfc process declares the topology (idempotently) when it connects, so each user needs `configure` on the
# five xfc objects, `write` on the queues and `read` on the exchanges (queue.bind); beyond that, each gets only what
# it does: the control worker publishes to `xfc`, the bridge consumes the two work queues and publishes rejects to
# `xfc.dlx`, ops reads `xfc.dead` and re-publishes to `xfc`. Nothing may touch any other object in the vhost.
set -euo pipefail

vhost=${XFC_AMQP_VHOST:-xfc}
prefix=${XFC_AMQP_USER_PREFIX:-xfc-}
ctl=${RABBITMQCTL:-rabbitmqctl}

topology='^(xfc|xfc\.dlx|xfc\.scan\.request|xfc\.scan\.completed|xfc\.dead)$'
bind_queues='xfc\.scan\.request|xfc\.scan\.completed|xfc\.dead'
exchanges='xfc|xfc\.dlx'

# role  configure  write  read
permissions=(
  "setup   $topology ^($bind_queues)$         ^($exchanges)$"
  "control $topology ^(xfc|$bind_queues)$     ^($exchanges)$"
  "bridge  $topology ^(xfc\.dlx|$bind_queues)$ ^($exchanges|xfc\.scan\.request|xfc\.scan\.completed)$"
  "ops     $topology ^(xfc|$bind_queues)$     ^($exchanges|xfc\.dead)$"
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
