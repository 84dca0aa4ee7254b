/**
 * Runs one walk in a child process and prints its outcome as JSON (bigints as strings): lets a test walk as an
 * unprivileged user (`setpriv ... node --import tsx test/walker/run-walk.ts ROOT NOW BASIS`).
 */
import { walk } from '../../lib/walker/index.js';

const [root = '', now = '', ageBasis = 'ctime'] = process.argv.slice(2);
const outcome = await walk({ root, now: new Date(now), ageBasis: ageBasis === 'mtime' ? 'mtime' : 'ctime' });
process.stdout.write(
  JSON.stringify(outcome, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
);
