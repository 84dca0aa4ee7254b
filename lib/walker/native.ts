/**
 * The native walker core (lib/walker/native/*.c, built by `npm ci` from binding.gyp into build/Release/xfc_walker.node),
 * as typed functions. See lib/walker/native/addon.c for the contract.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An engine: worker threads and an emitter thread, kept between walks (lib/walker/thread-pool.ts). */
export type Engine = { readonly __brand: 'xfc-walker-engine' };

export interface NativeResume {
  /** The cursor's path components, bytes. */
  components: Buffer[];
  /** "level:cookie" pairs for levels whose unit does not start at the directory's beginning. */
  units: string;
  /** The cursor is past the last component's whole subtree (it could not be entered). */
  subtreeDone: boolean;
}

export interface NativeWalkOptions {
  root: Buffer;
  nowMs: number;
  useMtime: boolean;
  exclude: Buffer[];
  /** Requests in flight on a slow filesystem. */
  threads: number;
  /** 0: adapt to the filesystem's latency; 1: few threads (fast filesystem); 2: `threads` from the start. */
  mode: 0 | 1 | 2;
  resume?: NativeResume;
}

/** Receives record batches in walk order; `final` comes once, last (with `error` if the walk failed). */
export type BatchCallback = (batch: Buffer | null, final: boolean, error: string | null) => void;

interface Addon {
  createEngine(): Engine;
  start(engine: Engine, options: NativeWalkOptions, onBatch: BatchCallback): { dev: number; ino: bigint };
  stop(engine: Engine): void;
  close(engine: Engine): void;
}

/** From lib/walker/ (sources) or dist/lib/walker/ (build): the addon is in the repository's build/Release. */
function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '..', '..', 'build', 'Release', 'xfc_walker.node'),
    join(here, '..', '..', '..', 'build', 'Release', 'xfc_walker.node'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `the native walker is not built (looked for ${candidates.join(' and ')}); run \`npm ci\` or \`npm run build:native\` (needs python3, make and a C compiler).`,
    );
  }
  return found;
}

let addon: Addon | undefined;

export function native(): Addon {
  addon ??= createRequire(import.meta.url)(addonPath()) as Addon;
  return addon;
}
