import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { XfcConfig } from '../../lib/config/env.js';
import { xfcCommand } from '../../lib/common/invocation.js';

/** Where `xfc dev` and `xfc demo` keep their state, all under XFC_VAR_DIR (./var by default; git ignores it). */
export interface DevPaths {
  varDir: string;
  /** The Temporal dev server's SQLite file: workflows, schedules and history survive restarts. */
  temporalDb: string;
  /** The mail sink's .eml files. */
  mailDir: string;
  /** The demo's /work/xfc-like tree (two volumes). */
  demoRoot: string;
  /** What a running `xfc dev` publishes about itself (see dev-state.ts). */
  stateFile: string;
}

export function devPaths(config: Pick<XfcConfig, 'varDir'>, cwd: string = process.cwd()): DevPaths {
  const varDir = resolve(cwd, config.varDir);
  return {
    varDir,
    temporalDb: join(varDir, 'temporal', 'temporal.db'),
    mailDir: join(varDir, 'mail'),
    demoRoot: join(varDir, 'demo', 'xfc'),
    stateFile: join(varDir, 'dev.json'),
  };
}

/** The production default of XFC_ROOT, which `xfc dev` uses when it exists. */
export const productionRoot = '/work/xfc';

export interface DevRoot {
  path: string;
  /** Why this root, when it is not the one XFC_ROOT names. */
  note?: string;
}

/**
 * The XFC root for a development stack: XFC_ROOT when set; else /work/xfc when this machine has it; else the demo
 * tree, so that a fresh clone scans something without any configuration.
 */
export function devRoot(
  config: Pick<XfcConfig, 'scan' | 'varDir'>,
  env: Record<string, string | undefined> = process.env,
): DevRoot {
  if (env.XFC_ROOT?.trim()) return { path: config.scan.root };
  if (existsSync(productionRoot)) return { path: productionRoot };
  return {
    path: devPaths(config).demoRoot,
    note: `XFC_ROOT is unset and ${productionRoot} does not exist: the demo tree, which \`${xfcCommand('demo')}\` fills`,
  };
}
