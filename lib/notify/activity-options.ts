import type { ActivityOptions } from '@temporalio/common';

/**
 * How the workflow should call the notification activities (pure: workflow code may import it). Kept beside the
 * activities because the numbers depend on them: the send attempt gives up on SMTP after 90 s and holds its outbox
 * row for 3 minutes, so 2 minutes start-to-close lets one attempt finish before the next may take the row.
 */

/** One short transaction, idempotent per scan id: retry until Postgres is reachable again. */
export const decideNotificationOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * SMTP may be down for hours: retry with backoff from 10 s to every 10 min, for up to 3 days (after that the row
 * stays pending and a later reminder or all-clear supersedes it). Permanent refusals are not retried: the activity
 * records them and returns 'rejected'.
 */
export const sendNotificationOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
};
