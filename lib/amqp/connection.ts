import { hostname } from 'node:os';
import amqp, { type ChannelModel } from 'amqplib';
import { redact } from '../config/env.js';

/**
 * Opens one AMQP connection, named so that the management UI shows which xfc process holds it. Reconnection is
 * the caller's loop (the bridge) or lazy re-opening (the publisher): amqplib's recovery helper re-opens the
 * connection only, while both callers must also rebuild channels, consumers and confirm state, so they own it.
 */
export async function connectAmqp(url: string, role: string): Promise<ChannelModel> {
  try {
    return await amqp.connect(url, {
      clientProperties: { connection_name: `xfc ${role} ${hostname()}:${process.pid}` },
      // Gives up on an unreachable host after 10 s; the broker's heartbeat (60 s by default) detects a dead peer.
      timeout: 10_000,
    });
  } catch (err) {
    throw new AmqpConnectError(url, err);
  }
}

/** The broker could not be reached or refused us; the message names the URL without its password. */
export class AmqpConnectError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot connect to RabbitMQ at ${redact(url)}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'AmqpConnectError';
  }
}

/** Closes a connection that may already be closed, without throwing. */
export async function closeQuietly(connection: { close(): Promise<void> } | undefined): Promise<void> {
  if (!connection) return;
  try {
    await connection.close();
  } catch {
    // already closed or closing: nothing left to release
  }
}
