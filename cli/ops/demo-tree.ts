import { existsSync, linkSync, lstatSync, mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MiB } from '../../lib/common/units.js';

/**
 * The demo's small copy of /work/xfc: two volumes, four users whose files have chosen sizes and ages, so that the
 * scans give one user of each kind. Ages are set as modification times (utimes); a file's ctime is always the
 * moment it was written, so the demo measures with XFC_AGE_BASIS=mtime (see `xfc demo --help`).
 *
 * With the demo quotas (hard 16 MiB, temporal 512 MiB·day) and the mtime basis:
 * - alice: 2 MiB of fresh files — well within both quotas;
 * - bob: 5 MiB, about three months old — 94 % of the temporal quota: a warning;
 * - carol: 20 MiB, some of it half a year old — over both quotas;
 * - dave: 18 MiB written this week — over the hard quota only, and no email address: the email is recorded, not sent.
 */

export const demoQuotas = { hard: '16MiB', temporal: '512MiB' } as const;

export interface DemoFile {
  /** Relative to the user's work directory. */
  path: string;
  bytes: number;
  ageDays: number;
}

export interface DemoUser {
  name: string;
  volume: 'vol1' | 'vol2';
  email?: string;
  /** What the scan should show, for the demo's summary. */
  expect: string;
  files: DemoFile[];
  /** Extra names: a hard link (counted once) and a symbolic link (never followed). */
  hardLinks?: Array<{ path: string; target: string }>;
  symlinks?: Array<{ path: string; target: string }>;
}

const file = (path: string, mebibytes: number, ageDays: number): DemoFile => ({
  path,
  bytes: Math.round(mebibytes * Number(MiB)),
  ageDays,
});

export const demoUsers: readonly DemoUser[] = [
  {
    name: 'alice',
    volume: 'vol1',
    email: 'alice@example.org',
    expect: 'ok: well within both quotas',
    files: [
      file('notebooks/analysis.ipynb', 0.25, 0),
      file('notebooks/plots/fig1.png', 0.75, 2),
      file('data/sample.csv', 1, 6),
    ],
  },
  {
    name: 'bob',
    volume: 'vol1',
    email: 'bob@example.org',
    expect: 'warning: 94 % of the temporal quota (old files)',
    files: [file('data/run1.nc', 2, 100), file('data/run2.nc', 2, 90), file('notes/README.txt', 1, 95)],
    hardLinks: [{ path: 'archive/run1-copy.nc', target: 'data/run1.nc' }],
  },
  {
    name: 'carol',
    volume: 'vol2',
    email: 'carol@example.org',
    expect: 'over: both quotas',
    files: [
      file('model_runs/2025/run1/output.nc', 8, 200),
      file('model_runs/2026/run2/output.nc', 8, 45),
      file('scratch/tmp.dat', 4, 10),
    ],
    symlinks: [{ path: 'latest', target: 'model_runs/2026/run2' }],
  },
  {
    name: 'dave',
    volume: 'vol2',
    expect: 'over the hard quota; no email address, so the email is recorded, not sent',
    files: [file('downloads/era5-subset.grib', 12, 1), file('downloads/cmip6-tas.nc', 6, 0)],
  },
];

export interface DemoTree {
  root: string;
  users: readonly DemoUser[];
  /** username,email lines for `xfc users backfill --emails`. */
  emailsFile: string;
  /** Files written this time (0 on a second run: the tree is kept, only the ages are set again). */
  written: number;
}

export function workDirOf(root: string, user: DemoUser): string {
  return join(root, user.volume, 'user_cache', user.name);
}

/**
 * Builds (or refreshes) the tree under `root`: writes files that are missing or of the wrong size, and sets every
 * file's modification time to `ageDays` before `now` (plus an hour, so that a scan minutes later falls in the same
 * whole day). Idempotent: a second run rewrites nothing and only sets the ages again. Never deletes anything.
 */
export function buildDemoTree(root: string, emailsFile: string, now: Date = new Date()): DemoTree {
  let written = 0;
  for (const user of demoUsers) {
    const workDir = workDirOf(root, user);
    for (const spec of user.files) {
      const path = join(workDir, spec.path);
      mkdirSync(dirname(path), { recursive: true });
      if (!existsSync(path) || statSync(path).size !== spec.bytes) {
        writeFileSync(path, Buffer.alloc(spec.bytes, user.name.charCodeAt(0)));
        written++;
      }
      const mtime = new Date(now.getTime() - spec.ageDays * 86_400_000 - 3_600_000);
      utimesSync(path, mtime, mtime);
    }
    for (const link of user.hardLinks ?? []) {
      const path = join(workDir, link.path);
      mkdirSync(dirname(path), { recursive: true });
      if (!present(path)) linkSync(join(workDir, link.target), path);
    }
    for (const link of user.symlinks ?? []) {
      const path = join(workDir, link.path);
      if (!present(path)) symlinkSync(link.target, path);
    }
  }
  mkdirSync(dirname(emailsFile), { recursive: true });
  const lines = demoUsers.filter((user) => user.email).map((user) => `${user.name},${user.email}`);
  writeFileSync(emailsFile, `username,email\n${lines.join('\n')}\n`);
  return { root, users: demoUsers, emailsFile, written };
}

/** True when a name exists, even as a dangling symbolic link. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
