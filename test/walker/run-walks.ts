/**
 * Walks ROOT twice in a child process and prints both as JSON (bigints as strings): once straight through, once in
 * pieces of one record each (a zero budget), every piece resuming from the previous checkpoint after a JSON round
 * trip, with all those checkpoints. Lets a test walk inside a mount namespace (see test/support/mount-namespace.ts):
 * `node --import tsx test/walker/run-walks.ts ROOT NOW`.
 */
import { walk, type WalkCheckpoint } from '../../lib/walker/index.js';
import { roundTrip } from './pieces.js';

const [root = '', nowText = ''] = process.argv.slice(2);
const now = new Date(nowText);
const fresh = await walk({ root, now, ageBasis: 'ctime' });
const checkpoints: WalkCheckpoint[] = [];
let checkpoint: WalkCheckpoint | undefined;
for (;;) {
  const outcome = await walk({ root, now, ageBasis: 'ctime', budgetMs: 0, checkpoint });
  if (outcome.done) {
    const result = { fresh, pieces: { report: outcome.report, checkpoints } };
    process.stdout.write(
      JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
    );
    break;
  }
  checkpoint = roundTrip(outcome.checkpoint, root);
  checkpoints.push(checkpoint);
  if (checkpoints.length > 10_000) throw new Error('no end after 10,000 pieces');
}
