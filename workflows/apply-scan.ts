import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/control.js';
import type { NotifyActivities } from '../activities/notify.js';
import {
  controlStepOptions,
  decideNotificationOptions,
  sendNotificationOptions,
} from '../lib/temporal/activity-profiles.js';
import type { ApplyScanInput, ApplyScanResult } from '../lib/temporal/contracts.js';
import { localControlStepsPatch } from '../lib/temporal/names.js';

/**
 * Recording is a short transaction; Postgres being restarted is the failure to ride out, so it retries until it
 * answers (controlStepOptions). Recording and deciding are millisecond transactions on this worker's own database:
 * since the patch they run as local activities, which spares the server two task dispatches and a workflow task each
 * (BENCHMARKS.md, the pipeline). Deciding and sending keep the options the notification activities were designed for
 * (lib/temporal/activity-profiles.ts); sending stays a task of its own, as SMTP may be slow or down for days. Runs
 * from before keep remote steps.
 */
const remote = {
  control: proxyActivities<ControlActivities>(controlStepOptions),
  outbox: proxyActivities<NotifyActivities>(decideNotificationOptions),
};
const local = {
  control: proxyLocalActivities<ControlActivities>(controlStepOptions),
  outbox: proxyLocalActivities<NotifyActivities>(decideNotificationOptions),
};
const mail = proxyActivities<NotifyActivities>(sendNotificationOptions);

function steps(): typeof remote {
  return patched(localControlStepsPatch) ? local : remote;
}

/**
 * Applies one scan result (workflow id `apply-<scanId>`): record it once, update the user's usage and the volume
 * total, clear the outstanding request, then make the notification decision and send at most one email for it.
 */
export async function applyScan(input: ApplyScanInput): Promise<ApplyScanResult> {
  const recorded = await steps().control.recordScan(input);
  // A failed scan changes no usage, and a late, older scan does not move usage backwards: nothing to tell anyone.
  if (input.type !== 'scan.completed' || !recorded.usageUpdated) {
    return { applied: recorded.applied, notification: 'none' };
  }
  const decision = await steps().outbox.decideNotification({ scanId: input.message.scanId });
  if (decision.outboxId === null) return { applied: recorded.applied, notification: 'none' };
  const sent = await mail.sendNotification({ outboxId: decision.outboxId });
  // The server accepted the email while PostgreSQL was down: record it now rather than send it again. (The patch
  // marker keeps histories from before this step replayable; it can be deprecated once none of those runs is open.)
  if (sent.unrecorded && patched('record-accepted-email')) {
    await steps().outbox.recordNotificationSent({ outboxId: decision.outboxId, ...sent.unrecorded });
  }
  return { applied: recorded.applied, notification: sent.status };
}
