import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { XfcConfig } from '../config/env.js';
import type { ScanRequest } from '../messages/v1/index.js';
import { applySummary, type ApplyScanInput } from './contracts.js';
import { applyWorkflowId, scanWorkflowId, userSearchAttribute, workflowTypes } from './names.js';

export const xfcUserKey = defineSearchAttributeKey(userSearchAttribute, SearchAttributeType.KEYWORD);

export interface StartOutcome {
  workflowId: string;
  /** Run id of the execution that now handles the request (the existing one if it was already running). */
  runId: string;
  /**
   * False when an execution with this id was already running (or, for applyScan, had already run). For scans this is
   * for reporting only: two starts racing each other may both say true, but they share one run (USE_EXISTING).
   */
  started: boolean;
}

/**
 * Starts `scanUser` for a request, or joins the scan already running for that user: two requests for one user never
 * give two concurrent scans. Both outcomes mean the request is accepted.
 *
 * The start is tried first with conflict policy FAIL, so the usual case (no scan running) costs the server one call;
 * only when a scan is running does a second start join it (USE_EXISTING: the running run's id comes back). A
 * describe before every start, as before, cost a history lookup per scan — of the user's last, closed run in
 * production. If the running scan ends between the two calls, the second starts a new run and this says `started:
 * false` for it: the flag is for reporting only.
 */
export async function startScanWorkflow(
  client: Client,
  config: Pick<XfcConfig, 'temporal'>,
  request: ScanRequest,
): Promise<StartOutcome> {
  const workflowId = scanWorkflowId(request.username);
  const start = (workflowIdConflictPolicy: 'FAIL' | 'USE_EXISTING') =>
    client.workflow.start(workflowTypes.scanUser, {
      workflowId,
      taskQueue: config.temporal.controlTaskQueue,
      args: [{ request }],
      workflowIdConflictPolicy,
      // A finished scan for the user does not block a new one.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [{ key: xfcUserKey, value: request.username }],
      // What the Web UI's list shows beside the id, so runs can be told apart without opening them.
      staticSummary: `Scan of ${request.username} (${request.reason})`,
      staticDetails: `Request ${request.requestId}, requested ${request.requestedAt}.`,
    });
  try {
    const handle = await start('FAIL');
    return { workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = await start('USE_EXISTING');
    return { workflowId, runId: handle.firstExecutionRunId, started: false };
  }
}

/**
 * Starts `applyScan` for a completion or failure. The id is derived from the scan id and duplicates are rejected,
 * so a replayed message is accepted without a second application.
 */
export async function startApplyWorkflow(
  client: Client,
  config: Pick<XfcConfig, 'temporal'>,
  input: ApplyScanInput,
): Promise<StartOutcome> {
  const workflowId = applyWorkflowId(input.message.scanId);
  try {
    const handle = await client.workflow.start(workflowTypes.applyScan, {
      workflowId,
      taskQueue: config.temporal.controlTaskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: xfcUserKey, value: input.message.username }],
      ...applySummary(input),
    });
    return { workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId, started: false };
  }
}

/**
 * The application `apply-<scanId>` if it was ever started (running or closed, within the server's retention), as
 * an outcome that accepts a message without starting anything; undefined if there is none.
 */
export async function existingApplication(client: Client, workflowId: string): Promise<StartOutcome | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId, started: false };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
