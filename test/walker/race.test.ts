import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ScanReport } from '../../lib/messages/v1/scan-report.js';
import { walk, type WalkCheckpoint, type WalkOptions, type WalkOutcome } from '../../lib/walker/index.js';
import { buildCHelper, cannotCompile } from '../support/c-helper.js';
import { findMarkers, plain } from './leaks.js';
import { DAY_MS, makeTempDir, removeTree } from './fixtures.js';
import { roundTrip } from './pieces.js';

/**
 * The symlink-swap race (issue 12, docs/design.md §3): an unprivileged user swaps, with renameat2(RENAME_EXCHANGE), real
 * directories of their tree with symlinks to a directory only root can read, as fast as the kernel allows, while
 * root walks the tree hundreds of times, fresh and resumed from checkpoints taken mid-walk. A walker that names
 * files by path follows a swapped-in symlink between checking a directory and reading it; an fd-relative one
 * never leaves the tree. Nothing outside may show: not a byte in the totals, not a name in a report, an error
 * sample, a progress message or a checkpoint.
 */

const nobody = { uid: 65534, gid: 65534 };
/** Walks with swaps while they ran: each phase walks until it has this many (a fast walker may finish between two). */
const FRESH_WALKS = 200;
const RESUMED_WALKS = 200;
/** …giving up (and failing) after this many walks per phase: the attacker is not getting the CPU. */
const MAX_WALKS = 2000;

/** Every foreign file is 1 TB and a bit (sparse): one counted shows as bytes ≥ 10^12, the tree holds < 10^8. */
const FOREIGN_UNIT = 10n ** 12n;
const FOREIGN = 'FOREIGN-';
/** Swap pairs: [directory of the tree, symlink to the foreign directory], at the first and second level. */
const PAIRS: Array<[string, string]> = [
  ...[0, 1, 2, 3, 4, 5].map((i): [string, string] => [`d${i}`, `e${i}`]),
  ...[0, 1, 2, 3].map((i): [string, string] => [`p${i}/sub`, `p${i}/link`]),
];

function cannotRace(): string | false {
  if (process.getuid?.() !== 0) return 'needs root: root walks, another user attacks';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv is not installed';
  return cannotCompile();
}

function sparseFile(path: string, size: bigint): void {
  const fd = fs.openSync(path, 'w');
  fs.ftruncateSync(fd, Number(size));
  fs.closeSync(fd);
}

/** Own files: same layout as the foreign directory (lvl1/lvl2), so that a path through a swapped name resolves. */
function ownSubtree(dir: string, seed: number): void {
  fs.mkdirSync(join(dir, 'lvl1', 'lvl2'), { recursive: true });
  for (let k = 0; k < 4; k++) {
    fs.writeFileSync(join(dir, `own-${k}.dat`), Buffer.alloc(100 + seed + k, 0x61));
    fs.writeFileSync(join(dir, 'lvl1', `own-mid-${k}.dat`), Buffer.alloc(200 + seed + k, 0x62));
    fs.writeFileSync(join(dir, 'lvl1', 'lvl2', `own-deep-${k}.dat`), Buffer.alloc(300 + seed + k, 0x63));
  }
}

interface Tally {
  walks: number;
  /** Fresh walks, and resumed ones (the first piece and the rest), with swaps while they ran. */
  racedFresh: number;
  racedResumed: number;
  swaps: number;
  leakyWalks: number;
  foreignFiles: bigint;
  foreignNames: number;
  checkpointsSeen: number;
  /** Walks that met a swapped entry and said so (vanished): evidence the attack reached the walker. */
  walksWithVanished: number;
  firstLeaks: string[];
}

