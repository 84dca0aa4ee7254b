import { Worker } from 'node:worker_threads';
import { walkerWorkerSource } from './dir-worker.js';

/**
 * Walker threads kept warm between walks. A thread costs ~40 ms to start on these machines, which was most of a
 * walk of a small work directory (2,000 of them in a sweep: 60 ms each, 45 of them start-up); it costs ~10 MB to
 * keep, so at most `idleLimit` wait, each for at most `idleMs`, and a waiting thread never keeps the process alive.
 * Only a thread that finished every task it was given is parked: it holds no directory and no state of the last
 * walk but what the next walk's configuration message replaces.
 */

const idleLimit = 8;
const idleMs = 30_000;
/**
 * Stats objects die young: a small young generation keeps each thread's memory down at no cost in speed (on the
 * flat 200k directory: peak RSS 148 MB with V8's default, 117 MB with 4 MB, same speed).
 */
const youngGenerationMb = 4;

interface Parked {
  worker: Worker;
  timer: NodeJS.Timeout;
}

const parked: Parked[] = [];
let source: string | undefined;

/** A walker thread: a parked one when there is one, else a new one. Its listeners are the caller's to add. */
export function takeWalkerThread(): Worker {
  const idle = parked.pop();
  if (idle) {
    clearTimeout(idle.timer);
    forgetListeners(idle.worker);
    idle.worker.ref();
    return idle.worker;
  }
  source ??= walkerWorkerSource();
  return new Worker(source, {
    eval: true,
    stdout: false,
    stderr: false,
    resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb },
  });
}

/** Gives back a thread that has no task running: parked for the next walk, or told to end when enough wait. */
export function parkWalkerThread(worker: Worker): void {
  forgetListeners(worker);
  worker.unref();
  if (parked.length >= idleLimit) {
    endThread(worker);
    return;
  }
  const entry: Parked = {
    worker,
    timer: setTimeout(() => {
      unpark(entry);
      endThread(worker);
    }, idleMs),
  };
  entry.timer.unref();
  // A parked thread that fails or exits is simply forgotten; the next walk starts a new one.
  worker.on('error', () => unpark(entry));
  worker.on('exit', () => unpark(entry));
  parked.push(entry);
}

/** Tells a thread to finish what it runs and end (an interrupted task would leak its directory's descriptor). */
export function endThread(worker: Worker): void {
  if (worker.listenerCount('error') === 0) worker.on('error', () => undefined);
  worker.postMessage({ stop: true });
  worker.unref();
}

/** How many threads wait (tests). */
export function parkedWalkerThreads(): number {
  return parked.length;
}

/**
 * Removes the listeners a walk (or the pool) added. Only these events: a Worker keeps its own 'newListener' and
 * 'removeListener' hooks, which start its message port when a 'message' listener comes; without them the next
 * walk would never hear from the thread.
 */
function forgetListeners(worker: Worker): void {
  for (const event of ['message', 'error', 'exit', 'online', 'messageerror']) worker.removeAllListeners(event);
}

function unpark(entry: Parked): void {
  clearTimeout(entry.timer);
  const at = parked.indexOf(entry);
  if (at >= 0) parked.splice(at, 1);
}
