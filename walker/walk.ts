import { lstat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ScanReport } from '../messages/v1/scan-report.js';
import { checkSettings, type WalkCheckpoint } from './checkpoint.js';
import { BatchReader, type DirRef, type Task, type TaskResult, type WorkerConfig } from './protocol.js';
import { Tally } from './tally.js';
import { endThread, parkWalkerThread, takeWalkerThread } from './thread-pool.js';
import { WorkList, taskFor, type Item, type Node } from './work-list.js';

export interface WalkOptions {
  /** Absolute path of the work directory. */
  root: string;
  /** Reference time for ages, so a scan is reproducible. */
  now: Date;
  ageBasis: 'ctime' | 'mtime';
  /** Names never descended, default ['.snapshot']. */
  exclude?: string[];
  /** Metadata requests in flight (spread over the worker threads); 0/undefined = automatic. */
  threads?: number;
  /** Resume from here. */
  checkpoint?: WalkCheckpoint;
  /** Abort → resolves promptly with { done: false, checkpoint }. */
  signal?: AbortSignal;
  /** Stop after this long with { done: false, checkpoint } (Temporal runs a long walk in chunks). */
  budgetMs?: number;
  /** How often onCheckpoint fires (default 2 s). */
  checkpointIntervalMs?: number;
  onCheckpoint?: (checkpoint: WalkCheckpoint, progress: WalkProgress) => void;
  /** Called a few times per second. */
  onProgress?: (progress: WalkProgress) => void;
  /** Tuning and tests: force synchronous or asynchronous system calls (default: adapt to the filesystem). */
  mode?: 'sync' | 'async';
}

export interface WalkProgress {
  entries: number;
  files: number;
  directories: number;
  bytes: bigint;
  temporalByteDays: bigint;
  errors: number;
  /** Escaped, relative to the root. */
  currentDirectory: string;
  /** Cumulative across resumes. */
  elapsedMs: number;
}

export type WalkOutcome =
  | { done: true; report: ScanReport; progress: WalkProgress }
  | { done: false; checkpoint: WalkCheckpoint; progress: WalkProgress };

/** The walk cannot start: the root is missing, not a directory, or a symlink. */
export class WalkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalkError';
  }
}

/** Defaults: measured on 2-core machines, local disk and a 300 µs latency filesystem (see BENCHMARKS.md). */
const tuning = {
  /** Requests in flight when the filesystem is slow, in total. */
  inFlight: 64,
  maxWorkers: 4,
  /** Tasks queued per worker: synchronous workers run one at a time, asynchronous ones overlap them. */
  syncTasks: 2,
  asyncTasks: 16,
  budgetEntries: 4096,
  budgetMs: 50,
  bigDirectory: 8192,
  chunkSize: 4096,
  slowOpUs: 40,
  /** Records waiting behind a slow task before prefetching pauses. */
  maxBuffered: 20_000,
  /** Records accounted per turn of the event loop (a few ms). */
  accountSlice: 2_000,
  progressMs: 250,
};

/**
 * Walks `root` (DESIGN §2–§3): lstat only, one device, names as bytes, hard links once, errors counted, in a
 * deterministic order so that it can stop at any record and resume exactly. Worker threads do the system calls;
 * this thread only accounts their records in order, so its event loop stays free.
 */
