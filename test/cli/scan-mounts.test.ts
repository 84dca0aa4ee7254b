import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cannotMount, runWithMounts } from '../support/mount-namespace.js';
import { makeTempDir, removeTree } from '../walker/fixtures.js';

/**
 * `xfc scan` and a bind mount (issue 12): what an operator sees when a user's tree holds a bind mount of a
 * directory from elsewhere on the same filesystem. The mount lives in a private mount namespace (see
 * test/support/mount-namespace.ts) with the scan.
 */
describe('xfc scan of a tree holding a bind mount', { skip: cannotMount() }, () => {
  let base: string;
  let root: string;
  let setup: string;
  before(() => {
    base = makeTempDir('cli-bind');
    root = join(base, 'work');
    const outside = join(base, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(join(outside, 'OUTSIDE-secret.bin'), Buffer.alloc(5_000_000, 0x6f));
    fs.mkdirSync(join(root, 'data'), { recursive: true });
    fs.writeFileSync(join(root, 'data', 'mine.nc'), Buffer.alloc(4096, 0x61));
    fs.mkdirSync(join(root, 'elsewhere'));
    setup = `mount --bind '${outside}' '${join(root, 'elsewhere')}'`;
  });
  after(() => {
    if (base) removeTree(base);
  });

  const scan = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    runWithMounts(setup, [process.execPath, '--import', 'tsx', 'cli/main.ts', 'scan', ...args, root]);

  it('counts only the tree, exits 3 (partial) and names the mount point, not what is behind it', () => {
    const json = scan('--json');
    assert.equal(json.status, 3, json.stderr);
    const report = JSON.parse(json.stdout) as {
      totals: { files: number; bytes: string };
      errors: { otherMount?: number; samples: Array<{ kind: string; path: string }> };
    };
    assert.equal(report.totals.bytes, '4096');
    assert.equal(report.totals.files, 1);
    assert.equal(report.errors.otherMount, 1);
    assert.deepEqual(
      report.errors.samples.map((s) => [s.kind, s.path]),
      [['otherMount', 'elsewhere']],
    );
    assert.doesNotMatch(json.stdout, /OUTSIDE-/);

    const human = scan();
    assert.equal(human.status, 3, human.stderr);
    assert.match(human.stdout, /status: partial/);
    assert.match(human.stdout, /otherMount\s+elsewhere/);
    assert.doesNotMatch(human.stdout, /OUTSIDE-/);
  });
});
