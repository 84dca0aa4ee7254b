import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ScanFailureReason } from '../lib/messages/v1/index.js';

export type WorkDirVerdict = { ok: true } | { ok: false; reason: ScanFailureReason; message: string };

/** True when `path` lies strictly inside `root` (both absolute, compared after normalisation). */
export function isInside(path: string, root: string): boolean {
  const normalisedRoot = resolve(root);
  const normalised = resolve(path);
  return normalised.startsWith(normalisedRoot === '/' ? '/' : `${normalisedRoot}/`) && normalised !== normalisedRoot;
}

/**
 * Checks a work directory path before anything walks it, from the path alone (no filesystem access): it must be
 * absolute and under XFC_ROOT. This runs where the database is, so a bad row is refused even where the volumes
 * are not mounted.
 */
export function checkWorkDirPath(workDir: string, root: string): WorkDirVerdict {
  if (!isAbsolute(workDir) || !isInside(workDir, root)) {
    return { ok: false, reason: 'work-dir-outside-root', message: `${workDir} is not under XFC_ROOT (${root}).` };
  }
  return { ok: true };
}

/**
 * Checks a work directory on the host that will walk it: it must exist, be a real directory (not a symlink), and
 * resolve to a place under XFC_ROOT, so no database row or symlink can point the scanner elsewhere.
 */
export async function inspectWorkDirOnDisk(workDir: string, root: string): Promise<WorkDirVerdict> {
  const byPath = checkWorkDirPath(workDir, root);
  if (!byPath.ok) return byPath;
  let stats;
  try {
    stats = await lstat(workDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { ok: false, reason: 'work-dir-missing', message: `${workDir} does not exist.` };
    }
    throw err; // EACCES on an ancestor, EIO…: a problem of this host, worth a retry
  }
  if (stats.isSymbolicLink()) {
    return {
      ok: false,
      reason: 'work-dir-symlink',
      message: `${workDir} is a symbolic link; xfc never follows links.`,
    };
  }
  if (!stats.isDirectory()) {
    return { ok: false, reason: 'work-dir-not-directory', message: `${workDir} is not a directory.` };
  }
  const [realDir, realRoot] = await Promise.all([realpath(workDir), realpath(root)]);
  if (!isInside(realDir, realRoot)) {
    return {
      ok: false,
      reason: 'work-dir-outside-root',
      message: `${workDir} resolves to ${realDir}, outside XFC_ROOT (${realRoot}): a parent directory is a link.`,
    };
  }
  return { ok: true };
}
