/** The directory walker (docs/design.md §2–§3): a library with no Temporal import. */
export { walk, WalkError, type WalkOptions, type WalkOutcome, type WalkProgress } from './walk.js';
export { parseCheckpoint, CheckpointError, type WalkCheckpoint, type CheckpointExpectation } from './checkpoint.js';
export { escapeName, escapeByteString } from './escape.js';
