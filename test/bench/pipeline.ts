/**
 * `npm run bench:pipeline [-- --users 2000 --max-walks 4 --prefetch 10 --threads 0 --over-every 20
 *  --scan-workers 1 --control-workers 1 --runs dev:1x1,server:1x1,server:2x2]`: the whole pipeline under load.
 * Creates N users with small work directories (tmpfs), backfills them, puts every k-th over quota, then one sweep
 * claims them all and the real bridge, control workers and scan workers (child processes, as separate hosts would
 * run them) scan, apply and email them through real RabbitMQ, Temporal, Postgres and SMTP. Prints the wall time,
 * scans per minute, the time per scan beyond the walk itself (the walker timed alone on the same directories),
 * where the CPU went, and checks that every user got exactly one scan record and nobody two emails.
 *
 * `--runs` measures several set-ups one after another in one invocation, each on a fresh stack, and ends with a
 * table: `dev` is `temporal server start-dev` (SQLite), `server` the real server on PostgreSQL (deploy/temporal/),
 * `SxC` the number of scan and control worker processes. Without `--runs`, one run on XFC_TEST_TEMPORAL's server
 * (dev by default) with --scan-workers × --control-workers.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { sql } from 'slonik';
import { z } from 'zod';
import { workflowTypes } from '../../lib/temporal/names.js';
import { walk } from '../../lib/walker/index.js';
import { putOverQuota, registerUsers, workDirOf, writeSmallTrees } from '../faults/harness/fixtures.js';
import { executions, historyOf, scansPerUser, until } from '../faults/harness/observe.js';
import { describePhases, phases, sumPhases } from '../faults/harness/trace.js';
import { describeLedger, ledger, ledgerChecks, startSweep } from '../faults/harness/pipeline.js';
import type { XfcChild } from '../faults/harness/processes.js';
import { startFaultStack } from '../faults/harness/stack.js';
import { testTemporalKind, type TestTemporalKind } from '../support/temporal.js';

interface Options {
  users: number;
  maxWalks: number;
  prefetch: number;
  threads: number;
  overEvery: number;
  scanWorkers: number;
  controlWorkers: number;
  runs: Setup[];
}

/** One measured set-up: which Temporal server, and how many worker processes of each role. */
interface Setup {
  temporal: TestTemporalKind;
  scanWorkers: number;
  controlWorkers: number;
}

const usage =
  'usage: npm run bench:pipeline -- [--users N] [--max-walks N] [--prefetch N] [--threads N] [--over-every K] ' +
  '[--scan-workers N] [--control-workers M] [--runs dev:1x1,server:1x1,server:2x2]';

