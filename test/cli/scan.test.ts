import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { scanReport } from '../../lib/messages/v1/scan-report.js';
import { spawnXfc, throttle } from '../support/processes.js';
import { DAY_MS, makeTempDir, removeTree } from '../walker/fixtures.js';
import { referenceScan } from '../walker/reference.js';
import { walk } from '../../lib/walker/index.js';

const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `xfc` CLI from the sources. */
async function xfc(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      env: { ...process.env, ...env },
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A tree of `dirs` directories of `perDir` files each (large enough to interrupt a slowed-down scan). */
function makeTree(base: string, dirs: number, perDir: number): string {
  const root = join(base, 'work');
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `project-${String(d).padStart(3, '0')}`, 'run');
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) fs.writeFileSync(join(dir, `out-${f}.nc`), 'x'.repeat((d * 7 + f) % 200));
  }
  fs.chmodSync(root, 0o755);
  return root;
}

describe('xfc scan', () => {
  const now = new Date(Date.now() + 10.5 * DAY_MS);
  let base: string;
  let root: string;
  before(() => {
    base = makeTempDir('cli-scan');
    root = makeTree(base, 120, 250);
  });
  after(() => removeTree(base));

  it('--json prints one ScanReport with what was scanned, as of when, and exits 0', async () => {
    const result = await xfc(['scan', root, '--json', '--now', now.toISOString(), '--username', 'alice']);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(json.root, root);
    assert.equal(json.username, 'alice');
    assert.equal(json.now, now.toISOString());
    assert.equal(json.ageBasis, 'ctime');
    const { root: _root, username: _username, now: _now, ageBasis: _ageBasis, ...rest } = json;
    const report = scanReport.strict().parse(rest);
    assert.deepEqual(report.totals, referenceScan(root, { now, ageBasis: 'ctime' }).totals);
    assert.equal(report.status, 'complete');
    assert.equal(result.stderr, '', 'no progress when stdout is not a terminal');
  });

  it('prints a human report stating the age basis, with exact figures', async () => {
    const result = await xfc(['scan', root, '--now', now.toISOString(), '--age-basis', 'mtime']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Scan of .*\/work$/m);
    assert.match(result.stdout, /from mtime/);
    assert.match(result.stdout, /hard usage\s+[\d.]+ [KMG]iB\s+[\d,]+ bytes/);
    assert.match(result.stdout, /files\s+30,000/);
    assert.match(result.stdout, /Top directories by size/);
    assert.match(result.stdout, /project-\d{3}/);
    assert.match(result.stdout, /≤30 days\s+30,000/);
    assert.match(result.stdout, /Errors: none/);
  });

  it('exits 3 when the scan is partial (a filesystem mounted inside is not entered)', async (t) => {
    const mount = join(root, 'project-000', 'mnt');
    fs.mkdirSync(mount);
    try {
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'xfc-cli-test', mount]);
      if (mounted.status !== 0) {
        t.skip(`cannot mount a tmpfs here (${mounted.stderr.toString().trim()})`);
        return;
      }
      try {
        const result = await xfc(['scan', root]);
        assert.equal(result.code, 3, result.stderr);
        assert.match(result.stdout, /status: partial/);
        assert.match(result.stdout, /otherDevice\s+project-000\/mnt\s+EXDEV/);
      } finally {
        spawnSync('umount', ['-l', mount]);
      }
    } finally {
      fs.rmdirSync(mount);
    }
  });

  it('exits 2 on bad usage, saying what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['scan', root, '--now', 'yesterday'], /--now "yesterday" is not a date/],
      [['scan', root, '--age-basis', 'atime'], /Invalid values:[\s\S]*age-basis/],
      [['scan', root, '--threads', '-1'], /--threads must be a whole number/],
      [['scan', root, '--username', 'Bob Smith'], /--username "Bob Smith" is not valid/],
      [['scan', root, '--exclude', 'a/b'], /--exclude takes names, not paths/],
      [['scan'], /Not enough non-option arguments/],
    ];
    const results = await Promise.all(cases.map(([args]) => xfc(args)));
    cases.forEach(([args, message], i) => {
      const result = results[i] as CliResult;
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    });
  });

  it('exits 1 naming the path and the cause when it cannot scan', async () => {
    const missing = await xfc(['scan', join(base, 'missing')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /xfc: Cannot scan: .*\/missing does not exist\./);
    fs.symlinkSync(root, join(base, 'link'));
    const link = await xfc(['scan', join(base, 'link')]);
    assert.equal(link.code, 1);
    assert.match(link.stderr, /\/link is a symbolic link/);
  });

  it('saves a checkpoint every few seconds and on SIGINT, resumes from it with the same command, then removes it', async () => {
    const checkpoint = join(base, 'scan.ckpt');
    const args = ['scan', root, '--json', '--checkpoint', checkpoint, '--now', now.toISOString()];
    const clean = await xfc(['scan', root, '--json', '--now', now.toISOString()]);
    assert.equal(clean.code, 0, clean.stderr);

    // Slowed to a crawl, with a checkpoint every 100 ms: interrupt it once a periodic checkpoint is on disk.
    const slow = spawnXfc(args, { XFC_SCAN_HEARTBEAT_INTERVAL: '100ms' });
    const stopThrottle = throttle(slow.child, 15);
    try {
      await waitFor(() => hasCursor(checkpoint), 60_000, 'a periodic checkpoint with some progress');
      slow.child.kill('SIGINT');
      assert.equal(await slow.exited, 1, slow.output());
    } finally {
      stopThrottle();
    }
    assert.match(
      slow.output(),
      /Interrupted by SIGINT after \d+ entries; progress is saved in .*scan\.ckpt\. Run the same command again to resume\./,
    );
    const saved = JSON.parse(fs.readFileSync(checkpoint, 'utf8')) as { cursor: unknown; root: string };
    assert.equal(saved.root, root);
    assert.notEqual(saved.cursor, null, 'it stopped part-way');

    // The same command (without --now: it comes from the checkpoint) resumes and finishes.
    const resumed = await xfc(args.filter((arg, i) => arg !== '--now' && args[i - 1] !== '--now'));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(JSON.parse(resumed.stdout), JSON.parse(clean.stdout));
    assert.equal(fs.existsSync(checkpoint), false, 'removed once the scan is complete');
  });

  it('refuses a checkpoint from another path or another version, and leaves it alone', async () => {
    const checkpoint = join(base, 'other.ckpt');
    // A checkpoint of a subdirectory's scan, stopped after its first record.
    const sub = join(root, 'project-001');
    const stopped = await walk({ root: sub, now, ageBasis: 'ctime', exclude: ['.snapshot'], budgetMs: 0 });
    assert.equal(stopped.done, false);
    if (stopped.done) return;
    fs.writeFileSync(checkpoint, JSON.stringify(stopped.checkpoint));
    const other = await xfc(['scan', root, '--checkpoint', checkpoint]);
    assert.equal(other.code, 2);
    assert.match(
      other.stderr,
      /Refusing the checkpoint .*other\.ckpt: the checkpoint belongs to a scan of .*project-001, not .*work\./,
    );
    const json = JSON.parse(fs.readFileSync(checkpoint, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(checkpoint, JSON.stringify({ ...json, version: 2 }));
    const newer = await xfc(['scan', sub, '--checkpoint', checkpoint]);
    assert.equal(newer.code, 2);
    assert.match(newer.stderr, /checkpoint has version 2, this xfc reads version 1; delete it/);
    fs.writeFileSync(checkpoint, 'garbage');
    const garbage = await xfc(['scan', sub, '--checkpoint', checkpoint]);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /is not a checkpoint \(not JSON\)/);
    assert.equal(fs.readFileSync(checkpoint, 'utf8'), 'garbage', 'a refused file is left as it was');
  });
});

function hasCursor(file: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { cursor: unknown }).cursor !== null;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