describe('an unprivileged user swapping directories and symlinks while root walks', { skip: cannotRace() }, () => {
  const now = new Date(Date.now() + 1.5 * DAY_MS);
  let base: string;
  let root: string;
  let foreignName: string;
  let counterPath: string;
  let attacker: ChildProcess | null = null;
  let attackerExit: Promise<string> | null = null;
  /** Checkpoints of the still tree whose cursor is inside a directory that will be swapped. */
  const stillCheckpoints: WalkCheckpoint[] = [];
  const raceCheckpoints: WalkCheckpoint[] = [];
  const tally: Tally = {
    walks: 0,
    racedFresh: 0,
    racedResumed: 0,
    swaps: 0,
    leakyWalks: 0,
    foreignFiles: 0n,
    foreignNames: 0,
    checkpointsSeen: 0,
    walksWithVanished: 0,
    firstLeaks: [],
  };

  const readCounter = (): bigint => {
    const buffer = Buffer.alloc(8);
    const fd = fs.openSync(counterPath, 'r');
    try {
      fs.readSync(fd, buffer, 0, 8, 0);
    } finally {
      fs.closeSync(fd);
    }
    return buffer.readBigUInt64LE(0);
  };

  /** Records what one walk let through; a walk that leaked nothing adds nothing. */
  const inspect = (label: string, seen: { report?: ScanReport; rest: unknown[] }): void => {
    const markers = [FOREIGN, foreignName];
    let foreignFiles = 0n;
    if (seen.report) foreignFiles = BigInt(seen.report.totals.bytes) / FOREIGN_UNIT;
    const names = [
      ...(seen.report ? findMarkers(plain(seen.report), markers) : []),
      ...findMarkers(seen.rest, markers),
    ];
    if (foreignFiles > 0n || names.length > 0) {
      tally.leakyWalks++;
      tally.foreignFiles += foreignFiles;
      tally.foreignNames += names.length;
      if (tally.firstLeaks.length < 5) {
        const samples = seen.report?.errors.samples.map((s) => `${s.kind} ${s.path}`).join(', ') ?? '';
        tally.firstLeaks.push(
          `${label}: ${foreignFiles} foreign files counted, names at ${names.slice(0, 3).join('; ')} (samples: ${samples})`,
        );
      }
    }
  };

  /** One walk under attack: swaps counted while it ran, everything it emitted inspected. */
  const attackedWalk = async (
    label: string,
    options: Partial<WalkOptions>,
  ): Promise<{ outcome: WalkOutcome; swaps: bigint }> => {
    const emitted: unknown[] = [];
    const before = readCounter();
    const outcome = await walk({
      root,
      now,
      ageBasis: 'ctime',
      checkpointIntervalMs: 1,
      onCheckpoint: (checkpoint) => {
        emitted.push(checkpoint);
        tally.checkpointsSeen++;
        if (raceCheckpoints.length < 100) raceCheckpoints.push(roundTrip(checkpoint, root));
      },
      onProgress: (progress) => emitted.push(plain(progress)),
      ...options,
    });
    const swaps = readCounter() - before;
    tally.walks++;
    tally.swaps += Number(swaps);
    if (outcome.done && outcome.report.errors.vanished > 0) tally.walksWithVanished++;
    emitted.push(plain(outcome.progress));
    if (!outcome.done) {
      emitted.push(plain(outcome.checkpoint));
      tally.checkpointsSeen++;
    }
    inspect(label, { report: outcome.done ? outcome.report : undefined, rest: emitted });
    return { outcome, swaps };
  };

  before(async () => {
    base = makeTempDir('race');
    root = join(base, 'work');
    foreignName = `root-only-${process.pid}`;
    const foreign = join(base, foreignName);
    // The foreign directory: root's, mode 0700, recognisable names and sizes down to two levels below it.
    fs.mkdirSync(join(foreign, 'lvl1', 'lvl2'), { recursive: true });
    for (let k = 0; k < 3; k++) sparseFile(join(foreign, `${FOREIGN}top-${k}.bin`), FOREIGN_UNIT + BigInt(k));
    for (let k = 0; k < 3; k++)
      sparseFile(join(foreign, 'lvl1', `${FOREIGN}mid-${k}.bin`), FOREIGN_UNIT + 10n + BigInt(k));
    for (let k = 0; k < 6; k++) {
      sparseFile(join(foreign, 'lvl1', 'lvl2', `${FOREIGN}deep-${k}.bin`), FOREIGN_UNIT + 20n + BigInt(k));
    }
    fs.chmodSync(foreign, 0o700);
    // The tree: the user's own, with real directories next to symlinks to the foreign directory.
    fs.mkdirSync(root);
    PAIRS.forEach(([dir, link], i) => {
      ownSubtree(join(root, dir), i * 10);
      fs.symlinkSync(foreign, join(root, link));
    });
    for (let i = 0; i < 3; i++) ownSubtree(join(root, `still-${i}`), 500 + i);
    spawnSync('chown', ['-R', '--no-dereference', `${nobody.uid}:${nobody.gid}`, root]);
    // The attacker: a small C program (renameat2 is in glibc), run as nobody; it counts its swaps in a file.
    const swapper = buildCHelper('swapper', base);
    counterPath = join(base, 'swaps');
    fs.writeFileSync(counterPath, Buffer.alloc(8));
    fs.chownSync(counterPath, nobody.uid, nobody.gid);

    // Checkpoints of the still tree, one record apart, whose cursor is inside a directory that will be swapped:
    // the resumed walks start there, where a resumption re-lists the cursor's ancestors.
    let checkpoint: WalkCheckpoint | undefined;
    for (;;) {
      const outcome = await walk({ root, now, ageBasis: 'ctime', budgetMs: 0, checkpoint });
      if (outcome.done) break;
      checkpoint = roundTrip(outcome.checkpoint, root);
      const cursor = Buffer.from(checkpoint.cursor?.path ?? '', 'base64').toString();
      if (PAIRS.some(([dir]) => cursor === dir || cursor.startsWith(`${dir}/`))) stillCheckpoints.push(checkpoint);
    }
    assert.ok(stillCheckpoints.length >= 20, `${stillCheckpoints.length} checkpoints inside swapped directories`);

    const child = spawn(
      'setpriv',
      [`--reuid=${nobody.uid}`, `--regid=${nobody.gid}`, '--clear-groups', swapper, counterPath, root, ...PAIRS.flat()],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    attacker = child;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    attackerExit = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(`${code ?? signal}: ${output}`)),
    );
    const deadline = Date.now() + 10_000;
    while (readCounter() < 1000n) {
      assert.ok(Date.now() < deadline, `the attacker does not swap: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  after(async () => {
    if (attacker && attacker.exitCode === null && attacker.signalCode === null) attacker.kill('SIGTERM');
    if (attackerExit) await attackerExit;
    if (base) removeTree(base);
  });

  it(`${FRESH_WALKS} fresh walks raced by swaps count nothing from outside the tree and name nothing from it`, async (t) => {
    for (let w = 0; tally.racedFresh < FRESH_WALKS; w++) {
      assert.ok(w < MAX_WALKS, `only ${tally.racedFresh} of ${w} fresh walks saw a swap while they ran`);
      const { outcome, swaps } = await attackedWalk(`fresh walk ${w}`, {});
      assert.ok(outcome.done);
      if (swaps > 0n) tally.racedFresh++;
    }
    t.diagnostic(JSON.stringify(plain(tally)));
  });

  it(`${RESUMED_WALKS} raced walks resumed from checkpoints taken mid-walk stay in the tree too`, async (t) => {
    const sources = [...stillCheckpoints, ...raceCheckpoints];
    for (let w = 0; tally.racedResumed < RESUMED_WALKS; w++) {
      assert.ok(w < MAX_WALKS, `only ${tally.racedResumed} of ${w} resumed walks saw a swap while they ran`);
      const checkpoint = sources[w % sources.length] as WalkCheckpoint;
      // Every other resumption stops after its first record (a zero budget) and resumes once more from there.
      const first = await attackedWalk(`resumed walk ${w}`, { checkpoint, budgetMs: w % 2 ? 0 : undefined });
      let swaps = first.swaps;
      if (!first.outcome.done) {
        const rest = await attackedWalk(`resumed walk ${w}, second piece`, {
          checkpoint: roundTrip(first.outcome.checkpoint, root),
        });
        assert.ok(rest.outcome.done);
        swaps += rest.swaps;
      }
      if (swaps > 0n) tally.racedResumed++;
    }
    t.diagnostic(JSON.stringify(plain(tally)));
  });

  it('the attack really ran during the walks, and nothing leaked', (t) => {
    const summary =
      `${tally.walks} walks (pieces included): ${tally.racedFresh} fresh and ${tally.racedResumed} resumed walks ` +
      `saw swaps while they ran, ${tally.swaps} swaps in all; ${tally.walksWithVanished} reported vanished ` +
      `entries; ${tally.checkpointsSeen} checkpoints`;
    t.diagnostic(summary);
    assert.deepEqual(
      { leakyWalks: tally.leakyWalks, foreignFiles: tally.foreignFiles, foreignNames: tally.foreignNames },
      { leakyWalks: 0, foreignFiles: 0n, foreignNames: 0 },
      `${summary}; leaks:\n${tally.firstLeaks.join('\n')}`,
    );
    // Zero leaks mean something only if the attack ran while the walks did.
    assert.ok(tally.racedFresh >= FRESH_WALKS && tally.racedResumed >= RESUMED_WALKS, summary);
    assert.ok(tally.swaps >= 10 * tally.walks, `too few swaps: ${summary}`);
    assert.ok(tally.checkpointsSeen >= 50, `too few checkpoints taken under attack: ${summary}`);
  });
});
