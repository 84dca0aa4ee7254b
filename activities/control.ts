import type { XfcConfig } from '../lib/config/env.js';
import type { DatabasePool } from '../db/pool.js';
import { recordIssuedScan } from '../db/scan-authority.js';
import { permanentDatabaseError } from '../db/permanent-errors.js';
import { recordPermanentFailure, recordScanCompleted, recordScanFailed, type ApplyOutcome } from '../db/scans.js';
import { claimStaleUsers } from '../db/sweep.js';
import { recordSweepRun } from '../db/fleet-health.js';
import { acceptScanRequest, type RequestAcceptance } from '../db/requests.js';
import { findWorkTarget } from '../db/users.js';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { failureTypes } from '../lib/temporal/failure-types.js';
import { InvalidMessageError, type Publisher } from '../lib/amqp/publisher.js';
import type {
  AgeBasis,
  MessageBody,
  MessageType,
  ScanCompleted,
  ScanFailed,
  ScanFailureReason,
  ScanRequest,
} from '../lib/messages/v1/index.js';
import type { ApplyScanInput } from '../lib/temporal/contracts.js';
import { startApplyWorkflow } from '../lib/temporal/starters.js';
import type { ControlMetrics } from './metrics.js';
import { checkWorkDirPath } from './work-dir.js';

/** Where and how to scan one user, decided where the database and configuration are. */
export type ScanTarget =
  | {
      ok: true;
      workDir: string;
      /** Last component of the volume's mountpoint (`vol5`), for the XfcVolume search attribute. */
      volume?: string;
      scanTaskQueue: string;
      ageBasis: AgeBasis;
      exclude: string[];
      threads: number;
      chunkMs: number;
      heartbeatTimeoutMs: number;
    }
  | { ok: false; reason: ScanFailureReason; message: string };

/** What recording a result did: applied or not, usage moved or not, and why it was refused or failed. */
export interface RecordScanResult {
  applied: boolean;
  usageUpdated: boolean;
  /** A result xfc did not issue (nothing recorded), or one recorded as a failed scan with a permanent reason. */
  refusal?: { reason: string; detail: string };
}

export interface ControlActivityDeps {
  pool: DatabasePool;
  publisher: Publisher;
  config: XfcConfig;
  /** Starts the application of a scan's result (`apply-<scanId>`) on the worker's own Temporal connection. */
  temporal: Client;
  metrics?: ControlMetrics;
}

/** Activities of the `xfc-control` task queue that touch Postgres and RabbitMQ. */
export interface ControlActivities {
  acceptScanRequest(input: { requestId: string; username: string; scanId: string }): Promise<RequestAcceptance>;
  /** With `scanId`, also records that xfc issued that scan for the user and the directory it resolved. */
  resolveScanTarget(input: { username: string; scanId?: string }): Promise<ScanTarget>;
  claimStaleUsers(input: { claimId: string; batchSize?: number | undefined }): Promise<ScanRequest[]>;
  publishScanRequests(input: { requests: ScanRequest[]; reason: 'sweep' | 'manual' }): Promise<void>;
  /** Starts `apply-<scanId>` with a scan's result; a result whose application was started before is left to it. */
  startApplication(input: ApplyScanInput): Promise<void>;
  publishScanCompleted(message: ScanCompleted): Promise<void>;
  publishScanFailed(message: ScanFailed): Promise<void>;
  recordScan(input: ApplyScanInput): Promise<RecordScanResult>;
}

