import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanReport } from '../../lib/messages/v1/scan-report.js';
import { buildCHelper, cannotCompile } from '../support/c-helper.js';
import { cannotMount, runWithMounts } from '../support/mount-namespace.js';
import { makeTempDir, removeTree } from '../walker/fixtures.js';

/**
 * Memory is bounded by depth, never by the size of a directory (issue 12, docs/design.md §3): `xfc scan` of one directory
 * of 1,000,000 entries peaks at ≤ 150 MB resident, start-up included (measured by /usr/bin/time, as the
 * benchmark does). It runs the CLI from the sources through tsx, which alone adds ~30 MB (an empty directory:
 * 111 MB through tsx, 81 MB compiled, with today's walker), so the bound is stricter here than in the benchmark,
 * which runs the compiled CLI. The files are made by a small C program on a tmpfs of the test's own, in a private mount
 * namespace: on this machine's ext4 making and removing a million files takes 56 + 46 s, on tmpfs 28 s in all,
 * and the namespace takes the files with it when the scan ends.
 */

const ENTRIES = 1_000_000;
const LIMIT_MB = 150;

function cannotMeasure(): string | false {
  if (!fs.existsSync('/usr/bin/time')) return '/usr/bin/time is not installed (Debian package time)';
  return cannotCompile() || cannotMount();
}

/** `xfc scan --json DIR` under /usr/bin/time: the report and the peak resident memory in MB. */
function scanMeasured(setup: string, dir: string): { report: unknown; peakMb: number } {
  const child = runWithMounts(setup, [
    '/usr/bin/time',
    '-f',
    'peak-kb %M',
    process.execPath,
    '--import',
    'tsx',
    'cli/main.ts',
    'scan',
    '--json',
    dir,
  ]);
  const peak = /peak-kb (\d+)\s*$/.exec(child.stderr);
  assert.equal(child.status, 0, child.stderr);
  assert.ok(peak, child.stderr);
  return { report: JSON.parse(child.stdout), peakMb: Number(peak[1]) / 1024 };
}

describe(`xfc scan of one directory of ${ENTRIES.toLocaleString('en')} entries`, { skip: cannotMeasure() }, () => {
  let base: string;
  let mkfiles: string;
  before(() => {
    base = makeTempDir('scan-memory');
    mkfiles = buildCHelper('mkfiles', base);
    fs.mkdirSync(join(base, 'mnt'));
  });
  after(() => {
    if (base) removeTree(base);
  });

  it(`peaks at ≤ ${LIMIT_MB} MB resident`, (t) => {
    const mnt = join(base, 'mnt');
    const big = join(mnt, 'big');
    const started = performance.now();
    // A million names of 26 bytes, as long as a typical output file's.
    const setup = [
      `mount -t tmpfs -o size=64m,nr_inodes=${ENTRIES + 1000} xfc-scan-memory '${mnt}'`,
      `mkdir '${big}'`,
      `'${mkfiles}' '${big}' ${ENTRIES} sample-output-file-`,
    ].join('\n');
    const { report, peakMb } = scanMeasured(setup, mnt);
    const small = scanMeasured(`mount -t tmpfs -o size=1m xfc-scan-memory '${mnt}'\nmkdir '${big}'`, mnt);
    t.diagnostic(
      `peak RSS ${peakMb.toFixed(0)} MB for ${ENTRIES} entries (${small.peakMb.toFixed(0)} MB for an empty ` +
        `directory), ${((performance.now() - started) / 1000).toFixed(0)} s with making the files`,
    );
    const parsed = scanReport.passthrough().parse(report);
    assert.equal(parsed.totals.files, ENTRIES);
    assert.equal(parsed.totals.directories, 2);
    assert.equal(parsed.status, 'complete');
    assert.ok(peakMb <= LIMIT_MB, `peak RSS ${peakMb.toFixed(0)} MB > ${LIMIT_MB} MB`);
  });
});
