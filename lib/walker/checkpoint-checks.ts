import type { WalkCheckpoint } from './checkpoint.js';
import { HardLinkSet } from './hardlinks.js';
import { errorMessage } from '../common/errors.js';

/*
 * What a walk checks of a checkpoint it resumes from, apart from its shape: the settings it was made with, and its
 * hard-link set. Apart from checkpoint.ts (the zod schema, parseCheckpoint), so that a walk that resumes nothing
 * does not load zod: `xfc scan` is timed against du from its first instruction, and zod with the schemas was ~85
 * million instructions of its start-up (callgrind), a sixth of Node's own.
 */

/** A checkpoint that cannot be used for this walk; the message says why and what to do. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface CheckpointExpectation {
  root: string;
  ageBasis?: 'ctime' | 'mtime';
  now?: Date | string;
  exclude?: string[];
}

/** The checkpoint's hard-link set; a CheckpointError if it does not decode. */
export function decodeHardLinks(checkpoint: WalkCheckpoint): HardLinkSet {
  try {
    return HardLinkSet.decode(checkpoint.hardLinks.data, checkpoint.hardLinks.count);
  } catch (err) {
    throw new CheckpointError(
      `the checkpoint is corrupt (hard links: ${errorMessage(err)}); delete it to start afresh.`,
    );
  }
}

/** Throws unless the checkpoint was made with the same settings (they change the totals). */
export function checkSettings(checkpoint: WalkCheckpoint, expected: CheckpointExpectation): void {
  if (checkpoint.root !== expected.root) {
    throw new CheckpointError(`the checkpoint belongs to a scan of ${checkpoint.root}, not ${expected.root}.`);
  }
  if (expected.ageBasis !== undefined && checkpoint.ageBasis !== expected.ageBasis) {
    throw new CheckpointError(
      `the checkpoint was made with age basis ${checkpoint.ageBasis}, not ${expected.ageBasis}; use the same basis or delete it.`,
    );
  }
  if (expected.now !== undefined) {
    const now = new Date(expected.now).toISOString();
    if (Date.parse(checkpoint.now) !== Date.parse(now)) {
      throw new CheckpointError(
        `the checkpoint measures ages from ${checkpoint.now}, not ${now}; resume with --now ${checkpoint.now} or delete it.`,
      );
    }
  }
  if (expected.exclude !== undefined && !sameList(checkpoint.exclude, expected.exclude)) {
    throw new CheckpointError(
      `the checkpoint was made excluding [${checkpoint.exclude.join(', ')}], not [${expected.exclude.join(', ')}]; use the same exclusions or delete it.`,
    );
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
