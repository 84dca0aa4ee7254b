import { native, type Engine } from './native.js';

/**
 * Walker engines kept warm between walks. An engine is the native walker's threads (started as a walk needs
 * them, up to its `threads`); a sweep walks thousands of small work directories one after another, and each can
 * reuse the threads of the last. At most `idleLimit` wait, each for at most `idleMs`; a waiting engine holds no
 * descriptor and no state of its last walk, and never keeps the process alive (its threads sleep on a condition
 * variable; only a running walk holds the event loop).
 */

const idleLimit = 8;
const idleMs = 30_000;

interface Parked {
  engine: Engine;
  timer: NodeJS.Timeout;
}

const parked: Parked[] = [];

/** An engine with no walk: a parked one when there is one, else a new one. */
export function takeEngine(): Engine {
  const idle = parked.pop();
  if (idle) {
    clearTimeout(idle.timer);
    return idle.engine;
  }
  return native().createEngine();
}

/** Gives back an engine whose walk has ended (its final message came): parked, or closed when enough wait. */
export function parkEngine(engine: Engine): void {
  if (parked.length >= idleLimit) {
    native().close(engine);
    return;
  }
  const entry: Parked = {
    engine,
    timer: setTimeout(() => {
      const at = parked.indexOf(entry);
      if (at >= 0) parked.splice(at, 1);
      native().close(engine);
    }, idleMs),
  };
  entry.timer.unref();
  parked.push(entry);
}

/** How many engines wait (tests). */
export function parkedWalkerThreads(): number {
  return parked.length;
}