export async function walk(options: WalkOptions): Promise<WalkOutcome> {
  const root = normalizeRoot(options.root);
  const exclude = options.exclude ?? ['.snapshot'];
  const nowMs = options.now.getTime();
  if (!Number.isFinite(nowMs)) throw new WalkError('the reference time `now` is not a valid date.');
  if (options.checkpoint) {
    checkSettings(options.checkpoint, { root, ageBasis: options.ageBasis, now: options.now, exclude });
  }
  const rootStat = await statRoot(root);
  const tally = options.checkpoint ? Tally.fromCheckpoint(options.checkpoint) : new Tally();
  const elapsedBefore = options.checkpoint?.elapsedMs ?? 0;
  const started = performance.now();

  const threads = options.threads && options.threads > 0 ? options.threads : tuning.inFlight;
  const workerCount = Math.max(1, Math.min(threads, availableParallelism(), tuning.maxWorkers));
  const config: WorkerConfig = {
    root: Buffer.from(root, 'utf8').toString('latin1'),
    rootDev: rootStat.dev,
    rootIno: rootStat.ino,
    nowMs,
    ageBasis: options.ageBasis,
    exclude: exclude.map((name) => Buffer.from(name, 'utf8').toString('latin1')),
    maxInFlight: Math.max(1, Math.ceil(threads / workerCount)),
    bigDirectory: tuning.bigDirectory,
    chunkSize: tuning.chunkSize,
    slowOpUs: tuning.slowOpUs,
    mode: options.mode,
  };

  const list = new WorkList();
  const rootRef: DirRef = { rel: '', dev: rootStat.dev, ino: rootStat.ino };
  if (tally.cursor === null) list.push({ kind: 'dirs', dirs: [rootRef], next: 0 });
  else list.push({ kind: 'frontier', rel: tally.cursor.rel, after: tally.cursor.after });

  const progress = (): WalkProgress => ({
    entries: tally.entries,
    files: tally.files,
    directories: tally.directories,
    bytes: tally.bytes,
    temporalByteDays: tally.byteDays,
    errors: tally.errorCount,
    currentDirectory: tally.currentDirectory(),
    elapsedMs: Math.round(elapsedBefore + performance.now() - started),
  });
  const checkpoint = (): WalkCheckpoint => ({
    version: 1,
    root,
    now: options.now.toISOString(),
    ageBasis: options.ageBasis,
    exclude: [...exclude],
    ...tally.toCheckpoint(),
    elapsedMs: Math.round(elapsedBefore + performance.now() - started),
  });

  return new Promise<WalkOutcome>((resolve, reject) => {
    interface Slot {
      worker: Worker;
      running: number;
      mode: 'sync' | 'async';
    }
    const slots: Slot[] = [];
    const running = new Map<number, { node: Node; slot: Slot; item: Item }>();
    let nextTaskId = 1;
    let finished = false;

    const finish = (outcome: WalkOutcome | Error): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const slot of slots) {
        // A thread with nothing running waits for the next walk; one with a task is let finish it and end.
        if (slot.running === 0 && !(outcome instanceof Error)) parkWalkerThread(slot.worker);
        else endThread(slot.worker);
      }
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const stopHere = (): void => finish({ done: false, checkpoint: checkpoint(), progress: progress() });
    const onAbort = (): void => stopHere();

    // A budget stops the walk only after some progress, so a chain of short chunks always advances.
    let accounted = 0;
    const budgetOver = (): boolean =>
      options.budgetMs !== undefined && accounted > 0 && performance.now() - started >= options.budgetMs;

    const capacity = (slot: Slot): number => (slot.mode === 'sync' ? tuning.syncTasks : tuning.asyncTasks);

    const dispatch = (): void => {
      let free = slots.reduce((sum, slot) => sum + Math.max(0, capacity(slot) - slot.running), 0);
      if (free === 0) return;
      const totalCapacity = slots.reduce((sum, slot) => sum + capacity(slot), 0);
      let buffered = 0;
      for (let node = list.head; node !== null && free > 0; node = node.next) {
        const item = node.item;
        if (item.kind === 'done') {
          buffered += item.records.remaining;
          if (buffered > tuning.maxBuffered) return;
          continue;
        }
        if (item.kind !== 'dirs' && item.kind !== 'chunk' && item.kind !== 'frontier') continue;
        while (free > 0) {
          const slot = slots.reduce((best, s) => (capacity(s) - s.running > capacity(best) - best.running ? s : best));
          const id = nextTaskId++;
          if (item.kind === 'dirs') {
            const remaining = item.dirs.length - item.next;
            if (remaining <= 0) break;
            const take = Math.max(1, Math.min(64, Math.ceil(remaining / (2 * totalCapacity))));
            const task = taskFor(item, id, take, { entries: tuning.budgetEntries, ms: tuning.budgetMs }) as Task;
            const [taskNode] = list.insertBefore(node, [{ kind: 'running', taskId: id }]);
            item.next += take;
            start(slot, task, taskNode as Node, item);
            free--;
            if (item.next >= item.dirs.length) break;
          } else {
            const task = taskFor(item, id, 0, { entries: 0, ms: 0 }) as Task;
            list.set(node, { kind: 'running', taskId: id });
            start(slot, task, node, item);
            free--;
            break;
          }
        }
      }
    };

    const start = (slot: Slot, task: Task, node: Node, item: Item): void => {
      running.set(task.id, { node, slot, item });
      slot.running++;
      slot.worker.postMessage(task);
    };

    const complete = (): boolean => list.empty && running.size === 0;
    // Accounts what is ready at the front, a slice at a time so that a backlog never holds the event loop.
    let accountingScheduled = false;
    const account = (): void => {
      for (let slice = 0; slice < tuning.accountSlice; slice++) {
        const record = list.takeRecord();
        if (record === null) {
          if (complete()) finish({ done: true, report: tally.report(), progress: progress() });
          return;
        }
        tally.add(record);
        accounted++;
        if ((options.signal?.aborted || budgetOver()) && !complete()) return stopHere();
      }
      if (!accountingScheduled) {
        accountingScheduled = true;
        setImmediate(() => {
          accountingScheduled = false;
          if (finished) return;
          account();
          if (!finished) dispatch();
        });
      }
    };

    const onResult = (slot: Slot, result: TaskResult): void => {
      if (finished) return;
      if (result.kind === 'error') {
        finish(new Error(`walker worker failed: ${result.message}`));
        return;
      }
      if (result.kind === 'mode') {
        slot.mode = result.mode;
        dispatch();
        return;
      }
      const entry = running.get(result.id);
      if (!entry) return;
      running.delete(result.id);
      slot.running--;
      const { node } = entry;
      if (result.kind === 'walk') {
        list.insertBefore(node, [{ kind: 'done', records: new BatchReader(result.records) }]);
        if (result.big) insertChunks(list, node, result.big.dir, result.big.chunks, true, []);
        list.replace(
          node,
          result.rest.map((dirs): Item => ({ kind: 'dirs', dirs, next: 0 })),
        );
      } else if (result.kind === 'chunk') {
        list.set(node, { kind: 'done', records: new BatchReader(result.records) });
        const item = entry.item;
        if (item.kind === 'chunk') {
          if (result.subdirs.length > 0) list.set(item.slot, { kind: 'dirs', dirs: result.subdirs, next: 0 });
          else list.remove(item.slot);
        }
      } else {
        // Order: the rest of the cursor's directory, its subdirectories up to the cursor, those after it (from
        // the chunks), then each ancestor's later subdirectories.
        list.insertBefore(node, [{ kind: 'done', records: new BatchReader(result.records) }]);
        if (result.remainder) {
          insertChunks(list, node, result.remainder.dir, result.remainder.chunks, false, result.subdirs);
        } else if (result.subdirs.length > 0) {
          list.insertBefore(node, [{ kind: 'dirs', dirs: result.subdirs, next: 0 }]);
        }
        list.replace(
          node,
          result.ancestors.filter((dirs) => dirs.length > 0).map((dirs): Item => ({ kind: 'dirs', dirs, next: 0 })),
        );
      }
      account();
      if (!finished) dispatch();
    };

    const timer = setInterval(() => {
      if (finished) return;
      if (budgetOver()) return stopHere();
      const now = performance.now();
      if (options.onProgress && now - lastProgress >= tuning.progressMs) {
        lastProgress = now;
        options.onProgress(progress());
      }
      if (options.onCheckpoint && now - lastCheckpoint >= (options.checkpointIntervalMs ?? 2000)) {
        lastCheckpoint = now;
        options.onCheckpoint(checkpoint(), progress());
      }
    }, timerPeriod(options));
    let lastProgress = started;
    let lastCheckpoint = started;

    if (options.signal?.aborted) return stopHere();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    for (let i = 0; i < workerCount; i++) {
      const worker = takeWalkerThread();
      const slot: Slot = { worker, running: 0, mode: options.mode ?? 'sync' };
      slots.push(slot);
      worker.on('message', (result: TaskResult) => onResult(slot, result));
      worker.on('error', (err) => finish(new Error(`walker worker crashed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!finished) finish(new Error(`walker worker exited early with code ${code}`));
      });
      worker.postMessage({ config });
    }
    dispatch();
  });
}

/**
 * Inserts before `at` the chunks of a large directory, then `before` (subdirectories that sort before all the
 * chunks' names, when resuming inside the directory), then one slot per chunk for its subdirectories.
 */
function insertChunks(list: WorkList, at: Node, dir: DirRef, chunks: string[], first: boolean, before: DirRef[]): void {
  const chunkNodes = list.insertBefore(
    at,
    chunks.map((): Item => ({ kind: 'slot' })),
  );
  if (before.length > 0) list.insertBefore(at, [{ kind: 'dirs', dirs: before, next: 0 }]);
  const slots = list.insertBefore(
    at,
    chunks.map((): Item => ({ kind: 'slot' })),
  );
  chunks.forEach((names, i) => {
    list.set(chunkNodes[i] as Node, {
      kind: 'chunk',
      dir,
      names,
      first: first && i === 0,
      last: i === chunks.length - 1,
      slot: slots[i] as Node,
    });
  });
}

/** How often the walk checks its budget and emits progress and checkpoints. */
function timerPeriod(options: WalkOptions): number {
  const wanted = Math.min(options.checkpointIntervalMs ?? 2000, tuning.progressMs);
  return Math.max(10, Math.min(50, wanted));
}

function normalizeRoot(root: string): string {
  if (!isAbsolute(root)) throw new WalkError(`the path to scan must be absolute: ${root}`);
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

async function statRoot(root: string): Promise<{ dev: number; ino: number }> {
  let st;
  try {
    st = await lstat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WalkError(`${root} does not exist.`);
    if (code === 'EACCES') throw new WalkError(`${root} cannot be reached: permission denied.`);
    throw new WalkError(`${root} cannot be examined: ${(err as Error).message}`);
  }
  if (st.isSymbolicLink()) {
    throw new WalkError(`${root} is a symbolic link; xfc scans only real directories (give the link's target).`);
  }
  if (!st.isDirectory()) throw new WalkError(`${root} is not a directory.`);
  return { dev: st.dev, ino: st.ino };
}
