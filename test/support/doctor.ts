import type { Check } from '../../cli/ops/doctor.js';
import { spawnXfc } from './processes.js';

/**
 * `xfc doctor --json`'s Temporal checks for the given settings (TEMPORAL_*), as an operator would run it: the other
 * services point at closed ports, so only the Temporal area says anything about what is being tested.
 */
export async function doctorTemporalChecks(env: Record<string, string>): Promise<Check[]> {
  const proc = spawnXfc(['doctor', '--json'], {
    ...env,
    XFC_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    XFC_AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    XFC_SMTP_URL: 'smtp://127.0.0.1:1',
  });
  await proc.exited;
  const json = proc.output().slice(proc.output().indexOf('{'));
  return (JSON.parse(json) as { checks: Check[] }).checks.filter((check) => check.area === 'Temporal');
}
