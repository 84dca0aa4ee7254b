import { lstatSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { CheckpointError, checkSettings } from './checkpoint-checks.js';
import { rootError, WalkError, type WalkOptions, type WalkOutcome } from './options.js';
import { WalkSession } from './session.js';
import { Tally } from './tally.js';
import { errorMessage } from '../common/errors.js';

export { WalkError, type WalkOptions, type WalkOutcome, type WalkProgress } from './options.js';

/**
 * Walks `root` (docs/design.md §2–§3) with the native walker: fd-relative below the root, lstat semantics, one device
 * and one mount, names as bytes, hard links once, errors counted, in a deterministic order so that it can stop
 * at any record and resume exactly. This thread only accounts the records, in order, in short callbacks.
 */
export async function walk(options: WalkOptions): Promise<WalkOutcome> {
  const root = normalizeRoot(options.root);
  const exclude = options.exclude ?? ['.snapshot'];
  const nowMs = options.now.getTime();
  if (!Number.isFinite(nowMs)) throw new WalkError('the reference time `now` is not a valid date.');
  if (options.checkpoint) {
    checkSettings(options.checkpoint, { root, ageBasis: options.ageBasis, now: options.now, exclude });
    const after = options.checkpoint.cursor?.after;
    if (after !== null && after !== undefined) {
      throw new CheckpointError(
        'the checkpoint was made by the previous (path-based) walker, whose cursor this one cannot follow; delete it to start afresh.',
      );
    }
  }
  checkRoot(root);
  const tally = options.checkpoint ? Tally.fromCheckpoint(options.checkpoint) : new Tally();
  return new WalkSession({ ...options, root, exclude }, tally).run();
}

function normalizeRoot(root: string): string {
  if (!isAbsolute(root)) throw new WalkError(`the path to scan must be absolute: ${root}`);
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

/**
 * Clear messages for a root that cannot be walked (the native open checks again, without following links).
 * Synchronous, like the native open that follows it on this thread: an asynchronous lstat would start libuv's
 * thread pool (64 threads under bin/xfc.cjs, ~10 ms on a busy 2-core host) for this one call.
 */
function checkRoot(root: string): void {
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    throw rootError(root, (err as NodeJS.ErrnoException).code, errorMessage(err));
  }
  if (st.isSymbolicLink()) throw rootError(root, 'ELOOP', '');
  if (!st.isDirectory()) throw rootError(root, 'ENOTDIR', '');
}
