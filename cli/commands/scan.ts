import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode, UsageError, UserError } from '../../lib/common/errors.js';
import { usernameProblem } from '../../lib/common/username.js';
import { loadScanConfig } from '../../lib/config/env.js';
// walk.js, not the walker's index.js: the index also exports parseCheckpoint, and with it zod (~85 million
// instructions of start-up, callgrind), which a scan without --checkpoint never needs.
import { walk, WalkError, type WalkOutcome, type WalkProgress } from '../../lib/walker/walk.js';
import { formatProgressLine, formatScanReport, scanJson } from '../scan-output.js';

export interface ScanArgs {
  path: string;
  username?: string;
  json: boolean;
  now?: string;
  'age-basis'?: 'ctime' | 'mtime';
  checkpoint?: string;
  threads?: number;
  exclude?: string[];
}

export const scanCommand: CommandModule<object, ScanArgs> = {
  command: 'scan <path>',
  describe: 'Measure one directory now: hard and temporal usage, top directories, ages (read-only)',
  builder: (yargs) =>
    yargs
      .positional('path', { type: 'string', demandOption: true, describe: 'directory to scan (a symlink is refused)' })
      .option('username', { type: 'string', describe: 'whose directory it is (labels the output)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object (byte figures as strings)' })
      .option('now', { type: 'string', describe: 'reference time for ages, ISO 8601 (default: now)' })
      .option('age-basis', {
        choices: ['ctime', 'mtime'] as const,
        describe: 'which time a file’s age counts from (default: XFC_AGE_BASIS, normally ctime)',
      })
      .option('checkpoint', {
        type: 'string',
        describe: 'save progress here every few seconds and on Ctrl-C; resume from it; removed when done',
      })
      .option('threads', {
        type: 'number',
        describe: 'metadata requests in flight on a slow filesystem (default: XFC_SCAN_THREADS, 0 = automatic)',
      })
      .option('exclude', {
        type: 'string',
        array: true,
        nargs: 1, // one name per flag: `--exclude .snapshot /path` must leave /path to be the directory
        describe:
          'a name never descended; repeat for more (default: XFC_EXCLUDE, normally .snapshot; --exclude "" excludes nothing)',
      })
      .example('$0 scan /work/xfc/vol1/user_cache/alice', 'totals, top directories and ages')
      .example('$0 scan --json --checkpoint /tmp/alice.ckpt $PWD', 'resumable, for scripts')
      .epilog(
        'Exit status: 0 complete, 3 partial (some entries could not be read: the totals are a lower bound), ' +
          '2 bad usage, 1 failure or interrupted. On a slow (network) filesystem the walker keeps up to --threads ' +
          'metadata requests in flight (64 unless set); on a fast one it uses as many threads as cores.',
      ),
  handler: (args) => runScan(args),
};

/** The value options of `xfc scan`, as `quickScanArgs` knows them (the builder above is the reference). */
const valueOptions = new Set(['username', 'now', 'age-basis', 'checkpoint', 'threads', 'exclude']);

/**
 * `xfc scan`'s arguments in their plain forms (`--json`, `--name value`, `--name=value`, one path), without
 * loading yargs: yargs and its terminal-width helpers are ~150 ms of CPU at start-up, a fifth of a 200k-file scan.
 * Anything else — help, a misspelt or repeated option, a value that looks like an option, a malformed number or
 * choice, a second path — returns null, and yargs parses the command line and says what is wrong, as always.
 * test/cli/scan-args.test.ts checks that both parsers agree.
 */
export function quickScanArgs(argv: readonly string[]): ScanArgs | null {
  const args: ScanArgs = { path: '', json: false };
  const seen = new Set<string>();
  let path: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('-')) {
      if (path !== undefined) return null;
      path = token;
      continue;
    }
    if (token === '--json') {
      if (seen.has('json')) return null;
      seen.add('json');
      args.json = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(token);
    const name = match?.[1];
    if (match === null || name === undefined || !valueOptions.has(name)) return null;
    const value = match[2] ?? argv[++i];
    if (value === undefined || value.startsWith('-')) return null;
    if (name === 'exclude') {
      (args.exclude ??= []).push(value);
      continue;
    }
    if (seen.has(name)) return null;
    seen.add(name);
    if (name === 'threads') {
      if (!/^\d{1,9}$/.test(value)) return null;
      args.threads = Number(value);
    } else if (name === 'age-basis') {
      if (value !== 'ctime' && value !== 'mtime') return null;
      args['age-basis'] = value;
    } else if (name === 'username') args.username = value;
    else if (name === 'now') args.now = value;
    else args.checkpoint = value;
  }
  if (path === undefined || path === '') return null;
  args.path = path;
  return args;
}

