import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Why mounts cannot be tested here, or false when they can (root, util-linux's unshare, mount namespaces). */
export function cannotMount(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to mount';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot make a private mount namespace (${probe.stderr.trim() || 'unshare failed'})`;
  return false;
}

/**
 * Runs `setup` (a shell script that mounts things: `mount --bind`, `mount -t tmpfs`) and then `command`, both in a
 * new private mount namespace: the mounts exist only for that process and vanish with it, whatever happens to the
 * test, so nothing is left mounted over the temporary directories that the test removes afterwards. The command
 * runs from the repository's root; `env` is added to the environment.
 */
export function runWithMounts(
  setup: string,
  command: string[],
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', `set -eu\n${setup}\nexec "$@"`, 'sh', ...command],
    { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 },
  );
}
