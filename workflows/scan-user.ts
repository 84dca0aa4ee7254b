import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { scanStatusSearchAttribute, volumeSearchAttribute, type ScanStatusValue } from '../lib/temporal/names.js';
import type { ControlActivities } from '../activities/control.js';
import type { ScanActivities, ScanProgress, WalkChunkResult } from '../activities/scan.js';
import type { ScanCompleted, ScanFailed, ScanFailureReason } from '../lib/messages/v1/index.js';
import {
  applyStartedByControlStepPatch,
  applyWorkflowId,
  localControlStepsPatch,
  userSearchAttribute,
  workflowTypes,
} from '../lib/temporal/names.js';
import { controlStepOptions, inspectWorkDirOptions, walkChunkOptions } from '../lib/temporal/activity-profiles.js';
import { failureTypes } from '../lib/temporal/failure-types.js';
import {
  applySummary,
  type ScanOutcome,
  type ScanResumeState,
  type ScanUserInput,
  type ScanUserResult,
} from '../lib/temporal/contracts.js';

/**
 * Database and messaging steps. They are short; Postgres or RabbitMQ being down is the usual reason for a failure,
 * so they retry indefinitely with backoff capped at a minute (the scan must end in exactly one published result).
 */
const remoteControl = proxyActivities<ControlActivities>(controlStepOptions);
const localControl = proxyLocalActivities<ControlActivities>(controlStepOptions);

/**
 * The control steps run as local activities on the worker that runs this workflow (it registers them): each is a
 * millisecond transaction or publish, and as a task of its own it cost the server two task dispatches and a
 * workflow task, most of a scan's server time (BENCHMARKS.md, the pipeline). Runs from before keep their remote
 * activities (patch marker); the retry policy is the same either way.
 */
function control(): ControlActivities {
  return patched(localControlStepsPatch) ? localControl : remoteControl;
}

/** Continue as new well before the history gets large: each chunk records a checkpoint of up to ~256 KB. */
const maxHistoryBytes = 4 * 1024 * 1024;
const maxChunksPerRun = 200;

const volumeKey = defineSearchAttributeKey(volumeSearchAttribute, SearchAttributeType.KEYWORD);
const scanStatusKey = defineSearchAttributeKey(scanStatusSearchAttribute, SearchAttributeType.KEYWORD);

/**
 * Tags the run with its volume and status (XfcVolume, XfcScanStatus), so the Web UI's list can find failed scans
 * and those of one volume. Runs started before this code do not tag (the patch keeps their replay unchanged).
 */
function tagScan(status: ScanStatusValue, volume?: string): void {
  if (!patched('xfc-scan-search-attributes')) return;
  upsertSearchAttributes([
    { key: scanStatusKey, value: status },
    ...(volume ? [{ key: volumeKey, value: volume }] : []),
  ]);
}

export const scanProgressQuery = defineQuery<ScanProgressView | null>('progress');

export interface ScanProgressView {
  username: string;
  scanId: string;
  workDir: string;
  chunks: number;
  progress: ScanProgress | null;
}

/**
 * One user's scan (workflow id `scan-<username>`): resolve the work directory from the database, walk it in
 * bounded, heartbeating chunks on the scan task queue, then publish `scan.completed` (or `scan.failed`, after which
 * the run fails with ApplicationFailure `ScanFailed`; lib/temporal/scan-result.ts reads the result either way).
 */
export async function scanUser(input: ScanUserInput): Promise<ScanUserResult> {
  const { request } = input;
  const scanId = input.resume?.scanId ?? uuid4();
  if (!input.resume) {
    // A request delivered twice (a duplicate, a replay from xfc.dead) is served once.
    const acceptance = await control().acceptScanRequest({
      requestId: request.requestId,
      username: request.username,
      scanId,
    });
    if (!acceptance.accepted) {
      setCurrentDetails(`Request ${request.requestId} was already served by scan ${acceptance.scanId}; nothing to do.`);
      return { type: 'duplicate', requestId: request.requestId, servedBy: acceptance.scanId };
    }
  }
  // Records the scan id as issued for this user and directory: only such results may change usage.
  const target = await control().resolveScanTarget({ username: request.username, scanId });
  if (!target.ok) return fail(request, scanId, target.reason, target.message);
  tagScan('running', target.volume);
  const startedAt = new Date().toISOString(); // workflow time: deterministic, recorded in history
  let state: ScanResumeState = input.resume ?? {
    scanId,
    workDir: target.workDir,
    now: startedAt,
    startedAt,
    ageBasis: target.ageBasis,
    checkpoint: undefined,
    chunks: 0,
  };
  let progress: ScanProgress | null = null;
  let filesSoFar = 0;

  setHandler(scanProgressQuery, () => ({
    username: request.username,
    scanId: state.scanId,
    workDir: state.workDir,
    chunks: state.chunks,
    progress,
  }));

  const scan = proxyActivities<ScanActivities>(inspectWorkDirOptions(target.scanTaskQueue));
  const walker = proxyActivities<ScanActivities>(
    walkChunkOptions({
      taskQueue: target.scanTaskQueue,
      chunkMs: target.chunkMs,
      heartbeatTimeoutMs: target.heartbeatTimeoutMs,
    }),
  );

  try {
    // walkChunk refuses a bad work directory itself before walking, as fast: the separate inspection only costs a
    // round trip now (runs from before the patch keep it).
    if (state.chunks === 0 && state.checkpoint === undefined && !patched(localControlStepsPatch)) {
      await scan.inspectWorkDir({ workDir: state.workDir });
    }
    for (let run = 0; ; run++) {
      const outcome: WalkChunkResult = await walker.walkChunk({
        scanId: state.scanId,
        workDir: state.workDir,
        now: state.now,
        ageBasis: state.ageBasis,
        exclude: target.exclude,
        threads: target.threads,
        budgetMs: target.chunkMs,
        checkpoint: state.checkpoint,
        filesBefore: filesSoFar,
      });
      state = { ...state, chunks: state.chunks + 1, checkpoint: outcome.done ? undefined : outcome.checkpoint };
      progress = outcome.progress;
      filesSoFar = outcome.progress.files;
      setCurrentDetails(describeProgress(state, outcome.progress));
      if (outcome.done) {
        const message: ScanCompleted = {
          version: 1,
          scanId: state.scanId,
          requestId: request.requestId,
          username: request.username,
          workDir: state.workDir,
          now: state.now,
          startedAt: state.startedAt,
          finishedAt: new Date().toISOString(),
          ageBasis: state.ageBasis,
          ...outcome.report,
        };
        await handOff({ type: 'scan.completed', message });
        await control().publishScanCompleted(message);
        tagScan(message.status === 'complete' ? 'complete' : 'partial');
        return { type: 'scan.completed', message };
      }
      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historySize > maxHistoryBytes || run + 1 >= maxChunksPerRun) {
        return await continueAsNew<typeof scanUser>({ request, resume: state });
      }
    }
  } catch (err) {
    const refused = refusal(err);
    if (refused) return fail(request, state.scanId, refused.reason, refused.message);
    if (err instanceof ActivityFailure) {
      return fail(
        request,
        state.scanId,
        'walk-failed',
        `The walk of ${state.workDir} kept failing: ${causeMessage(err)}`,
      );
    }
    throw err;
  }
}

