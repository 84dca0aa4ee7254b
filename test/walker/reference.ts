/**
 * An independent reference for walker tests: GNU find lists the tree (-xdev, .snapshot pruned) with each entry's
 * dev, inode, links, size, blocks and both times, and this module computes the totals the walker must report —
 * with its own arithmetic (BigInt nanoseconds for ages) and its own walk order (paths sorted bytewise by
 * component), sharing no code with the walker.
 */
import { spawnSync } from 'node:child_process';
import type { ScanReport } from '../../lib/messages/v1/scan-report.js';

export interface ReferenceOptions {
  now: Date;
  ageBasis: 'ctime' | 'mtime';
  exclude?: string[];
  /** Run find as this uid/gid (via setpriv), to see what an unprivileged walker sees. */
  asUser?: { uid: number; gid: number };
}

interface Entry {
  type: string;
  dev: bigint;
  ino: bigint;
  size: bigint;
  blocks: bigint;
  ctimeNs: bigint;
  mtimeNs: bigint;
  components: Buffer[];
}

export interface Reference {
  totals: ScanReport['totals'];
  otherDevice: number;
  histogram: Array<{ files: number; bytes: string }>;
  /** First-level name (escaped by the caller's choice; here raw latin1) → sums. */
  top: Map<string, { files: number; bytes: bigint; byteDays: bigint }>;
  /** find's complaints (e.g. permission denied), one per line. */
  findErrors: string[];
}

const DAY_NS = 86_400n * 1_000_000_000n;

function parseTime(text: string): bigint {
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 1_000_000_000n + BigInt((fraction + '000000000').slice(0, 9));
}

export function referenceScan(root: string, options: ReferenceOptions): Reference {
  const exclude = options.exclude ?? ['.snapshot'];
  const format = '%y %D %i %n %s %b %C@ %T@ %P\\0';
  const prune = exclude.flatMap((name, i) => [...(i > 0 ? ['-o'] : []), '-name', name]);
  const args = [root, '-xdev'];
  if (prune.length > 0) args.push('(', '-type', 'd', '(', ...prune, ')', '-printf', format, '-prune', ')', '-o');
  args.push('-printf', format);
  const command = options.asUser
    ? ['setpriv', `--reuid=${options.asUser.uid}`, `--regid=${options.asUser.gid}`, '--clear-groups', 'find', ...args]
    : ['find', ...args];
  const result = spawnSync(command[0] as string, command.slice(1), { maxBuffer: 1 << 30 });
  if (result.error) throw result.error;
  const findErrors = result.stderr.toString('utf8').split('\n').filter(Boolean);
  const out = result.stdout;
  const entries: Entry[] = [];
  let start = 0;
  for (let end = out.indexOf(0, start); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
    const record = out.subarray(start, end);
    const fields: string[] = [];
    let pos = 0;
    for (let f = 0; f < 8; f++) {
      const space = record.indexOf(0x20, pos);
      fields.push(record.subarray(pos, space).toString('latin1'));
      pos = space + 1;
    }
    const path = record.subarray(pos);
    const [type = '', dev = '', ino = '', , size = '', blocks = '', ctime = '', mtime = ''] = fields;
    const components: Buffer[] = [];
    if (path.length > 0) {
      let from = 0;
      for (let slash = path.indexOf(0x2f); slash >= 0; from = slash + 1, slash = path.indexOf(0x2f, from)) {
        components.push(path.subarray(from, slash));
      }
      components.push(path.subarray(from));
    }
    entries.push({
      type,
      dev: BigInt(dev),
      ino: BigInt(ino),
      size: BigInt(size),
      blocks: BigInt(blocks),
      ctimeNs: parseTime(ctime),
      mtimeNs: parseTime(mtime),
      components,
    });
  }
  // Walk order: preorder with children sorted bytewise = lexicographic order of component arrays.
  entries.sort((a, b) => {
    const n = Math.min(a.components.length, b.components.length);
    for (let i = 0; i < n; i++) {
      const c = Buffer.compare(a.components[i] as Buffer, b.components[i] as Buffer);
      if (c !== 0) return c;
    }
    return a.components.length - b.components.length;
  });
  const rootEntry = entries.find((e) => e.components.length === 0);
  if (!rootEntry) throw new Error(`find did not list ${root}: ${findErrors.join('; ')}`);
  const nowNs = BigInt(options.now.getTime()) * 1_000_000n;
  const seen = new Set<string>();
  const totals = { files: 0, directories: 0, symlinks: 0, others: 0, bytes: 0n, allocated: 0n, byteDays: 0n };
  const histogram = Array.from({ length: 5 }, () => ({ files: 0, bytes: 0n }));
  const top = new Map<string, { files: number; bytes: bigint; byteDays: bigint }>();
  let otherDevice = 0;
  for (const e of entries) {
    if (e.type === 'd') {
      totals.directories++;
      if (e.dev !== rootEntry.dev) otherDevice++;
    } else if (e.type === 'l') {
      totals.symlinks++;
    } else if (e.type === 'f') {
      const key = `${e.dev}:${e.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const t = options.ageBasis === 'ctime' ? e.ctimeNs : e.mtimeNs;
      const days = t >= nowNs ? 0n : (nowNs - t) / DAY_NS;
      const byteDays = e.size * (days + 1n);
      totals.files++;
      totals.bytes += e.size;
      totals.allocated += e.blocks * 512n;
      totals.byteDays += byteDays;
      const bucket = days <= 30n ? 0 : days <= 60n ? 1 : days <= 90n ? 2 : days <= 120n ? 3 : 4;
      const h = histogram[bucket] as { files: number; bytes: bigint };
      h.files++;
      h.bytes += e.size;
      const first = e.components.length === 1 ? '' : (e.components[0] as Buffer).toString('latin1');
      const t0 = top.get(first) ?? { files: 0, bytes: 0n, byteDays: 0n };
      t0.files++;
      t0.bytes += e.size;
      t0.byteDays += byteDays;
      top.set(first, t0);
    } else {
      totals.others++;
    }
  }
  return {
    totals: {
      files: totals.files,
      directories: totals.directories,
      symlinks: totals.symlinks,
      others: totals.others,
      bytes: totals.bytes.toString(),
      allocatedBytes: totals.allocated.toString(),
      temporalByteDays: totals.byteDays.toString(),
    },
    otherDevice,
    histogram: histogram.map((h) => ({ files: h.files, bytes: h.bytes.toString() })),
    top,
    findErrors,
  };
}
