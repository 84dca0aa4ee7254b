import { z } from 'zod';
import { ageBasis, decimalString, errorKind, scanTotals } from '../messages/v1/scan-report.js';
import { CheckpointError, checkSettings, decodeHardLinks, type CheckpointExpectation } from './checkpoint-checks.js';

export { CheckpointError, checkSettings, decodeHardLinks, type CheckpointExpectation };

/**
 * Where a walk stopped and what it had counted, as plain JSON (no bigint, no Buffer): a CLI file, a Temporal
 * heartbeat or an activity result. Byte paths are base64 so any name survives any JSON transport.
 *
 * The cursor is the last unit accounted: the directory `path` and, for each level of it whose unit does not
 * start at the beginning of its directory, the getdents position of that unit (`units`, "level:cookie,…"); with
 * `subtreeDone` the last component could not be entered and the walk goes on after it. Null before anything was
 * accounted. Everything that walk order puts after the cursor is still to do; everything before is in the sums.
 * (`after`, a name inside a directory, was the previous walker's cursor; such checkpoints are refused.)
 */
const count = z.number().int().nonnegative();
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
/** A first-level directory's sums; key = base64 of its name, '' for the root's own files. */
const topEntry = z.object({ key: base64, files: count, bytes: decimalString, temporalByteDays: decimalString });

export const walkCheckpointSchema = z.object({
  version: z.literal(1),
  root: z.string().min(1),
  now: z.string().datetime(),
  ageBasis,
  exclude: z.array(z.string()),
  cursor: z
    .object({
      path: base64,
      after: base64.nullable(),
      units: z
        .string()
        .max(65_000)
        .regex(/^(\d+:\d+(,\d+:\d+)*)?$/)
        .optional(),
      subtreeDone: z.boolean().optional(),
    })
    .nullable(),
  entries: count,
  // The running totals, in the form the report carries them.
  ...scanTotals.shape,
  histogram: z.object({ files: z.array(count).length(5), bytes: z.array(decimalString).length(5) }),
  errors: z.object({
    unreadable: count,
    vanished: count,
    otherDevice: count,
    otherMount: count.default(0),
    otherErrors: count,
    samples: z.array(z.object({ kind: errorKind, path: z.string(), code: z.string() })).max(20),
  }),
  top: z.object({
    /** The first-level directory being walked. */
    current: topEntry.nullable(),
    byBytes: z.array(topEntry).max(20),
    byTemporal: z.array(topEntry).max(20),
  }),
  hardLinks: z.object({
    data: base64,
    count,
    /** Inodes left out to keep the checkpoint small; a walk resumed from here may count their links again. */
    dropped: count,
  }),
  elapsedMs: z.number().nonnegative(),
});

export type WalkCheckpoint = z.infer<typeof walkCheckpointSchema>;

/**
 * Validates a checkpoint read from JSON for a walk of `expected.root`; throws a CheckpointError when it belongs
 * to another path, another version or other settings, or is corrupt.
 */
export function parseCheckpoint(json: unknown, expected: CheckpointExpectation): WalkCheckpoint {
  if (typeof json !== 'object' || json === null) throw new CheckpointError('the checkpoint is not a JSON object.');
  const version = (json as { version?: unknown }).version;
  if (version !== 1) {
    throw new CheckpointError(
      `the checkpoint has version ${JSON.stringify(version)}, this xfc reads version 1; delete it to start afresh.`,
    );
  }
  const root = (json as { root?: unknown }).root;
  if (typeof root === 'string' && root !== expected.root) {
    throw new CheckpointError(`the checkpoint belongs to a scan of ${root}, not ${expected.root}.`);
  }
  const parsed = walkCheckpointSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(
      `the checkpoint is corrupt (${issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : 'invalid'}); delete it to start afresh.`,
    );
  }
  checkSettings(parsed.data, expected);
  if (parsed.data.cursor !== null && parsed.data.cursor.after !== null) {
    throw new CheckpointError(
      'the checkpoint was made by the previous (path-based) walker, whose cursor this one cannot follow; delete it to start afresh.',
    );
  }
  decodeHardLinks(parsed.data);
  return parsed.data;
}