function parseRuns(value: string | undefined): Setup[] | undefined {
  const runs = value?.split(',').map((item) => /^(dev|server):([1-9]\d*)x([1-9]\d*)$/.exec(item.trim()));
  if (!runs || runs.length === 0 || runs.some((run) => !run)) return undefined;
  return runs.map((run) => ({
    temporal: run![1] as TestTemporalKind,
    scanWorkers: Number(run![2]),
    controlWorkers: Number(run![3]),
  }));
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    users: 2000,
    maxWalks: 4,
    prefetch: 10,
    threads: 0,
    overEvery: 20,
    scanWorkers: 1,
    controlWorkers: 1,
    runs: [],
  };
  const names: Record<string, Exclude<keyof Options, 'runs'>> = {
    '--users': 'users',
    '--max-walks': 'maxWalks',
    '--prefetch': 'prefetch',
    '--threads': 'threads',
    '--over-every': 'overEvery',
    '--scan-workers': 'scanWorkers',
    '--control-workers': 'controlWorkers',
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') {
      const runs = parseRuns(argv[++i]);
      if (!runs) {
        console.error(`bench:pipeline: bad --runs ${argv[i] ?? ''}: a list like dev:1x1,server:2x2`);
        console.error(usage);
        process.exit(2);
      }
      options.runs = runs;
      continue;
    }
    const key = names[argv[i]!];
    const value = Number(argv[++i]);
    if (!key || !Number.isInteger(value) || value < 0) {
      console.error(`bench:pipeline: bad argument ${argv[i - 1]} ${argv[i] ?? ''}`);
      console.error(usage);
      process.exit(2);
    }
    options[key] = value;
  }
  if (options.scanWorkers < 1 || options.controlWorkers < 1) {
    console.error('bench:pipeline: --scan-workers and --control-workers need at least 1');
    process.exit(2);
  }
  if (options.runs.length === 0) {
    options.runs = [
      { temporal: testTemporalKind(), scanWorkers: options.scanWorkers, controlWorkers: options.controlWorkers },
    ];
  }
  return options;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are at 11 and 12; plus children's.
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return ticks / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process of a system user (postgres, rabbitmq). */
function cpuOfUser(user: string): number {
  try {
    const pids = execFileSync('pgrep', ['-u', user], { encoding: 'utf8' }).trim().split('\n').map(Number);
    return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL backends serving these databases (their connections live as long as the pools). */
function cpuOfDatabases(names: string[]): number {
  if (names.length === 0) return 0;
  try {
    const list = names.map((name) => `'${name.replace(/'/g, "''")}'`).join(',');
    const pids = execFileSync(
      'psql',
      [
        '-h',
        '127.0.0.1',
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-Atc',
        `SELECT pid FROM pg_stat_activity WHERE datname IN (${list})`,
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine has spent (every process, every core) since boot, from /proc/stat. */
function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  return (fields.reduce((sum, value) => sum + value, 0) - fields[3]! - fields[4]!) / 100;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;
const s = (value: number): string => `${(value / 1000).toFixed(1)} s`;

/** What one set-up measured, for the closing table. */
interface RunSummary {
  setup: Setup;
  ok: boolean;
  wallS: number;
  scansPerMinute: number;
  perScanMs: number;
  overheadMs: number;
  medianLatencyS: number;
  cpu: Record<'temporal' | 'control' | 'scan' | 'bridge' | 'pgTemporal' | 'pgXfc', number>;
  load: number;
}

/** One set-up on a fresh stack: its own database, vhost, Temporal server, tree and worker processes. */
async function runOnce(options: Options, setup: Setup): Promise<RunSummary> {
  const label = `${setup.temporal} ${setup.scanWorkers}×${setup.controlWorkers}`;
  console.log(
    `\n== ${label}: Temporal ${setup.temporal === 'dev' ? 'dev server (SQLite)' : 'server (PostgreSQL)'}, ` +
      `${setup.scanWorkers} scan and ${setup.controlWorkers} control worker processes (load ${loadavg()[0]!.toFixed(1)})`,
  );
  const env = {
    XFC_SWEEP_BATCH_SIZE: String(options.users),
    XFC_SCAN_MAX_WALKS: String(options.maxWalks),
    XFC_BRIDGE_PREFETCH: String(options.prefetch),
    XFC_SCAN_THREADS: String(options.threads),
  };
  console.log(
    `bench:pipeline: ${options.users} users, ${availableParallelism()} CPUs, settings ${JSON.stringify(env)}`,
  );
  const stack = await startFaultStack({
    smtp: true,
    env,
    ownTemporal: true,
    temporalKind: setup.temporal,
    ...(process.env.BENCH_TEMPORAL_DB_DIR ? { temporalDbDir: process.env.BENCH_TEMPORAL_DB_DIR } : {}),
  });
  try {
    const users = Array.from({ length: options.users }, (_, i) => `u${String(i).padStart(5, '0')}`);
    const overQuota = users.filter((_, i) => options.overEvery > 0 && i % options.overEvery === 0);
    let started = Date.now();
    writeSmallTrees(stack.root, 'vol1', users);
    await registerUsers(stack.pool, stack.root, users);
    await putOverQuota(stack.pool, overQuota);
    console.log(
      `setup: ${users.length} work directories of 15 files written and backfilled in ${s(Date.now() - started)}`,
    );

    // The walker alone on the same directories: one after another, and as many at a time as the scan worker runs.
    const now = new Date();
    const walkOne = async (name: string): Promise<void> => {
      const outcome = await walk({
        root: workDirOf(stack.root, 'vol1', name),
        now,
        ageBasis: 'ctime',
        threads: options.threads,
      });
      if (!outcome.done) throw new Error('walk did not finish');
    };
    started = Date.now();
    for (const name of users) await walkOne(name);
    const walkSequentialMs = Date.now() - started;
    started = Date.now();
    const queue = [...users];
    await Promise.all(
      Array.from({ length: options.maxWalks }, async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) await walkOne(name);
      }),
    );
    const walkParallelMs = Date.now() - started;
    console.log(
      `walker alone: ${s(walkSequentialMs)} one at a time (${ms(walkSequentialMs / users.length)} per directory), ` +
        `${s(walkParallelMs)} ${options.maxWalks} at a time`,
    );

    // Each control worker applies the schedule at start-up: start them one after another, the rest at once.
    const controls: XfcChild[] = [];
    for (let i = 0; i < setup.controlWorkers; i++) controls.push(await stack.start('control'));
    const [bridge, ...scans] = await Promise.all([
      stack.start('bridge'),
      ...Array.from({ length: setup.scanWorkers }, () => stack.start('scan')),
    ]);
    const cpuOf = (list: Array<{ pid: number }>): number => list.reduce((sum, p) => sum + cpuSeconds(p.pid), 0);
    const xfcDatabase = [stack.db.name];
    const sample = () => ({
      temporal: cpuSeconds(stack.temporal.pid()),
      control: cpuOf(controls),
      scan: cpuOf(scans),
      bridge: cpuSeconds(bridge.pid),
      pgTemporal: cpuOfDatabases(stack.temporal.databases),
      pgXfc: cpuOfDatabases(xfcDatabase),
      postgres: cpuOfUser('postgres'),
      rabbitmq: cpuOfUser('rabbitmq'),
      machine: machineCpuSeconds(),
    });
    const cpuBefore = sample();

    const sweptAt = Date.now();
    const sweep = await startSweep(stack, options.users);
    const swept = await sweep.result();
    const claimedMs = Date.now() - sweptAt;
    let lastReport = Date.now();
    await until(
      `${users.length} users to be recorded`,
      async () => {
        const recorded = (await scansPerUser(stack.pool)).size;
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          console.log(`  ${recorded}/${users.length} recorded after ${s(Date.now() - sweptAt)}`);
        }
        return recorded >= users.length;
      },
      60 * 60_000,
      500,
    );
    const recordedMs = Date.now() - sweptAt;
    await until(
      'every application to end and every email to go',
      async () =>
        (stack.smtp?.messages.length ?? 0) >= overQuota.length &&
        (await executions(stack.client, `WorkflowType = "${workflowTypes.applyScan}" AND ExecutionStatus = "Running"`))
          .length === 0,
      10 * 60_000,
      1_000,
    );
    const doneMs = Date.now() - sweptAt;
    const cpuAfter = sample();
    type CpuKey = keyof typeof cpuAfter;
    const cpu = Object.fromEntries(
      (Object.keys(cpuAfter) as CpuKey[]).map((key) => [key, cpuAfter[key] - cpuBefore[key]]),
    ) as Record<CpuKey, number>;

    // Per scan: from its scanUser run's start to its application, and the part between the scan's start and end.
    const starts = new Map(
      (await executions(stack.client, `WorkflowType = "${workflowTypes.scanUser}"`)).map((run) => [
        run.workflowId,
        run.startTime,
      ]),
    );
    const rows = await stack.pool.any(
      sql.type(
        z.object({ username: z.string(), startedAt: z.date(), finishedAt: z.date(), appliedAt: z.date() }),
      )`SELECT username, started_at AS "startedAt", finished_at AS "finishedAt", applied_at AS "appliedAt" FROM xfc_scan`,
    );
    const endToEnd = rows.map(
      (row) => row.appliedAt.getTime() - (starts.get(`scan-${row.username}`)?.getTime() ?? NaN),
    );
    const walkPhase = rows.map((row) => row.finishedAt.getTime() - row.startedAt.getTime());

    // Where a run's time goes (queued vs running, per task kind), over a sample of histories.
    const samplePhases = async (type: string): Promise<string> => {
      const runs = (await executions(stack.client, `WorkflowType = "${type}"`)).slice(0, 50);
      const list = await Promise.all(
        runs.map(async (run) => phases(await historyOf(stack.client, run.workflowId, run.runId))),
      );
      return `(${list.length} runs) ${describePhases(sumPhases(list), Math.max(1, list.length))}`;
    };
    const scanPhases = await samplePhases(workflowTypes.scanUser);
    const applyPhases = await samplePhases(workflowTypes.applyScan);

    const entry = await ledger(stack, users, overQuota);
    const checks = ledgerChecks(entry);
    const perScanWallMs = recordedMs / users.length;
    const walkPerDirMs = walkSequentialMs / users.length;
    const scansPerMinute = (users.length / recordedMs) * 60_000;
    const wall = recordedMs / 1000;
    const share = (value: number): string => `${value.toFixed(1)} s (${((value / wall) * 100).toFixed(0)} %)`;

    const lines = [
      `users: ${users.length} (${overQuota.length} over quota), each 15 files in 3 directories, on tmpfs`,
      `settings: XFC_SCAN_MAX_WALKS=${options.maxWalks}, XFC_BRIDGE_PREFETCH=${options.prefetch}, ` +
        `XFC_SCAN_THREADS=${options.threads} (0 = automatic), XFC_SWEEP_BATCH_SIZE=${options.users}; ` +
        `${availableParallelism()} CPUs`,
      `sweep claimed and published ${swept.published} requests in ${s(claimedMs)}`,
      `wall time to all ${users.length} recorded: ${s(recordedMs)} (all applied and ${stack.smtp?.messages.length ?? 0} ` +
        `emails sent: ${s(doneMs)})`,
      `throughput: ${scansPerMinute.toFixed(0)} scans/minute`,
      `per scan: ${ms(perScanWallMs)} of wall time against ${ms(walkPerDirMs)} of walking (walker alone, one at a ` +
        `time; ${ms(walkParallelMs / users.length)} per directory ${options.maxWalks} at a time): ` +
        `overhead ${ms(perScanWallMs - walkPerDirMs)} per scan beyond the walk`,
      `latency per scan (scanUser start → applied): median ${s(percentile(endToEnd, 50))}, p95 ${s(percentile(endToEnd, 95))}; ` +
        `scan start → end (inspect + walk activities): median ${s(percentile(walkPhase, 50))}, p95 ${s(percentile(walkPhase, 95))}`,
      `CPU during the run (of ${wall.toFixed(1)} s wall, ${availableParallelism()} CPUs): Temporal server ` +
        `${share(cpu.temporal)}, control workers ${share(cpu.control)}, scan workers ${share(cpu.scan)}, bridge ` +
        `${share(cpu.bridge)}, PostgreSQL ${share(cpu.postgres)} (of which Temporal's databases ` +
        `${share(cpu.pgTemporal)}, xfc's ${share(cpu.pgXfc)}), RabbitMQ ${share(cpu.rabbitmq)}; the whole machine ` +
        `${share(cpu.machine)} (other users' work included)`,
      `scanUser runs ${scanPhases}`,
      `applyScan runs ${applyPhases}`,
      `ledger: ${describeLedger(entry)}`,
    ];
    for (const line of lines) console.log(line);
    for (const check of checks) console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.what}: ${check.detail}`);
    return {
      setup,
      ok: checks.every((check) => check.ok),
      wallS: wall,
      scansPerMinute,
      perScanMs: perScanWallMs,
      overheadMs: perScanWallMs - walkPerDirMs,
      medianLatencyS: percentile(endToEnd, 50) / 1000,
      cpu,
      load: loadavg()[0]!,
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const summaries: RunSummary[] = [];
  for (const setup of options.runs) summaries.push(await runOnce(options, setup));
  if (summaries.length > 1) {
    const base = summaries[0]!;
    console.log(
      `\nSummary (${options.users} users; ratios against ${describeSetup(base.setup)}, measured in this run):`,
    );
    console.log(
      '| set-up | wall | scans/min | per scan | beyond the walk | median latency | Temporal CPU | PG (Temporal) | PG (xfc) | workers + bridge | ratio |',
    );
    console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
    for (const run of summaries) {
      const workers = run.cpu.control + run.cpu.scan + run.cpu.bridge;
      console.log(
        `| ${describeSetup(run.setup)} | ${run.wallS.toFixed(0)} s | ${run.scansPerMinute.toFixed(0)} | ` +
          `${run.perScanMs.toFixed(1)} ms | ${run.overheadMs.toFixed(1)} ms | ${run.medianLatencyS.toFixed(1)} s | ` +
          `${run.cpu.temporal.toFixed(0)} s | ${run.cpu.pgTemporal.toFixed(0)} s | ` +
          `${run.cpu.pgXfc.toFixed(0)} s | ${workers.toFixed(0)} s | ` +
          `${(run.scansPerMinute / base.scansPerMinute).toFixed(2)}× |${run.ok ? '' : ' (checks FAILED)'}`,
      );
    }
    console.log(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  }
  return summaries.every((run) => run.ok) ? 0 : 1;
}

function describeSetup(setup: Setup): string {
  return `${setup.temporal === 'dev' ? 'dev server' : 'real server'} ${setup.scanWorkers}×${setup.controlWorkers}`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
