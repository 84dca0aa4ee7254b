import { proxyActivities } from '@temporalio/workflow';
import type { DecideNotificationResult, NotifyActivities, SendNotificationResult } from '../../activities/notify.js';
import { decideNotificationOptions, sendNotificationOptions } from '../../lib/temporal/activity-profiles.js';

/**
 * The notification steps of applyScan, alone, with the recommended activity options (the first retry sooner, so
 * the test is quick): decide, then send what was decided.
 */
const decide = proxyActivities<NotifyActivities>(decideNotificationOptions);
const mail = proxyActivities<NotifyActivities>({
  ...sendNotificationOptions,
  retry: { ...sendNotificationOptions.retry, initialInterval: '500 milliseconds', maximumInterval: '2 seconds' },
});

export async function notifyAboutScan(
  scanId: string,
): Promise<{ decision: DecideNotificationResult; sent: SendNotificationResult | null }> {
  const decision = await decide.decideNotification({ scanId });
  if (decision.outboxId === null) return { decision, sent: null };
  return { decision, sent: await mail.sendNotification({ outboxId: decision.outboxId }) };
}
