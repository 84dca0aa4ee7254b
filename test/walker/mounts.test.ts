import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanReport, type ScanReport } from '../../lib/messages/v1/scan-report.js';
import { cannotMount, runWithMounts } from '../support/mount-namespace.js';
import { findMarkers } from './leaks.js';
import { DAY_MS, makeTempDir, removeTree } from './fixtures.js';
import { referenceScan } from './reference.js';

/**
 * Never into another mount (docs/design.md §3): a bind mount of the same filesystem is a mount like any other. The tree
 * is itself a bind mount (as a work directory may be), and holds a bind mount of a directory from outside it, a
 * bind mount of one of its own directories (which would count it twice) and a tmpfs. Each is counted as a
 * directory and reported, none is entered, in a fresh walk and in a walk resumed after every record.
 */

const OUTSIDE = 'OUTSIDE-';
const ON_TMPFS = 'ON-TMPFS-';

/** The errors a report gives for mounts: otherDevice, and otherMount where the walker has it. */
function mountErrors(report: ScanReport): number {
  const errors = report.errors as ScanReport['errors'] & { otherMount?: number };
  return errors.otherDevice + (errors.otherMount ?? 0);
}

describe('mounts inside a tree', { skip: cannotMount() }, () => {
  const now = new Date(Date.now() + 4.5 * DAY_MS);
  let base: string;
  let root: string;
  let walks: { fresh: { done: boolean; report: unknown }; pieces: { report: unknown; checkpoints: unknown[] } };

  before(() => {
    base = makeTempDir('mounts');
    root = join(base, 'work');
    const outside = join(base, 'outside');
    // Outside the tree, on the same filesystem: recognisable names and sizes (5,000,000 bytes, as in the issue).
    fs.mkdirSync(join(outside, `${OUTSIDE}dir`), { recursive: true });
    fs.writeFileSync(join(outside, `${OUTSIDE}big.bin`), Buffer.alloc(5_000_000, 0x6f));
    fs.writeFileSync(join(outside, `${OUTSIDE}dir`, `${OUTSIDE}small.txt`), 'outside');
    // The tree: its own files, and empty directories to mount on.
    fs.mkdirSync(join(root, 'inner', 'deeper'), { recursive: true });
    fs.writeFileSync(join(root, 'inner', 'a.dat'), Buffer.alloc(1234, 0x61));
    fs.writeFileSync(join(root, 'inner', 'deeper', 'b.dat'), Buffer.alloc(4321, 0x62));
    fs.writeFileSync(join(root, 'top.dat'), Buffer.alloc(77, 0x63));
    for (const dir of ['bind-outside', 'bind-inner', 'tmpfs', 'zz-after']) fs.mkdirSync(join(root, dir));
    fs.writeFileSync(join(root, 'zz-after', 'last.dat'), Buffer.alloc(999, 0x64));

    const q = (path: string): string => `'${path.replace(/'/g, `'\\''`)}'`;
    const setup = [
      `mount --bind ${q(root)} ${q(root)}`,
      `mount --bind ${q(outside)} ${q(join(root, 'bind-outside'))}`,
      `mount --bind ${q(join(root, 'inner'))} ${q(join(root, 'bind-inner'))}`,
      `mount -t tmpfs -o size=8m xfc-mounts-test ${q(join(root, 'tmpfs'))}`,
      `mkdir ${q(join(root, 'tmpfs', `${ON_TMPFS}dir`))}`,
      `head -c 3000000 /dev/zero > ${q(join(root, 'tmpfs', `${ON_TMPFS}dir`, `${ON_TMPFS}file`))}`,
    ].join('\n');
    const child = runWithMounts(setup, [
      process.execPath,
      '--import',
      'tsx',
      'test/walker/run-walks.ts',
      root,
      now.toISOString(),
    ]);
    assert.equal(child.status, 0, child.stderr);
    walks = JSON.parse(child.stdout) as typeof walks;
  });

  after(() => {
    // The mounts lived in the child's namespace only: nothing is mounted here, so removing cannot reach outside.
    if (base) removeTree(base);
  });

  it('a fresh walk counts none of their bytes and reports each of them', () => {
    assert.ok(walks.fresh.done);
    const report = scanReport.parse(walks.fresh.report);
    // Outside the namespace the mount points are the empty directories they were made as: exactly the tree's own.
    const ref = referenceScan(root, { now, ageBasis: 'ctime' });
    assert.deepEqual(report.totals, ref.totals, `bytes from mounts were counted: ${JSON.stringify(report.errors)}`);
    assert.equal(report.totals.bytes, String(1234 + 4321 + 77 + 999));
    assert.equal(report.status, 'partial', 'a tree with mounts inside is measured only in part');
    const kinds = new Map(report.errors.samples.map((s) => [s.path, s.kind as string]));
    assert.equal(kinds.get('bind-outside'), 'otherMount', 'a bind mount from outside is another mount');
    assert.equal(kinds.get('bind-inner'), 'otherMount', 'a bind mount of the tree itself is another mount');
    assert.ok(
      ['otherDevice', 'otherMount'].includes(kinds.get('tmpfs') ?? ''),
      `tmpfs reported as ${kinds.get('tmpfs')}`,
    );
    assert.equal(mountErrors(report), 3);
    assert.equal(report.errors.vanished + report.errors.unreadable + report.errors.otherErrors, 0);
    assert.deepEqual(findMarkers(report, [OUTSIDE, ON_TMPFS]), []);
  });

  it('a walk resumed after every record gives the same report, and no checkpoint names what is mounted', () => {
    assert.deepEqual(walks.pieces.report, walks.fresh.report);
    assert.ok(walks.pieces.checkpoints.length >= 2, `${walks.pieces.checkpoints.length} pieces`);
    assert.deepEqual(findMarkers(walks.pieces.checkpoints, [OUTSIDE, ON_TMPFS]), []);
  });
});