/** `xfc scan`, with its arguments parsed (by yargs or by `quickScanArgs`). */
export async function runScan(args: ScanArgs): Promise<void> {
  const settings = loadScanConfig();
  const root = resolve(args.path);
  if (args.username !== undefined) {
    const problem = usernameProblem(args.username);
    if (problem) throw new UsageError(`--username ${JSON.stringify(args.username)} is not valid: it ${problem}.`);
  }
  if (args.threads !== undefined && !(Number.isInteger(args.threads) && args.threads >= 0 && args.threads <= 1024)) {
    throw new UsageError(`--threads must be a whole number from 0 (automatic) to 1024, not ${args.threads}.`);
  }
  const exclude = args.exclude?.filter((name) => name !== '');
  for (const name of exclude ?? []) {
    if (name.includes('/') || name === '.' || name === '..') {
      throw new UsageError(`--exclude takes names, not paths: ${JSON.stringify(name)}.`);
    }
  }
  // Checkpoint files (validated with zod) are loaded only for --checkpoint.
  const files =
    args.checkpoint === undefined ? null : { path: args.checkpoint, ...(await import('../scan-checkpoint.js')) };
  // Resuming: settings not given on the command line come from the checkpoint, so the same command resumes.
  const saved = files ? files.peekCheckpointSettings(files.path) : {};
  const nowText = args.now ?? saved.now;
  const now = nowText === undefined ? new Date() : new Date(nowText);
  if (Number.isNaN(now.getTime())) {
    throw new UsageError(
      `--now ${JSON.stringify(args.now)} is not a date and time; write ISO 8601, e.g. 2026-01-15T12:00:00Z.`,
    );
  }
  const ageBasis = args['age-basis'] ?? saved.ageBasis ?? settings.ageBasis;
  const excluded = exclude ?? saved.exclude ?? settings.exclude;
  const checkpoint = files
    ? files.loadCheckpointFile(files.path, { root, ageBasis, now, exclude: excluded })
    : undefined;

  const showProgress = !args.json && process.stdout.isTTY === true && process.stderr.isTTY === true;
  const controller = new AbortController();
  let interruptedBy: string | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    interruptedBy = signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: WalkOutcome;
  try {
    outcome = await walk({
      root,
      now,
      ageBasis,
      exclude: excluded,
      threads: args.threads ?? settings.threads,
      checkpoint,
      signal: controller.signal,
      // As often as a scan worker heartbeats (XFC_SCAN_HEARTBEAT_INTERVAL, 5 s by default).
      checkpointIntervalMs: settings.heartbeatIntervalMs,
      ...(files ? { onCheckpoint: (next) => files.saveCheckpointFile(files.path, next) } : {}),
      ...(showProgress ? { onProgress: (progress: WalkProgress) => drawProgress(progress) } : {}),
    });
  } catch (err) {
    if (err instanceof WalkError) throw new UserError(`Cannot scan: ${err.message}`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (showProgress) process.stderr.write('\r\x1b[2K');
  }

  if (!outcome.done) {
    if (files) {
      files.saveCheckpointFile(files.path, outcome.checkpoint);
      throw new UserError(
        `Interrupted by ${interruptedBy ?? 'a signal'} after ${outcome.progress.entries} entries; progress is saved in ` +
          `${files.path}. Run the same command again to resume.`,
      );
    }
    throw new UserError(
      `Interrupted by ${interruptedBy ?? 'a signal'}; nothing was saved (with --checkpoint FILE a scan can resume).`,
    );
  }
  if (files) files.removeCheckpointFile(files.path);
  const header = { root, now, ageBasis, ...(args.username !== undefined ? { username: args.username } : {}) };
  console.log(
    args.json ? scanJson(outcome.report, header) : formatScanReport(outcome.report, header, outcome.progress),
  );
  process.exitCode = outcome.report.status === 'complete' ? ExitCode.ok : ExitCode.partial;
}

function drawProgress(progress: WalkProgress): void {
  process.stderr.write(`\r\x1b[2K${formatProgressLine(progress, process.stderr.columns || 80)}`);
}
