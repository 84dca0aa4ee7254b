import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Client } from '@temporalio/client';
import type { XfcConfig } from '../config/env.js';
import type { MessageType } from '../messages/v1/index.js';
import { applyWorkflowId, scanWorkflowId } from '../temporal/names.js';
import type { ResultClaims, ResultVerdict } from '../../db/scan-authority.js';
import { existingApplication, startApplyWorkflow, startScanWorkflow, type StartOutcome } from '../temporal/starters.js';
import { backoffDelay, sleep, type Backoff } from './backoff.js';
import { confirmedPublisher, type ConfirmedPublish } from './confirm.js';
import { closeQuietly, connectAmqp } from './connection.js';
import { decodeMessage, type DecodedMessage } from './decode.js';
import { publishDeadLetter, type DeadReason } from './dead-letters.js';
import { signatureHeader, verifyResultSignature } from './signature.js';
import { jsonLogger, type LogFields, type Logger } from './log.js';
import { declareTopology, scanCompletedQueue, scanRequestQueue } from './topology.js';
import { errorMessage } from '../common/errors.js';

/**
 * The bridge between RabbitMQ and Temporal (docs/design.md §1, §5): a scan.request starts `scanUser`, a scan.completed or
 * scan.failed starts `applyScan`. A delivery is acked only once Temporal accepted the start (an execution already
 * running, or an application already done, counts as accepted), so a crash anywhere means a redelivery and an
 * idempotent second start, never a lost message. Starting returns at once: no delivery is held while a scan runs.
 *
 * - A message that cannot be parsed or validated goes to xfc.dead with the reason in headers, then is acked.
 * - A start that fails (Temporal unreachable, timing out) is requeued after a delay that grows with the message's
 *   delivery count; the queue's delivery limit bounds the retries, after which the broker dead-letters it.
 * - When the connection or a channel closes, the bridge reconnects with backoff, declares the topology again and
 *   resumes; the broker redelivers whatever was unacked.
 */

export interface BridgeOptions {
  config: Pick<XfcConfig, 'amqpUrl' | 'amqpTopology' | 'temporal' | 'bridge' | 'resultSigningKey'>;
  temporalClient: Client;
  logger?: Logger;
  /** Delay before a message whose start failed is requeued, by its delivery count (default 1 s … 30 s). */
  retry?: Backoff;
  /** Delay between reconnection attempts (default 0.5 s … 30 s, with jitter). */
  reconnect?: Backoff;
  /** How long one workflow start may take before it counts as failed (default 10 s). */
  startTimeoutMs?: number;
  /**
   * Checks an authenticated result against the scans xfc issued (db/scan-authority.ts) before its application is
   * started, so a refused one is dead-lettered with its reason. Without it the application itself refuses it
   * (and records nothing), but the message is acked.
   */
  verifyResult?: (claims: ResultClaims) => Promise<ResultVerdict>;
}

export interface BridgeStats {
  /** True while consuming. */
  connected: boolean;
  /** Successful connections so far (1 + reconnections). */
  connections: number;
  received: number;
  /** Deliveries that started a new workflow execution. */
  started: number;
  /** Deliveries accepted because their workflow was already running or done (duplicates, redeliveries). */
  alreadyStarted: number;
  deadLettered: number;
  /** Deliveries requeued after a failed start. */
  requeued: number;
  inFlight: number;
}

interface Route {
  queue: string;
  accepts: readonly MessageType[];
  workflowIdOf(message: DecodedMessage): string;
  /** Starts the workflow, or throws RefusedMessage for a message that must go to xfc.dead. */
  start(message: DecodedMessage, delivery: ConsumeMessage): Promise<StartOutcome>;
}

/** A valid message the bridge will not act on (e.g. an unauthenticated result): dead-lettered with the reason. */
class RefusedMessage extends Error {
  constructor(
    readonly reason: DeadReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'RefusedMessage';
  }
}

interface Session {
  connection: ChannelModel;
  channel: Channel;
  deadLetter: ConfirmedPublish;
  consumerTags: string[];
  /** Resolves with the reason when the connection or one of its channels is gone. */
  closed: Promise<string>;
}

/** Starts a bridge: it connects, consumes and reconnects in the background until stopped. */
export function startBridge(options: BridgeOptions): Bridge {
  const bridge = new Bridge(options);
  bridge.start();
  return bridge;
}

