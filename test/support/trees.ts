import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `count` files of `size` bytes spread over `dirs` directories under `dir`. */
export function writeFiles(dir: string, options: { dirs: number; filesPerDir: number; size: number }): void {
  const content = Buffer.alloc(options.size, 120);
  for (let d = 0; d < options.dirs; d++) {
    const sub = join(dir, `d${String(d).padStart(4, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < options.filesPerDir; f++) writeFileSync(join(sub, `f${f}`), content);
  }
}

/** A user work directory `<root>/<volume>/user_cache/<name>` with some files; returns its path. */
export function makeWorkDir(
  root: string,
  volume: string,
  name: string,
  files: { dirs: number; filesPerDir: number; size: number } = { dirs: 3, filesPerDir: 5, size: 1000 },
): string {
  const workDir = join(root, volume, 'user_cache', name);
  mkdirSync(workDir, { recursive: true });
  writeFiles(workDir, files);
  return workDir;
}

/** A user "directory" that is a symbolic link to `target`. */
export function makeSymlinkedWorkDir(root: string, volume: string, name: string, target: string): string {
  const path = join(root, volume, 'user_cache', name);
  mkdirSync(join(root, volume, 'user_cache'), { recursive: true });
  symlinkSync(target, path);
  return path;
}
