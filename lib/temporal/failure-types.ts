/**
 * The `type` of every ApplicationFailure xfc's activities and workflows throw: the activities set them, the workflows
 * and their retry policies match on them. Pure (workflow code imports it).
 */
export const failureTypes = {
  /** The work directory may not be scanned (missing, not a directory, outside the root…): final. */
  workDirRefused: 'WorkDirRefused',
  /** A walk checkpoint cannot be resumed from (corrupt, or for another directory): final. */
  checkpointRefused: 'CheckpointRefused',
  /** A result message failed validation before it was recorded: final. */
  invalidMessage: 'InvalidMessage',
  /** PostgreSQL refused the data (db/permanent-errors.ts): no retry can fix it. */
  permanentDatabaseError: 'PermanentDatabaseError',
  /** Notification steps: the scan, user or outbox row they were given does not exist. */
  unknownScan: 'UnknownScan',
  unknownUser: 'UnknownUser',
  unknownOutboxRow: 'UnknownOutboxRow',
  /** Another send attempt holds the outbox row's lease: retried. */
  outboxRowBusy: 'OutboxRowBusy',
  /** Notification steps: an input that is not what the workflow passes. */
  badSentAt: 'BadSentAt',
  badOutboxId: 'BadOutboxId',
  /**
   * scanUser itself, when a scan ends in scan.failed (after publishing it): the Web UI shows the run as Failed; its
   * details carry the published result (lib/temporal/scan-result.ts).
   */
  scanFailed: 'ScanFailed',
} as const;

export type FailureType = (typeof failureTypes)[keyof typeof failureTypes];
