/**
 * Names that Temporal, the bridge and the CLI must agree on (DESIGN §6). Pure: workflow code imports it too.
 */
export const workflowTypes = {
  sweep: 'sweep',
  scanUser: 'scanUser',
  applyScan: 'applyScan',
} as const;

/** One scan per user at a time: the id is the business key. */
export function scanWorkflowId(username: string): string {
  return `scan-${username}`;
}

/** One application per scan, ever. */
export function applyWorkflowId(scanId: string): string {
  return `apply-${scanId}`;
}

export const sweepScheduleId = 'xfc-sweep';
export const sweepWorkflowIdPrefix = 'sweep';

/** Keyword search attribute carried by scan and apply workflows, so the Web UI can filter by user. */
export const userSearchAttribute = 'XfcUser';
