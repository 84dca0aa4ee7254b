import { lstat, readdir, stat, statfs } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { UsageError, errorMessage } from '../common/errors.js';
import { usernameProblem } from '../common/username.js';
import { decodeName } from './names.js';

/**
 * Finds `<root>/vol*\/user_cache/<name>` directories, reading only: lstat and readdir, never following a symbolic
 * link, never writing. Names are read as bytes so that undecodable ones are reported rather than mangled.
 */

export interface DiscoveredVolume {
  /** `vol5` */
  name: string;
  /** `<root>/vol5`: the mountpoint Django records. */
  mountpoint: string;
  excluded: boolean;
  /** Total size of the volume's filesystem (f_blocks × f_bsize); null when the volume is excluded or unusable. */
  sizeBytes: bigint | null;
  /** Why the volume cannot hold users (no user_cache directory, a symlink, unreadable); undefined when usable. */
  problem?: string;
}

export interface FoundDirectory {
  username: string;
  volume: string;
}

export interface SkippedEntry {
  /** Where it was found, e.g. `vol5/user_cache/Bad Name` (escaped). */
  path: string;
  reason: string;
}

export interface Discovery {
  root: string;
  volumes: DiscoveredVolume[];
  directories: FoundDirectory[];
  skipped: SkippedEntry[];
  /** Names given to --exclude that match no volume. */
  unknownExcludes: string[];
}

const volumePattern = /^vol[A-Za-z0-9._-]*$/;

export async function discoverUserDirectories(root: string, options: { exclude: string[] }): Promise<Discovery> {
  const rootStats = await stat(root).catch((err: unknown) => {
    throw new UsageError(`--root ${root}: ${errorMessage(err)}. Give the directory that holds the vol* volumes.`);
  });
  if (!rootStats.isDirectory()) throw new UsageError(`--root ${root} is not a directory.`);

  const exclude = new Set(options.exclude);
  const discovery: Discovery = { root, volumes: [], directories: [], skipped: [], unknownExcludes: [] };
  const entries = await readdir(root, { encoding: 'buffer' });
  const volumeNames: string[] = [];
  for (const entry of entries) {
    const { text, shown } = decodeName(entry);
    if (text === undefined || !text.startsWith('vol')) continue;
    if (!volumePattern.test(text)) {
      discovery.skipped.push({ path: shown, reason: 'not a volume name (vol followed by letters, digits, . _ -)' });
      continue;
    }
    volumeNames.push(text);
  }
  volumeNames.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  discovery.unknownExcludes = [...exclude].filter((name) => !volumeNames.includes(name));

  for (const name of volumeNames) {
    const mountpoint = `${root}/${name}`;
    if (exclude.has(name)) {
      discovery.volumes.push({ name, mountpoint, excluded: true, sizeBytes: null });
      continue;
    }
    const volume = await inspectVolume(name, mountpoint);
    discovery.volumes.push(volume.volume);
    discovery.directories.push(...volume.directories);
    discovery.skipped.push(...volume.skipped);
  }
  return discovery;
}

async function inspectVolume(
  name: string,
  mountpoint: string,
): Promise<{ volume: DiscoveredVolume; directories: FoundDirectory[]; skipped: SkippedEntry[] }> {
  const unusable = (problem: string): { volume: DiscoveredVolume; directories: []; skipped: [] } => ({
    volume: { name, mountpoint, excluded: false, sizeBytes: null, problem },
    directories: [],
    skipped: [],
  });
  const volumeType = await typeOf(mountpoint);
  if (volumeType !== 'directory') return unusable(volumeType);
  const userCache = `${mountpoint}/user_cache`;
  const cacheType = await typeOf(userCache);
  if (cacheType !== 'directory') return unusable(`user_cache: ${cacheType}`);

  let sizeBytes: bigint;
  let names: Buffer[];
  try {
    const fs = await statfs(mountpoint, { bigint: true });
    sizeBytes = fs.blocks * fs.bsize;
    names = await readdir(userCache, { encoding: 'buffer' });
  } catch (err) {
    return unusable(`cannot read: ${errorMessage(err)}`);
  }

  const directories: FoundDirectory[] = [];
  const skipped: SkippedEntry[] = [];
  for (const entry of names) {
    const { text, shown } = decodeName(entry);
    const path = `${name}/user_cache/${shown}`;
    if (text === undefined) {
      skipped.push({ path, reason: 'name is not valid UTF-8' });
      continue;
    }
    const problem = usernameProblem(text);
    if (problem !== undefined) {
      skipped.push({ path, reason: `not a username: ${problem}` });
      continue;
    }
    const type = await typeOf(Buffer.concat([Buffer.from(`${userCache}/`), entry]));
    if (type !== 'directory') {
      skipped.push({ path, reason: type });
      continue;
    }
    directories.push({ username: text, volume: name });
  }
  directories.sort((a, b) => a.username.localeCompare(b.username));
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  return { volume: { name, mountpoint, excluded: false, sizeBytes }, directories, skipped };
}

/** 'directory', or what else the path is, in words (symbolic links are never followed). */
async function typeOf(path: string | Buffer): Promise<string> {
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : `cannot read (${code ?? errorMessage(err)})`;
  }
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'a symbolic link (not followed)';
  if (stats.isFile()) return 'not a directory (a regular file)';
  return 'not a directory (a special file)';
}
