import type { BackfillReport } from '../lib/backfill/index.js';
import { describeSize, formatByteDays, formatBytes, formatExact } from '../lib/common/units.js';
import { formatTable } from '../lib/common/table.js';

/** The quotas given to new users, stating the unit system, e.g. for the first line of a backfill. */
export function describeQuotas(temporalByteDays: bigint, hardBytes: bigint): string {
  return (
    `temporal ${formatByteDays(temporalByteDays)} (${formatExact(temporalByteDays)} byte·days), ` +
    `hard ${describeSize(hardBytes)}; TiB = 2^40 bytes (TB would mean 10^12)`
  );
}

const statusWords: Record<string, [done: string, dryRun: string]> = {
  register: ['registered now', 'would register'],
  registered: ['already registered', 'already registered'],
  excluded: ['excluded', 'excluded'],
  unusable: ['not a volume', 'not a volume'],
};

/** The summary people read after `xfc users backfill`. */
export function formatBackfillReport(report: BackfillReport): string {
  const dry = report.dryRun;
  const out: string[] = [];
  out.push(`Backfill of ${report.root}${dry ? ' — dry run: nothing was written' : ''}`);
  out.push(
    `Quotas for new users: ${describeQuotas(BigInt(report.quotas.temporalByteDays), BigInt(report.quotas.hardBytes))}`,
  );
  out.push('');
  out.push(
    formatTable(
      ['VOLUME', 'STATUS', 'SIZE', 'USERS FOUND', dry ? 'TO CREATE' : 'CREATED', 'PRESENT', 'SKIPPED', 'NOTE'],
      report.volumes.map((volume) => [
        volume.name,
        (statusWords[volume.status] ?? [volume.status, volume.status])[dry ? 1 : 0],
        volume.sizeBytes === null ? '—' : formatBytes(BigInt(volume.sizeBytes)),
        String(volume.found),
        String(volume.created),
        String(volume.present),
        String(volume.skipped),
        volume.problem ?? volume.note ?? '',
      ]),
      [2, 3, 4, 5, 6],
    ),
  );
  out.push('');

  const { summary } = report;
  if (summary.created === 0) {
    out.push(
      `Nothing to create: ${summary.present} user${summary.present === 1 ? ' is' : 's are'} already registered` +
        (summary.conflicts > 0 ? `, ${summary.conflicts} need${summary.conflicts === 1 ? 's' : ''} a decision.` : '.'),
    );
  } else {
    out.push(
      `${dry ? 'Would create' : 'Created'} ${summary.created} user${summary.created === 1 ? '' : 's'}: ` +
        report.created.map((user) => `${user.username} (${user.volume})`).join(', '),
    );
    out.push(`Already registered: ${summary.present}.`);
  }
  if (report.ldap) {
    out.push(
      `Addresses from LDAP (${report.ldap.source}): ${report.ldap.addresses} of the ${dry ? 'users to create' : 'created users'}` +
        (report.ldap.problems.length > 0
          ? `; not usable: ${report.ldap.problems.map((p) => `${p.username} (${p.problem})`).join(', ')}`
          : '.'),
    );
  }
  if (report.withoutEmail.length > 0) {
    out.push(
      `No email address, so notifications off (${report.withoutEmail.length}): ${report.withoutEmail.join(', ')}`,
    );
  }
  section(
    out,
    'Skipped (not users)',
    report.skipped.map((entry) => `${entry.path}: ${entry.reason}`),
  );
  section(
    out,
    'Needs a decision (not created)',
    report.conflicts.map((conflict) => `${conflict.username}: ${conflict.message}`),
  );
  section(
    out,
    'Differences (left as they are)',
    report.differences.map((difference) => `${difference.username}: ${difference.message}`),
  );
  section(out, `Registered volumes under ${report.root} that were not found`, report.missingVolumes);
  if (report.failures.length > 0) {
    out.push('', `${report.failures.length} problem${report.failures.length === 1 ? '' : 's'}: exit status 1.`);
  }
  return out.join('\n');
}

function section(out: string[], title: string, lines: string[]): void {
  if (lines.length === 0) return;
  out.push('', `${title} (${lines.length}):`, ...lines.map((line) => `  ${line}`));
}
