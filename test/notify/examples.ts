import { GiB, TiB } from '../../lib/common/units.js';
import type { AgeBucket, TopDirectory } from '../../lib/messages/v1/index.js';
import { defaultMailPolicy } from '../../lib/config/env.js';
import type { EmailKind, PolicyThresholds } from '../../lib/notify/policy.js';
import type { EmailContent } from '../../lib/notify/render.js';

/**
 * The example emails committed under docs/emails/: one realistic user per kind. The render tests compare the
 * output with those files, so a change to the wording shows up as a diff to review.
 */

export const exampleThresholds: PolicyThresholds = {
  warnPercent: 90,
  overPercent: 100,
  reminderIntervalMs: 7 * 86_400_000,
  minIntervalMs: 86_400_000,
};

function dir(path: string, bytes: bigint, temporalByteDays: bigint, files: number): TopDirectory {
  return { path, bytes: bytes.toString(), temporalByteDays: temporalByteDays.toString(), files };
}

function histogram(shares: [bigint, number][]): AgeBucket[] {
  const labels = ['≤30 days', '≤60 days', '≤90 days', '≤120 days', '>120 days'] as const;
  const limits = [30, 60, 90, 120, null] as const;
  return labels.map((label, i) => ({
    label,
    maxDays: limits[i] ?? null,
    bytes: (shares[i]?.[0] ?? 0n).toString(),
    files: shares[i]?.[1] ?? 0,
  }));
}

const base: EmailContent = {
  kind: 'over',
  username: 'alice',
  workDir: '/work/xfc/vol5/user_cache/alice',
  scan: {
    status: 'complete',
    scannedAt: new Date('2026-11-01T06:00:00Z'),
    ageBasis: 'ctime',
    bytes: 12n * TiB + 300n * GiB,
    temporalByteDays: 312n * TiB + 400n * GiB,
    files: 48_213,
    uncounted: 0,
    topDirectories: {
      byTemporal: [
        dir('cmip6-downloads', 7n * TiB, 201n * TiB, 20_311),
        dir('era5', 3n * TiB + 512n * GiB, 88n * TiB, 15_002),
        dir('model-runs', 1n * TiB + 600n * GiB, 22n * TiB, 12_750),
        dir('.', 188n * GiB, 1n * TiB + 400n * GiB, 150),
      ],
      byBytes: [
        dir('cmip6-downloads', 7n * TiB, 201n * TiB, 20_311),
        dir('era5', 3n * TiB + 512n * GiB, 88n * TiB, 15_002),
        dir('model-runs', 1n * TiB + 600n * GiB, 22n * TiB, 12_750),
        dir('.', 188n * GiB, 1n * TiB + 400n * GiB, 150),
      ],
    },
    ageHistogram: histogram([
      [2n * TiB + 100n * GiB, 14_020],
      [3n * TiB + 200n * GiB, 9_812],
      [4n * TiB, 12_033],
      [2n * TiB + 1000n * GiB, 12_348],
      [0n, 0],
    ]),
  },
  quotas: { hardBytes: 40n * TiB, temporalByteDays: 300n * TiB },
  thresholds: exampleThresholds,
  contact: 'the JASMIN helpdesk, support@jasmin.ac.uk',
  helpUrl: 'https://help.jasmin.ac.uk/docs/short-term-project-storage/xfc/',
  policy: defaultMailPolicy,
};

export const examples: Record<EmailKind, EmailContent> = {
  warning: {
    ...base,
    kind: 'warning',
    scan: {
      ...base.scan,
      scannedAt: new Date('2026-10-29T06:00:00Z'),
      bytes: 11n * TiB + 800n * GiB,
      temporalByteDays: 274n * TiB + 100n * GiB,
    },
  },
  over: base,
  reminder: {
    ...base,
    kind: 'reminder',
    scan: {
      ...base.scan,
      scannedAt: new Date('2026-11-08T06:00:00Z'),
      bytes: 12n * TiB + 100n * GiB,
      temporalByteDays: 397n * TiB + 20n * GiB,
    },
  },
  'all-clear': {
    ...base,
    kind: 'all-clear',
    scan: {
      ...base.scan,
      scannedAt: new Date('2026-11-12T06:00:00Z'),
      bytes: 3n * TiB + 200n * GiB,
      temporalByteDays: 121n * TiB + 300n * GiB,
      files: 15_160,
      topDirectories: {
        byTemporal: [dir('era5', 3n * TiB, 118n * TiB, 15_002), dir('.', 200n * GiB, 3n * TiB + 300n * GiB, 158)],
        byBytes: [dir('era5', 3n * TiB, 118n * TiB, 15_002), dir('.', 200n * GiB, 3n * TiB + 300n * GiB, 158)],
      },
      ageHistogram: histogram([
        [200n * GiB, 158],
        [0n, 0],
        [0n, 0],
        [3n * TiB, 15_002],
        [0n, 0],
      ]),
    },
  },
};
