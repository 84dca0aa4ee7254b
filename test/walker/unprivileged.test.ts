import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { scanReport } from '../../lib/messages/v1/scan-report.js';
import { DAY_MS, makeMixedTree, type MixedTree } from './fixtures.js';
import { referenceScan } from './reference.js';

const nobody = { uid: 65534, gid: 65534 };
const repo = fileURLToPath(new URL('../..', import.meta.url));
const runner = fileURLToPath(new URL('./run-walk.ts', import.meta.url));

function cannotSwitchUser(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to run the walk as another user (setpriv)';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv is not installed';
  return false;
}

describe('walking as an unprivileged user', { skip: cannotSwitchUser() }, () => {
  const now = new Date(Date.now() + 3.5 * DAY_MS);
  let tree: MixedTree;
  before(() => {
    tree = makeMixedTree(now);
  });
  after(() => tree.cleanup());

  it('counts what it cannot read or enter as unreadable, and everything else exactly', () => {
    const child = spawnSync(
      'setpriv',
      [
        `--reuid=${nobody.uid}`,
        `--regid=${nobody.gid}`,
        '--clear-groups',
        process.execPath,
        '--import',
        'tsx',
        runner,
        tree.root,
        now.toISOString(),
        'ctime',
      ],
      { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    assert.equal(child.status, 0, child.stderr);
    const outcome = JSON.parse(child.stdout) as { done: boolean; report: unknown };
    assert.equal(outcome.done, true);
    const report = scanReport.parse(outcome.report);
    const ref = referenceScan(tree.root, { now, ageBasis: 'ctime', asUser: nobody });
    assert.ok(ref.findErrors.length >= 3, 'find, as nobody, is refused too');
    assert.deepEqual(report.totals, ref.totals);
    assert.equal(report.status, 'partial');
    assert.equal(report.errors.unreadable, 3);
    assert.equal(report.errors.vanished, 0);
    assert.equal(report.errors.otherErrors, 0);
    const unreadable = report.errors.samples.filter((s) => s.kind === 'unreadable');
    assert.deepEqual(
      unreadable.map((s) => [s.path, s.code]),
      [
        ['locked-000', 'EACCES'],
        ['locked-r-no-x', 'EACCES'],
        ['locked-x-no-r', 'EACCES'],
      ],
    );
  });
});
