import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/control.js';
import { sweepStepOptions } from '../lib/temporal/activity-profiles.js';
import type { SweepInput, SweepResult } from '../lib/temporal/contracts.js';

/**
 * Claiming and publishing are short; if Postgres or RabbitMQ is down they retry, but only for a few minutes: the
 * next scheduled sweep will try again anyway, and overlap policy SKIP means a stuck sweep would block the next.
 */
const control = proxyActivities<ControlActivities>(sweepStepOptions);

/**
 * Run by the Schedule `xfc-sweep`: claim the stalest users (one statement, so two sweeps never claim the same
 * user) and publish one `scan.request` per user. The claim is keyed by this run, so a retried claim returns the
 * same users instead of claiming more.
 */
export async function sweep(input: SweepInput = {}): Promise<SweepResult> {
  const claimId = workflowInfo().runId;
  const requests = await control.claimStaleUsers({ claimId, batchSize: input.batchSize });
  if (requests.length > 0) await control.publishScanRequests({ requests, reason: 'sweep' });
  // Shown in the Web UI (metadata, not a command: replay is unchanged).
  setCurrentDetails(
    requests.length === 0
      ? 'No user was due for a scan.'
      : `Requested scans of ${requests.length} user(s): ${requests.map((request) => request.username).join(', ')}`,
  );
  return { claimed: requests.map((request) => request.username), published: requests.length };
}
