import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why the small C helpers of test/support cannot be built here, or false when gcc is present. */
export function cannotCompile(): string | false {
  return spawnSync('gcc', ['--version']).status === 0 ? false : 'gcc is not installed (it builds a C helper)';
}

/** Compiles test/support/`name`.c into `dir`/`name` (warnings are errors) and returns the program's path. */
export function buildCHelper(name: string, dir: string): string {
  const source = fileURLToPath(new URL(`./${name}.c`, import.meta.url));
  const program = join(dir, name);
  const built = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', program, source], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`gcc ${source}: ${built.stderr}`);
  return program;
}
