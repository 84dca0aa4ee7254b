import type { CommandModule } from 'yargs';
import { ExitCode } from '../../lib/common/errors.js';
import { loadConfig } from '../../lib/config/env.js';
import { runDoctor, type Check } from '../ops/doctor.js';

const labels: Record<Check['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export function formatChecks(checks: Check[]): string {
  const areaWidth = Math.max(...checks.map((check) => check.area.length));
  const nameWidth = Math.max(...checks.map((check) => check.name.length));
  const lines = checks.map(
    (check) =>
      `${check.area.padEnd(areaWidth)}  ${labels[check.status]}  ${check.name.padEnd(nameWidth)}  ${check.detail}` +
      (check.fix && check.status !== 'ok' ? `\n${' '.repeat(areaWidth + nameWidth + 10)}→ ${check.fix}` : ''),
  );
  const failed = checks.filter((check) => check.status === 'fail').length;
  const warned = checks.filter((check) => check.status === 'warn').length;
  lines.push(
    '',
    failed > 0
      ? `${failed} FAIL, ${warned} warn: xfc cannot work until the FAIL lines are fixed.`
      : warned > 0
        ? `All required checks pass; ${warned} warning(s).`
        : 'Everything xfc needs is there.',
  );
  return lines.join('\n');
}

export const doctorCommand: CommandModule<object, { json: boolean }> = {
  command: 'doctor',
  describe: 'Check PostgreSQL, RabbitMQ, Temporal, SMTP and XFC_ROOT, and say what to fix',
  builder: (yargs) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' })
      .epilogue('One line per check: ok, warn or FAIL with what to do. Exit status 1 when any check fails.'),
  handler: async (args) => {
    const checks = await runDoctor(loadConfig());
    const ok = !checks.some((check) => check.status === 'fail');
    console.log(args.json ? JSON.stringify({ ok, checks }, null, 2) : formatChecks(checks));
    if (!ok) process.exitCode = ExitCode.failure;
  },
};
