#!/usr/bin/env python3
"""Example: consume xfc's scan results from RabbitMQ in Python, as the Django side would.

It declares a queue of its own bound to the topic exchange `xfc` for `scan.completed` and `scan.failed`, checks each
message's AMQP `type` and `version`, prints one line per result, and acknowledges it after handling it (a crash before
the ack gets the message again). The bodies follow docs/messages/v1/*.schema.json; byte figures are decimal strings
(parse them with int(), never float).

    python3 docs/examples/consume_results.py --url amqp://guest:guest@127.0.0.1:5672/%2F --queue django.xfc.results

Needs pika (Debian: apt-get install python3-pika). --count N stops after N messages (for tests).
"""
import argparse
import json
import sys

import pika

EXCHANGE = "xfc"
TYPES = ("scan.completed", "scan.failed")


def describe(kind, body):
    """One line per result; raises ValueError on a body this consumer does not understand."""
    if body.get("version") != 1:
        raise ValueError(f"unsupported version {body.get('version')!r}")
    if kind == "scan.completed":
        totals = body["totals"]
        return (
            f"{body['username']}: {body['status']} scan {body['scanId']}, "
            f"{int(totals['bytes'])} bytes, {int(totals['temporalByteDays'])} byte-days, {int(totals['files'])} files"
        )
    return f"{body['username']}: failed scan {body['scanId']} ({body['reason']}): {body['message']}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--queue", default="django.xfc.results")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages (0: run until Ctrl-C)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    # The exchange is xfc's (declared by xfc); declaring it passively checks it exists without changing it.
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic", passive=True)
    channel.queue_declare(queue=args.queue, durable=True)
    for kind in TYPES:
        channel.queue_bind(queue=args.queue, exchange=EXCHANGE, routing_key=kind)
    channel.basic_qos(prefetch_count=10)
    print("ready", flush=True)

    handled = 0
    for method, properties, raw in channel.consume(args.queue):
        kind = properties.type
        try:
            if kind not in TYPES:
                raise ValueError(f"unexpected message type {kind!r}")
            print(describe(kind, json.loads(raw)), flush=True)
            channel.basic_ack(method.delivery_tag)
        except (ValueError, KeyError, TypeError) as err:
            # Not something to retry: say so and drop it (a real consumer would dead-letter it).
            print(f"refused message {properties.message_id}: {err}", file=sys.stderr, flush=True)
            channel.basic_nack(method.delivery_tag, requeue=False)
        handled += 1
        if args.count and handled >= args.count:
            break
    channel.cancel()
    connection.close()


if __name__ == "__main__":
    main()
