/** Exponential backoff with jitter: attempt 1 waits about `initialMs`, each next one twice as long, up to `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay added or removed at random, so that many clients do not retry in step. */
  jitter?: number;
}

export function backoffDelay(attempt: number, backoff: Backoff): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1));
  const jitter = backoff.jitter ?? 0;
  const offset = jitter > 0 ? (Math.random() * 2 - 1) * jitter * base : 0;
  return Math.max(0, Math.min(backoff.maxMs, Math.round(base + offset)));
}

/** Resolves after `ms`, or at once when `signal` aborts (a stopping process does not wait out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
