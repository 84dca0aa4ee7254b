/**
 * `npm run bench:pipeline [-- --users 2000 --max-walks 4 --prefetch 10 --threads 0 --over-every 20]`: the whole
 * pipeline under load. Creates N users with small work directories (tmpfs), backfills them, puts every k-th over
 * quota, then one sweep claims them all and the real bridge, control worker and scan worker (child processes) scan,
 * apply and email them through real RabbitMQ, Temporal, Postgres and SMTP. Prints the wall time, scans per minute,
 * the time per scan beyond the walk itself (the walker timed alone on the same directories), where the CPU went,
 * and checks that every user got exactly one scan record and nobody two emails.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { sql } from 'slonik';
import { z } from 'zod';
import { workflowTypes } from '../temporal/names.js';
import { walk } from '../walker/index.js';
import { putOverQuota, registerUsers, workDirOf, writeSmallTrees } from '../faults/fixtures.js';
import { executions, historyOf, scansPerUser, until } from '../faults/observe.js';
import { describePhases, phases, sumPhases } from '../faults/trace.js';
import { describeLedger, ledger, ledgerChecks, startSweep } from '../faults/pipeline.js';
import { startFaultStack } from '../faults/stack.js';

interface Options {
  users: number;
  maxWalks: number;
  prefetch: number;
  threads: number;
  overEvery: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { users: 2000, maxWalks: 4, prefetch: 10, threads: 0, overEvery: 20 };
  const names: Record<string, keyof Options> = {
    '--users': 'users',
    '--max-walks': 'maxWalks',
    '--prefetch': 'prefetch',
    '--threads': 'threads',
    '--over-every': 'overEvery',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = names[argv[i]!];
    const value = Number(argv[++i]);
    if (!key || !Number.isInteger(value) || value < 0) {
      console.error(`bench:pipeline: bad argument ${argv[i - 1]} ${argv[i] ?? ''}`);
      console.error(
        'usage: npm run bench:pipeline -- [--users N] [--max-walks N] [--prefetch N] [--threads N] [--over-every K]',
      );
      process.exit(2);
    }
    options[key] = value;
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

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;
const s = (value: number): string => `${(value / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
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

    const processes = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
    const cpuBefore = {
      control: cpuSeconds(processes[0].pid),
      bridge: cpuSeconds(processes[1].pid),
      scan: cpuSeconds(processes[2].pid),
      temporal: cpuSeconds(stack.temporal.pid()),
      postgres: cpuOfUser('postgres'),
      rabbitmq: cpuOfUser('rabbitmq'),
    };

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
    const cpu = {
      control: cpuSeconds(processes[0].pid) - cpuBefore.control,
      bridge: cpuSeconds(processes[1].pid) - cpuBefore.bridge,
      scan: cpuSeconds(processes[2].pid) - cpuBefore.scan,
      temporal: cpuSeconds(stack.temporal.pid()) - cpuBefore.temporal,
      postgres: cpuOfUser('postgres') - cpuBefore.postgres,
      rabbitmq: cpuOfUser('rabbitmq') - cpuBefore.rabbitmq,
    };

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
    const sample = async (type: string): Promise<string> => {
      const runs = (await executions(stack.client, `WorkflowType = "${type}"`)).slice(0, 50);
      const list = await Promise.all(
        runs.map(async (run) => phases(await historyOf(stack.client, run.workflowId, run.runId))),
      );
      return `(${list.length} runs) ${describePhases(sumPhases(list), Math.max(1, list.length))}`;
    };
    const scanPhases = await sample(workflowTypes.scanUser);
    const applyPhases = await sample(workflowTypes.applyScan);

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
        `${share(cpu.temporal)}, control worker ${share(cpu.control)}, scan worker ${share(cpu.scan)}, bridge ` +
        `${share(cpu.bridge)}, PostgreSQL ${share(cpu.postgres)}, RabbitMQ ${share(cpu.rabbitmq)}`,
      `scanUser runs ${scanPhases}`,
      `applyScan runs ${applyPhases}`,
      `ledger: ${describeLedger(entry)}`,
    ];
    for (const line of lines) console.log(line);
    for (const check of checks) console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.what}: ${check.detail}`);
    return checks.every((check) => check.ok) ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