/**
 * One bridge process's state: its live counters, the deliveries in hand, the session it consumes on (replaced on
 * every reconnection) and whether it is stopping. `start()` runs the connect–consume–reconnect loop; `stop()` ends it.
 */
export class Bridge {
  /** Resolves once the bridge consumes for the first time; rejects if it is stopped before. */
  readonly ready: Promise<void>;

  private readonly config: BridgeOptions['config'];
  private readonly client: Client;
  private readonly log: Logger;
  private readonly retry: Backoff;
  private readonly reconnect: Backoff;
  private readonly startTimeoutMs: number;
  private readonly verifyResult: BridgeOptions['verifyResult'];
  private readonly routes: readonly Route[];

  private readonly counters: BridgeStats = {
    connected: false,
    connections: 0,
    received: 0,
    started: 0,
    alreadyStarted: 0,
    deadLettered: 0,
    requeued: 0,
    inFlight: 0,
  };
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  /** Starts for one workflow id run one after the other (see handle()). */
  private readonly serialized = keyedSerializer();
  private readonly markReady: () => void;
  private readonly markNeverReady: (err: Error) => void;
  /** The session consuming now; undefined while connecting or reconnecting. */
  private current: Session | undefined;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(options: BridgeOptions) {
    this.config = options.config;
    this.client = options.temporalClient;
    this.log = options.logger ?? jsonLogger('bridge');
    this.retry = options.retry ?? { initialMs: 1_000, maxMs: 30_000 };
    this.reconnect = options.reconnect ?? { initialMs: 500, maxMs: 30_000, jitter: 0.2 };
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.verifyResult = options.verifyResult;
    this.routes = this.buildRoutes();
    let markReady: () => void = () => undefined;
    let markNeverReady: (err: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markNeverReady = reject;
    });
    this.markReady = markReady;
    this.markNeverReady = markNeverReady;
    this.ready.catch(() => undefined); // a caller that never awaits `ready` must not see an unhandled rejection
  }

  /** Live counters (a snapshot is `{ ...bridge.stats }`). */
  get stats(): Readonly<BridgeStats> {
    return this.counters;
  }

  /** Starts consuming in the background (once; `ready` tells when it first consumes). */
  start(): void {
    this.running ??= this.run().catch((err: unknown) =>
      this.log('error', 'bridge.crashed', { error: errorMessage(err) }),
    );
  }

  /** Cancels the consumers, lets the starts in flight finish (and ack), then closes the connection. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.log('info', 'bridge.stopping', { inFlight: this.inFlight.size });
      this.stopping.abort();
      this.markNeverReady(new Error('the bridge was stopped before it connected'));
      if (this.current) await this.shutDown(this.current);
      await Promise.allSettled([...this.inFlight]);
      await this.running;
      this.counters.connected = false;
      this.log('info', 'bridge.stopped', { ...this.counters });
    })();
    return this.stopped;
  }

  private buildRoutes(): Route[] {
    const { client, config } = this;
    return [
      {
        queue: scanRequestQueue,
        accepts: ['scan.request'],
        workflowIdOf: (message) => scanWorkflowId(message.body.username),
        start: (message) => {
          if (message.type !== 'scan.request') throw new Error(`unexpected ${message.type}`);
          return startScanWorkflow(client, config, message.body);
        },
      },
      {
        queue: scanCompletedQueue,
        accepts: ['scan.completed', 'scan.failed'],
        workflowIdOf: (message) => applyWorkflowId((message.body as { scanId: string }).scanId),
        start: async (message, delivery) => {
          if (message.type === 'scan.request') throw new Error(`unexpected ${message.type}`);
          // xfc's own scans hand their results to applyScan inside Temporal; this copy only informs. Whatever the
          // message says, an application that exists already is not touched: accepted as a duplicate.
          const existing = await existingApplication(client, applyWorkflowId(message.body.scanId));
          if (existing) return existing;
          await this.authenticateResult(message, delivery);
          // Spelled out so that TypeScript pairs each type with its body.
          return message.type === 'scan.completed'
            ? startApplyWorkflow(client, config, { type: message.type, message: message.body })
            : startApplyWorkflow(client, config, { type: message.type, message: message.body });
        },
      },
    ];
  }

  /**
   * A result from RabbitMQ starts an application only if an xfc control worker signed it (signature.ts) and,
   * when the bridge can see the database, xfc issued its scan for that user and directory. Checked on every
   * delivery, so a message requeued from xfc.dead is checked again as if new.
   */
  private async authenticateResult(message: DecodedMessage, delivery: ConsumeMessage): Promise<void> {
    if (message.type === 'scan.request') return;
    const key = this.config.resultSigningKey;
    if (key === undefined) {
      throw new RefusedMessage(
        'unauthenticated',
        'XFC_RESULT_SIGNING_KEY is not set for the bridge, so it applies no result from RabbitMQ (xfc applies its own scans inside Temporal)',
      );
    }
    const signature: unknown = delivery.properties.headers?.[signatureHeader];
    if (!verifyResultSignature(key, message.type, delivery.content, signature)) {
      throw new RefusedMessage(
        'unauthenticated',
        `no valid ${signatureHeader} header: the result was not published by an xfc control worker`,
      );
    }
    if (!this.verifyResult) return;
    const verdict = await this.verifyResult(message.body);
    if (!verdict.ok) throw new RefusedMessage(verdict.reason, verdict.detail);
  }

  /** Connects, declares the topology and consumes every route's queue: one session, until it closes. */
  private async openSession(): Promise<Session> {
    const { config, log } = this;
    const connection = await connectAmqp(config.amqpUrl, 'bridge');
    try {
      let reportClosed: (reason: string) => void = () => undefined;
      const closed = new Promise<string>((resolve) => (reportClosed = resolve));
      connection.on('error', (err: Error) => log('warn', 'amqp.connection-error', { error: err.message }));
      connection.on('close', (err?: Error) => reportClosed(err ? err.message : 'connection closed'));
      // Either channel failing (e.g. an ack the broker refuses) ends the session: reconnecting is the one recovery.
      const onChannelClose = (which: string) => () => {
        reportClosed(`${which} channel closed`);
        void closeQuietly(connection);
      };
      const channel = await connection.createChannel();
      channel.on('error', (err: Error) => log('warn', 'amqp.channel-error', { error: err.message }));
      channel.on('close', onChannelClose('consumer'));
      const confirmChannel = await connection.createConfirmChannel();
      confirmChannel.on('error', (err: Error) => log('warn', 'amqp.channel-error', { error: err.message }));
      confirmChannel.on('close', onChannelClose('dead-letter'));
      await declareTopology(confirmChannel, config.amqpTopology);
      // Per consumer (RabbitMQ's non-global prefetch): each queue holds at most this many unacked deliveries.
      await channel.prefetch(config.bridge.prefetch);
      const session: Session = {
        connection,
        channel,
        deadLetter: confirmedPublisher(confirmChannel, {
          timeoutMs: 30_000,
          onTimeout: () => void closeQuietly(connection),
        }),
        consumerTags: [],
        closed,
      };
      for (const route of this.routes) {
        const { consumerTag } = await channel.consume(
          route.queue,
          (message) => {
            if (message === null) {
              // The broker cancelled us (the queue was deleted): reconnect, which declares it again.
              reportClosed(`consumer of ${route.queue} cancelled by the broker`);
              void closeQuietly(connection);
              return;
            }
            this.track(this.handle(session, route, message));
          },
          { noAck: false },
        );
        session.consumerTags.push(consumerTag);
      }
      return session;
    } catch (err) {
      await closeQuietly(connection);
      throw err;
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    this.counters.inFlight = this.inFlight.size;
    void work.finally(() => {
      this.inFlight.delete(work);
      this.counters.inFlight = this.inFlight.size;
    });
  }

  private async handle(session: Session, route: Route, message: ConsumeMessage): Promise<void> {
    const { counters: stats, log } = this;
    stats.received++;
    const deliveryCount = deliveryCountOf(message);
    const fields: LogFields = {
      queue: route.queue,
      messageId: message.properties.messageId as unknown,
      type: message.properties.type as unknown,
      deliveryCount,
    };
    try {
      const decoded = decodeMessage(message, route.accepts);
      if (!decoded.ok) {
        await publishDeadLetter(session.deadLetter, message, decoded.reason, decoded.detail);
        this.settle(session, message, 'ack', fields);
        stats.deadLettered++;
        log('warn', 'message.dead-lettered', { ...fields, reason: decoded.reason, detail: decoded.detail });
        return;
      }
      fields.type = decoded.type;
      fields.username = decoded.body.username;
      // Starts for one workflow id run one after the other, so that `started` tells a new execution from a
      // duplicate (the starters look before they start) even when duplicates arrive together.
      let outcome: StartOutcome;
      try {
        outcome = await this.serialized(route.workflowIdOf(decoded), () =>
          this.client.withDeadline(Date.now() + this.startTimeoutMs, () => route.start(decoded, message)),
        );
      } catch (err) {
        if (!(err instanceof RefusedMessage)) throw err;
        await publishDeadLetter(session.deadLetter, message, err.reason, err.detail);
        this.settle(session, message, 'ack', fields);
        stats.deadLettered++;
        log('warn', 'message.dead-lettered', { ...fields, reason: err.reason, detail: err.detail });
        return;
      }
      this.settle(session, message, 'ack', fields);
      if (outcome.started) stats.started++;
      else stats.alreadyStarted++;
      log('info', outcome.started ? 'workflow.started' : 'workflow.already-started', {
        ...fields,
        workflowId: outcome.workflowId,
        runId: outcome.runId,
      });
    } catch (err) {
      // Not the message's fault (it was valid, or dead-lettering failed): try again later, bounded by the
      // queue's delivery limit. The delay holds the delivery, so a failing Temporal is not hammered.
      const delayMs = backoffDelay(deliveryCount + 1, this.retry);
      log('warn', 'message.retry-later', { ...fields, error: errorMessage(err), delayMs });
      await sleep(delayMs, this.stopping.signal);
      this.settle(session, message, 'requeue', fields);
      stats.requeued++;
    }
  }

  /** Acks or requeues; on a channel that has gone, the broker has already put the message back. */
  private settle(session: Session, message: ConsumeMessage, how: 'ack' | 'requeue', fields: LogFields): void {
    try {
      if (how === 'ack') session.channel.ack(message);
      else session.channel.nack(message, false, true);
    } catch (err) {
      this.log('warn', 'message.settle-lost', {
        ...fields,
        how,
        error: errorMessage(err),
        note: 'the broker redelivers it',
      });
    }
  }

  /** Graceful end of a session: no new deliveries, the ones in hand are settled, then the connection closes. */
  private async shutDown(session: Session): Promise<void> {
    for (const tag of session.consumerTags) {
      await session.channel.cancel(tag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    await closeQuietly(session.connection);
  }

  /** Connect, consume until the session closes, back off, reconnect; until stop(). */
  private async run(): Promise<void> {
    const { counters: stats, log, stopping } = this;
    let attempt = 0;
    while (!stopping.signal.aborted) {
      try {
        const session = await this.openSession();
        stats.connections++;
        log('info', 'amqp.consuming', {
          queues: this.routes.map((r) => r.queue),
          prefetch: this.config.bridge.prefetch,
        });
        if (stopping.signal.aborted) {
          // stop() came while we connected: it could not see this session, so wind it down here.
          await this.shutDown(session);
          break;
        }
        this.current = session;
        attempt = 0;
        stats.connected = true;
        this.markReady();
        const reason = await session.closed;
        stats.connected = false;
        this.current = undefined;
        if (stopping.signal.aborted) break;
        log('warn', 'amqp.disconnected', { reason });
      } catch (err) {
        log('warn', 'amqp.connect-failed', { error: errorMessage(err) });
      }
      if (stopping.signal.aborted) break;
      attempt++;
      const delayMs = backoffDelay(attempt, this.reconnect);
      log('info', 'amqp.reconnect-scheduled', { attempt, delayMs });
      await sleep(delayMs, stopping.signal);
    }
  }
}

/** Runs tasks with the same key one after another (and tasks with different keys concurrently). */
function keyedSerializer(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}

/** How often the broker delivered this message before (quorum queues count it in x-delivery-count). */
function deliveryCountOf(message: ConsumeMessage): number {
  const count: unknown = message.properties.headers?.['x-delivery-count'];
  if (typeof count === 'number') return count;
  return message.fields.redelivered ? 1 : 0;
}
