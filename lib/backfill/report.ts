import type { Discovery, SkippedEntry } from './discover.js';
import type { BackfillOutcome } from './apply.js';
import type { BackfillSettings, Conflict, Difference, VolumeAction } from './plan.js';

/** The result of `xfc users backfill` as data: what `--json` prints (byte figures as decimal strings). */
export interface BackfillReport {
  root: string;
  dryRun: boolean;
  quotas: { temporalByteDays: string; hardBytes: string };
  volumes: Array<{
    name: string;
    mountpoint: string;
    status: VolumeAction;
    sizeBytes: string | null;
    found: number;
    created: number;
    present: number;
    skipped: number;
    allocatedBytesAdded: string;
    problem?: string;
    note?: string;
  }>;
  created: Array<{ username: string; volume: string; email: string | null; notify: boolean }>;
  present: Array<{ username: string; volume: string }>;
  skipped: SkippedEntry[];
  conflicts: Conflict[];
  differences: Difference[];
  withoutEmail: string[];
  missingVolumes: string[];
  /** Problems that make the exit status non-zero. */
  failures: string[];
  /** With an LDAP lookup: where, how many created users got their address from it, and what it could not use. */
  ldap?: { source: string; addresses: number; problems: Array<{ username: string; problem: string }> };
  /** Distinct usernames found = created + present + conflicts. */
  summary: { found: number; created: number; present: number; skipped: number; conflicts: number; differences: number };
}

export function backfillReport(
  discovery: Discovery,
  outcome: BackfillOutcome,
  settings: BackfillSettings,
): BackfillReport {
  const { plan } = outcome;
  const failures = [
    ...plan.volumes
      .filter((volume) => volume.problem?.startsWith('cannot read') ?? false)
      .map((volume) => `${volume.mountpoint}: ${volume.problem ?? ''}`),
    ...plan.conflicts.map((conflict) => `${conflict.username}: ${conflict.message}`),
  ];
  return {
    root: discovery.root,
    dryRun: !outcome.written,
    quotas: { temporalByteDays: settings.temporalQuota.toString(), hardBytes: settings.hardQuota.toString() },
    volumes: plan.volumes.map((volume) => ({
      name: volume.name,
      mountpoint: volume.mountpoint,
      status: volume.action,
      sizeBytes: volume.sizeBytes?.toString() ?? null,
      found: volume.found,
      created: volume.create,
      present: volume.present,
      skipped: volume.skipped,
      allocatedBytesAdded: volume.allocate.toString(),
      ...(volume.problem !== undefined ? { problem: volume.problem } : {}),
      ...(volume.note !== undefined ? { note: volume.note } : {}),
    })),
    created: plan.create.map((user) => ({
      username: user.username,
      volume: user.volume,
      email: user.email === '' ? null : user.email,
      notify: user.notify,
    })),
    present: plan.present,
    skipped: discovery.skipped,
    conflicts: plan.conflicts,
    differences: plan.differences,
    withoutEmail: plan.withoutEmail,
    missingVolumes: plan.missingVolumes,
    failures,
    summary: {
      found: new Set(discovery.directories.map((directory) => directory.username)).size,
      created: plan.create.length,
      present: plan.present.length,
      skipped: discovery.skipped.length,
      conflicts: plan.conflicts.length,
      differences: plan.differences.length,
    },
  };
}
