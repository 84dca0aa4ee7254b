import type { WalkCheckpoint } from './checkpoint.js';
import { native, type Engine, type NativeWalkOptions } from './native.js';
import { RecordDecoder } from './record-decoder.js';
import type { Tally } from './tally.js';
import { parkEngine, takeEngine } from './thread-pool.js';
import { rootError, type WalkOptions, type WalkOutcome, type WalkProgress } from './options.js';
import { errorMessage } from '../common/errors.js';

const progressMs = 250;

/**
 * One walk: starts the native engine, accounts its record batches in walk order, and stops at a record
 * boundary on abort or when the budget is spent (the checkpoint is then exact). Batches come through a short
 * queue, so the engine waits while this thread is busy; each batch is a few hundred records at most.
 */
export class WalkSession {
  private engine: Engine | null = null;
  private finished = false;
  private accounted = 0;
  private readonly started = performance.now();
  private readonly elapsedBefore: number;
  private lastProgress = this.started;
  private lastCheckpoint = this.started;
  private timer: NodeJS.Timeout | undefined;
  private resolve: (outcome: WalkOutcome) => void = () => undefined;
  private reject: (err: Error) => void = () => undefined;
  private readonly onAbort = (): void => this.stopHere();

  constructor(
    private readonly options: WalkOptions & { exclude: string[] },
    private readonly tally: Tally,
  ) {
    this.elapsedBefore = options.checkpoint?.elapsedMs ?? 0;
  }

  run(): Promise<WalkOutcome> {
    return new Promise<WalkOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      const { signal } = this.options;
      if (signal?.aborted) return this.stopHere();
      signal?.addEventListener('abort', this.onAbort, { once: true });
      this.timer = setInterval(() => this.tick(), timerPeriod(this.options));
      const engine = takeEngine();
      try {
        native().start(engine, this.nativeOptions(), (batch, final, error) => this.onBatch(batch, final, error));
      } catch (err) {
        parkEngine(engine);
        const code = (err as NodeJS.ErrnoException).code;
        return this.fail(code ? rootError(this.options.root, code, errorMessage(err)) : (err as Error));
      }
      this.engine = engine;
    });
  }

  private nativeOptions(): NativeWalkOptions {
    const { options } = this;
    const cursor = this.tally.cursor;
    const threads = options.threads && options.threads > 0 ? options.threads : 64;
    return {
      root: Buffer.from(options.root, 'utf8'),
      nowMs: options.now.getTime(),
      useMtime: options.ageBasis === 'mtime',
      exclude: options.exclude.map((name) => Buffer.from(name, 'utf8')),
      threads,
      mode: options.mode === 'sync' ? 1 : options.mode === 'async' ? 2 : 0,
      resume: cursor
        ? {
            components: cursor.rel === '' ? [] : cursor.rel.split('/').map((c) => Buffer.from(c, 'latin1')),
            units: cursor.units ?? '',
            subtreeDone: cursor.subtreeDone === true,
          }
        : undefined,
    };
  }

  private onBatch(batch: Buffer | null, final: boolean, error: string | null): void {
    if (final) {
      const engine = this.engine;
      this.engine = null;
      if (engine) parkEngine(engine);
      if (this.finished) return;
      if (error) return this.fail(new Error(`the native walker failed: ${error}`));
      return this.finish({ done: true, report: this.tally.report(), progress: this.progress() });
    }
    if (this.finished || batch === null) return;
    const decoder = new RecordDecoder(batch);
    while (!decoder.done) {
      this.tally.add(decoder.next());
      this.accounted++;
      if (this.options.signal?.aborted || this.budgetOver()) return this.stopHere();
    }
    this.tick();
  }

  /** A budget stops the walk only after some progress, so a chain of short chunks always advances. */
  private budgetOver(): boolean {
    const { budgetMs } = this.options;
    return budgetMs !== undefined && this.accounted > 0 && performance.now() - this.started >= budgetMs;
  }

  private tick(): void {
    if (this.finished) return;
    if (this.budgetOver()) return this.stopHere();
    const now = performance.now();
    const { onProgress, onCheckpoint, checkpointIntervalMs } = this.options;
    if (onProgress && now - this.lastProgress >= progressMs) {
      this.lastProgress = now;
      onProgress(this.progress());
    }
    if (onCheckpoint && now - this.lastCheckpoint >= (checkpointIntervalMs ?? 2000)) {
      this.lastCheckpoint = now;
      onCheckpoint(this.checkpoint(), this.progress());
    }
  }

  private stopHere(): void {
    if (this.finished) return;
    if (this.engine) native().stop(this.engine);
    this.finish({ done: false, checkpoint: this.checkpoint(), progress: this.progress() });
  }

  private finish(outcome: WalkOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
    this.resolve(outcome);
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.engine) native().stop(this.engine);
    this.cleanup();
    this.reject(err);
  }

  private cleanup(): void {
    clearInterval(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private elapsedMs(): number {
    return Math.round(this.elapsedBefore + performance.now() - this.started);
  }

  private progress(): WalkProgress {
    const { tally } = this;
    return {
      entries: tally.entries,
      files: tally.files,
      directories: tally.directories,
      bytes: tally.bytes,
      temporalByteDays: tally.byteDays,
      errors: tally.errorCount,
      currentDirectory: tally.currentDirectory(),
      elapsedMs: this.elapsedMs(),
    };
  }

  private checkpoint(): WalkCheckpoint {
    const { options } = this;
    return {
      version: 1,
      root: options.root,
      now: options.now.toISOString(),
      ageBasis: options.ageBasis,
      exclude: [...options.exclude],
      ...this.tally.toCheckpoint(),
      elapsedMs: this.elapsedMs(),
    };
  }
}

/** How often the walk checks its budget and emits progress and checkpoints. */
function timerPeriod(options: WalkOptions): number {
  const wanted = Math.min(options.checkpointIntervalMs ?? 2000, progressMs);
  return Math.max(10, Math.min(50, wanted));
}