export function createControlActivities({
  pool,
  publisher,
  config,
  temporal,
  metrics,
}: ControlActivityDeps): ControlActivities {
  /**
   * Publishes, with the message id the publisher derives from the body (lib/amqp/message-id.ts: a retried publish
   * carries the same id). A body its schema refuses is a bug no retry can fix, so that failure is final.
   */
  async function publish<T extends MessageType>(type: T, body: MessageBody<T>): Promise<void> {
    try {
      await publisher.publish(type, body);
    } catch (err) {
      if (err instanceof InvalidMessageError) {
        throw ApplicationFailure.create({
          type: failureTypes.invalidMessage,
          message: err.message,
          nonRetryable: true,
        });
      }
      throw err;
    }
  }

  return {
    /** Takes on a request once: a second delivery of it finds the scan that served it. */
    async acceptScanRequest(input: {
      requestId: string;
      username: string;
      scanId: string;
    }): Promise<RequestAcceptance> {
      return acceptScanRequest(pool, input);
    },

    /** The work directory comes from the database, never from a message; its path must lie under XFC_ROOT. */
    async resolveScanTarget(input: { username: string; scanId?: string }): Promise<ScanTarget> {
      const target = await findWorkTarget(pool, input.username);
      if (!target) {
        return {
          ok: false,
          reason: 'unknown-user',
          message: `No XFC user "${input.username}" in the database (run \`xfc users backfill\` to register work directories).`,
        };
      }
      // Before anything is walked (and before the path checks, so that a refusal is recorded as this scan's
      // failure): only results of scans recorded here can change usage.
      if (input.scanId !== undefined) {
        await recordIssuedScan(pool, { scanId: input.scanId, username: input.username, workDir: target.workDir });
      }
      const verdict = checkWorkDirPath(target.workDir, config.scan.root);
      if (!verdict.ok) return verdict;
      return {
        ok: true,
        workDir: target.workDir,
        volume: target.mountpoint.replace(/\/+$/, '').split('/').pop() ?? '',
        scanTaskQueue: config.temporal.scanTaskQueue,
        ageBasis: config.scan.ageBasis,
        exclude: config.scan.exclude,
        threads: config.scan.threads,
        chunkMs: config.scan.chunkMs,
        heartbeatTimeoutMs: config.scan.heartbeatTimeoutMs,
      };
    },

    async claimStaleUsers(input: { claimId: string; batchSize?: number | undefined }): Promise<ScanRequest[]> {
      const claimed = await claimStaleUsers(pool, {
        claimId: input.claimId,
        batchSize: input.batchSize ?? config.sweep.batchSize,
        rescanAfterMs: config.sweep.rescanAfterMs,
        leaseMs: config.sweep.requestLeaseMs,
        now: new Date(),
      });
      await recordSweepRun(pool, { at: new Date(), claimId: input.claimId, claimed: claimed.length });
      return claimed.map((claim) => ({
        version: 1,
        requestId: claim.requestId,
        username: claim.username,
        reason: 'sweep',
        requestedAt: claim.requestedAt.toISOString(),
      }));
    },

    /** Publishes each request (its message id is its request id, so a retried publish is recognisable). */
    async publishScanRequests(input: { requests: ScanRequest[]; reason: 'sweep' | 'manual' }): Promise<void> {
      for (const request of input.requests) {
        await publish('scan.request', { ...request, reason: input.reason });
      }
    },

    async startApplication(input: ApplyScanInput): Promise<void> {
      await startApplyWorkflow(temporal, config, input);
    },

    async publishScanCompleted(message: ScanCompleted): Promise<void> {
      await publish('scan.completed', message);
    },

    async publishScanFailed(message: ScanFailed): Promise<void> {
      await publish('scan.failed', message);
    },

    /**
     * Records a scan result once per scan id, if xfc issued that scan (otherwise it changes nothing and says why);
     * says whether it moved the user's usage forward. A result PostgreSQL refuses for its data (a value out of
     * range, a constraint) is recorded as a failed scan (`unwritable`): it ends here instead of retrying forever.
     */
    async recordScan(input: ApplyScanInput): Promise<RecordScanResult> {
      let result: ApplyOutcome;
      try {
        result =
          input.type === 'scan.completed'
            ? await recordScanCompleted(pool, input.message)
            : await recordScanFailed(pool, input.message);
      } catch (err) {
        const permanent = permanentDatabaseError(err);
        if (!permanent) throw err;
        const detail = `PostgreSQL refused the result (SQLSTATE ${permanent.sqlstate}): ${permanent.message}`;
        result = await recordPermanentFailure(pool, input.message, 'unwritable', detail);
      }
      if (result.applied) {
        if (input.type === 'scan.completed' && result.refusal === undefined) {
          const { startedAt, finishedAt } = input.message;
          metrics?.recordScanDuration((Date.parse(finishedAt) - Date.parse(startedAt)) / 1000);
          const { unreadable, vanished, otherDevice, otherMount = 0, otherErrors } = input.message.errors;
          metrics?.recordScanResult({
            status: input.message.status,
            errors: { unreadable, vanished, otherDevice, otherMount, otherErrors },
          });
        } else {
          const reason = result.refusal?.reason ?? (input.type === 'scan.failed' ? input.message.reason : 'unknown');
          metrics?.recordScanResult({ status: 'failed', errors: {} });
          metrics?.recordScanFailure(reason);
        }
      }
      return {
        applied: result.applied,
        usageUpdated: result.usageUpdated,
        ...(result.refusal && { refusal: result.refusal }),
      };
    },
  };
}
