import { z } from 'zod';
import { usernameProblem } from '../../common/username.js';
import { ageBasis, scanReport } from './scan-report.js';

/**
 * The RabbitMQ message contracts, version 1 (docs/design.md §5). Producers and consumers both import these schemas, so a
 * field cannot drift between them. Every body carries `"version": 1`; the AMQP `type` property names the schema.
 */

/** A lower-case POSIX account name of at most 32 characters; the error says what is wrong with a bad one. */
export const username = z.string().superRefine((value, context) => {
  const problem = usernameProblem(value);
  if (problem !== undefined) {
    context.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(value.slice(0, 40))} ${problem}` });
  }
});

/** Identifiers that end up in workflow ids and AMQP message ids: short and printable. */
export const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

const isoTime = z.string().datetime({ offset: true });

export const scanRequest = z
  .object({
    version: z.literal(1),
    requestId: identifier,
    username,
    reason: z.enum(['sweep', 'manual']),
    requestedAt: isoTime,
  })
  .strict();

export const scanCompleted = scanReport
  .extend({
    version: z.literal(1),
    scanId: identifier,
    requestId: identifier,
    username,
    workDir: z.string().min(1).max(4200),
    /** The reference time for ages: the scan is reproducible from the tree and this instant. */
    now: isoTime,
    startedAt: isoTime,
    finishedAt: isoTime,
    ageBasis,
  })
  .strict();

export const scanFailureReason = z.enum([
  'unknown-user',
  'work-dir-missing',
  'work-dir-symlink',
  'work-dir-not-directory',
  'work-dir-outside-root',
  'walk-failed',
  // Recorded by the application of a result xfc issued but cannot apply (db/scans.ts): a figure beyond the
  // columns, times ahead of the database's clock, a row PostgreSQL refuses. Permanent: no retry changes them.
  'out-of-range',
  'clock-ahead',
  'unwritable',
]);

export const scanFailed = z
  .object({
    version: z.literal(1),
    scanId: identifier,
    requestId: identifier,
    username,
    reason: scanFailureReason,
    message: z.string().max(2000),
  })
  .strict();

export type ScanRequest = z.infer<typeof scanRequest>;
export type ScanCompleted = z.infer<typeof scanCompleted>;
export type ScanFailed = z.infer<typeof scanFailed>;
export type ScanFailureReason = z.infer<typeof scanFailureReason>;

/** AMQP `type` property and routing key of each message, and the schema that validates its body. */
export const messageTypes = {
  'scan.request': scanRequest,
  'scan.completed': scanCompleted,
  'scan.failed': scanFailed,
} as const;

export type MessageType = keyof typeof messageTypes;
export type MessageBody<T extends MessageType> = z.infer<(typeof messageTypes)[T]>;
