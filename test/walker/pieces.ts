/** Helpers for tests that stop walks and resume them. */
import type { ScanReport } from '../../lib/messages/v1/scan-report.js';
import {
  parseCheckpoint,
  walk,
  type WalkCheckpoint,
  type WalkOptions,
  type WalkOutcome,
} from '../../lib/walker/index.js';

/** What a checkpoint looks like after a trip through a file or a Temporal payload. */
export function roundTrip(checkpoint: WalkCheckpoint, root: string): WalkCheckpoint {
  return parseCheckpoint(JSON.parse(JSON.stringify(checkpoint)), { root });
}

/**
 * Walks to the end in pieces: each piece is cut short by `interrupt` (which returns the options that stop it),
 * and the next resumes from the previous checkpoint after a JSON round trip. Returns the report and the number
 * of pieces.
 */
export async function walkInPieces(
  options: WalkOptions,
  interrupt: (piece: number) => Partial<WalkOptions>,
  maxPieces = 10_000,
): Promise<{ report: ScanReport; pieces: number; checkpointBytes: number[] }> {
  let checkpoint: WalkCheckpoint | undefined;
  const checkpointBytes: number[] = [];
  for (let piece = 1; piece <= maxPieces; piece++) {
    const outcome: WalkOutcome = await walk({ ...options, ...interrupt(piece), checkpoint });
    if (outcome.done) return { report: outcome.report, pieces: piece, checkpointBytes };
    checkpointBytes.push(Buffer.byteLength(JSON.stringify(outcome.checkpoint)));
    checkpoint = roundTrip(outcome.checkpoint, options.root);
  }
  throw new Error(`no end after ${maxPieces} pieces`);
}

/** A small deterministic pseudo-random sequence, so a failure can be replayed. */
export function randomSequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}