async function fail(
  request: ScanUserInput['request'],
  scanId: string,
  reason: ScanFailureReason,
  text: string,
): Promise<ScanUserResult> {
  const message: ScanFailed = {
    version: 1,
    scanId,
    requestId: request.requestId,
    username: request.username,
    reason,
    message: text.slice(0, 2000),
  };
  setCurrentDetails(`**Scan failed** (${reason}): ${text}`);
  await handOff({ type: 'scan.failed', message });
  await control().publishScanFailed(message);
  tagScan('failed');
  const result: ScanUserResult = { type: 'scan.failed', message };
  // Only now, with the result handed off and published, the run ends as Failed, so the Web UI and
  // `ExecutionStatus="Failed"` show failed scans as failed. Not retryable: a new request starts a new scan. Runs from
  // before this patch complete with the result, as they did.
  if (patched('xfc-scan-failed-fails-workflow')) {
    throw ApplicationFailure.create({
      type: failureTypes.scanFailed,
      message: `Scan of ${request.username} failed (${reason}): ${message.message}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

const xfcUserKey = defineSearchAttributeKey(userSearchAttribute, SearchAttributeType.KEYWORD);

/**
 * Hands the result to `applyScan` inside Temporal: the result carries its authority from the scan that produced it,
 * and RabbitMQ's scan.completed / scan.failed, published next, only informs other consumers (the bridge finds
 * `apply-<scanId>` already started). The application runs to its end (emails included) whatever becomes of this
 * run. A control step starts it: as a child, its start cost a workflow task of its own in every scan (the server's
 * largest cost per scan after the walk, BENCHMARKS.md); runs from before that patch start a child, and runs from
 * before the hand-off (patch 'apply-in-temporal') leave the application to the bridge.
 */
async function handOff(outcome: ScanOutcome): Promise<void> {
  if (!patched('apply-in-temporal')) return;
  if (patched(applyStartedByControlStepPatch)) {
    await control().startApplication(outcome);
    return;
  }
  try {
    await startChild(workflowTypes.applyScan, {
      workflowId: applyWorkflowId(outcome.message.scanId),
      args: [outcome],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: xfcUserKey, value: outcome.message.username }],
      ...applySummary(outcome),
    });
  } catch (err) {
    // Started before (this run retried after the start, or the bridge applied a copy of the same result).
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** The work-directory refusal carried by an activity failure, if that is what it is. */
function refusal(err: unknown): { reason: ScanFailureReason; message: string } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === failureTypes.workDirRefused) {
    return {
      reason: (cause.details?.[0] as ScanFailureReason | undefined) ?? 'work-dir-missing',
      message: cause.message,
    };
  }
  return undefined;
}

function causeMessage(err: ActivityFailure): string {
  return err.cause?.message ?? err.message;
}

/** Markdown shown as "current details" in the Web UI while the scan runs. */
function describeProgress(state: ScanResumeState, progress: ScanProgress): string {
  return [
    `**Scanning** \`${state.workDir}\` (scan ${state.scanId}, age basis ${state.ageBasis})`,
    `- files: ${progress.files}, directories: ${progress.directories}, errors: ${progress.errors}`,
    `- bytes: ${progress.bytes}, byte·days: ${progress.temporalByteDays}`,
    `- current directory: \`${progress.currentDirectory}\``,
    `- chunks: ${state.chunks}, walking time: ${Math.round(progress.elapsedMs / 1000)} s`,
  ].join('\n');
}
