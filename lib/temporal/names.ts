/**
 * Names that Temporal, the bridge and the CLI must agree on (docs/design.md §6). Pure: workflow code imports it too.
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
/** Keyword: the volume of the user's work directory (`vol5`), set by the scan once it knows it. */
export const volumeSearchAttribute = 'XfcVolume';
/** Keyword: how a scan stands — running, complete, partial or failed — so `XfcScanStatus="failed"` finds failures. */
export const scanStatusSearchAttribute = 'XfcScanStatus';

/**
 * Every search attribute xfc sets, all of type Keyword: the ONE list that `xfc dev`, its dev servers, `xfc doctor`
 * and the registration on a real server use. A namespace must have them all before workers of this version run.
 */
export const searchAttributeNames = [userSearchAttribute, volumeSearchAttribute, scanStatusSearchAttribute] as const;

/** The values XfcScanStatus takes. */
export type ScanStatusValue = 'running' | 'complete' | 'partial' | 'failed';

/**
 * Patch id (workflows `patched()`) shared by scanUser and applyScan: their database and messaging steps run as local
 * activities, and scanUser no longer inspects the work directory in an activity of its own before the first chunk.
 */
export const localControlStepsPatch = 'local-control-steps';

/**
 * Patch id of scanUser: a control step starts the result's application (`apply-<scanId>`) with a client call instead
 * of the workflow starting it as a child, whose start the workflow had to wait for in a workflow task of its own.
 */
export const applyStartedByControlStepPatch = 'apply-started-by-control-step';
