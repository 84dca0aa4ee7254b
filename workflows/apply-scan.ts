import { patched, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/control.js';
import type { NotifyActivities } from '../activities/notify.js';
import {
  controlStepOptions,
  decideNotificationOptions,
  sendNotificationOptions,
} from '../lib/temporal/activity-profiles.js';
import type { ApplyScanInput, ApplyScanResult } from '../lib/temporal/contracts.js';

/** Recording is a short transaction; Postgres being restarted is the failure to ride out, so retry indefinitely. */
const control = proxyActivities<ControlActivities>(controlStepOptions);

/**
 * Decide and send with the options the notification activities were designed for (lib/temporal/activity-profiles.ts). Recording a
 * sent email is, like deciding, one short transaction retried until PostgreSQL answers.
 */
const outbox = proxyActivities<NotifyActivities>(decideNotificationOptions);
const mail = proxyActivities<NotifyActivities>(sendNotificationOptions);

/**
 * Applies one scan result (workflow id `apply-<scanId>`): record it once, update the user's usage and the volume
 * total, clear the outstanding request, then make the notification decision and send at most one email for it.
 */
export async function applyScan(input: ApplyScanInput): Promise<ApplyScanResult> {
  const recorded = await control.recordScan(input);
  // A failed scan changes no usage, and a late, older scan does not move usage backwards: nothing to tell anyone.
  if (input.type !== 'scan.completed' || !recorded.usageUpdated) {
    return { applied: recorded.applied, notification: 'none' };
  }
  const decision = await outbox.decideNotification({ scanId: input.message.scanId });
  if (decision.outboxId === null) return { applied: recorded.applied, notification: 'none' };
  const sent = await mail.sendNotification({ outboxId: decision.outboxId });
  // The server accepted the email while PostgreSQL was down: record it now rather than send it again. (The patch
  // marker keeps histories from before this step replayable; it can be deprecated once none of those runs is open.)
  if (sent.unrecorded && patched('record-accepted-email')) {
    await outbox.recordNotificationSent({ outboxId: decision.outboxId, ...sent.unrecorded });
  }
  return { applied: recorded.applied, notification: sent.status };
}
