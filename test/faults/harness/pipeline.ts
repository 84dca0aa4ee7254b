import { sql } from 'slonik';
import { z } from 'zod';
import { listDeadLetters } from '../../../lib/amqp/dead-letters.js';
import { workflowTypes } from '../../../lib/temporal/names.js';
import type { SweepResult } from '../../../lib/temporal/contracts.js';
import { emailsPerRecipient } from './fixtures.js';
import { executions, outstandingRequests, scansPerUser, until } from './observe.js';
import type { Check } from './scenario.js';
import type { FaultStack } from './stack.js';

/** Starting sweeps and judging what a batch of users went through: what several scenarios share. */

let sweepCounter = 0;

/** Starts a sweep workflow now (as the schedule or `xfc workflow start sweep` would). */
export async function startSweep(
  stack: FaultStack,
  batchSize: number,
): Promise<{ workflowId: string; result(): Promise<SweepResult> }> {
  const workflowId = `sweep-faults-${Date.now()}-${++sweepCounter}`;
  const handle = await stack.client.workflow.start(workflowTypes.sweep, {
    workflowId,
    taskQueue: stack.config.temporal.controlTaskQueue,
    args: [{ batchSize }],
  });
  return { workflowId, result: () => handle.result() as Promise<SweepResult> };
}

/** Waits until every one of `users` has at least one scan recorded; returns how long it took. */
export async function waitUntilScanned(stack: FaultStack, users: string[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  await until(
    `${users.length} users to be scanned and recorded`,
    async () => {
      const perUser = await scansPerUser(stack.pool);
      return users.every((user) => (perUser.get(user) ?? 0) >= 1);
    },
    timeoutMs,
    250,
  );
  return Date.now() - started;
}

export interface Ledger {
  users: number;
  /** Users with exactly one scan row / none / more than one. */
  exactlyOnce: number;
  missing: string[];
  doubled: string[];
  /** Scan requests taken on (xfc_scan_request) and the scans serving them. */
  requestsAccepted: number;
  distinctScans: number;
  /** Executions of applyScan (each scan id has at most one by construction: count them anyway). */
  applyExecutions: number;
  outstanding: number;
  deadLetters: number;
  /** Emails per over-quota user (expected 1) and to anyone else (expected 0). */
  emailsToOverQuota: number[];
  emailsToOthers: number;
}

/** What became of a batch: one scan per user, one application per scan, nothing left over, one email each. */
export async function ledger(stack: FaultStack, users: string[], overQuota: string[]): Promise<Ledger> {
  const perUser = await scansPerUser(stack.pool);
  const requests = await stack.pool.one(sql.type(z.object({ n: z.bigint(), scans: z.bigint() }))`
    SELECT count(*) AS n, count(DISTINCT scan_id) AS scans FROM xfc_scan_request`);
  const applies = await executions(stack.client, `WorkflowType = "${workflowTypes.applyScan}"`);
  const emails = emailsPerRecipient(stack.smtp?.messages ?? []);
  const overAddresses = new Set(overQuota.map((name) => `${name}@example.org`));
  return {
    users: users.length,
    exactlyOnce: users.filter((user) => perUser.get(user) === 1).length,
    missing: users.filter((user) => (perUser.get(user) ?? 0) === 0),
    doubled: users.filter((user) => (perUser.get(user) ?? 0) > 1),
    requestsAccepted: Number(requests.n),
    distinctScans: Number(requests.scans),
    applyExecutions: applies.length,
    outstanding: await outstandingRequests(stack.pool),
    deadLetters: (await listDeadLetters(stack.config.amqpUrl, { limit: 1000 })).length,
    emailsToOverQuota: overQuota.map((name) => emails.get(`${name}@example.org`) ?? 0),
    emailsToOthers: [...emails].filter(([to]) => !overAddresses.has(to)).reduce((sum, [, n]) => sum + n, 0),
  };
}

/** The checks every "nothing lost, nothing doubled" scenario makes on its ledger. */
export function ledgerChecks(entry: Ledger): Check[] {
  const list = (names: string[]): string => (names.length > 5 ? `${names.slice(0, 5).join(', ')}…` : names.join(', '));
  return [
    {
      what: 'every user scanned and recorded exactly once',
      ok: entry.exactlyOnce === entry.users,
      detail: `${entry.exactlyOnce}/${entry.users}; missing [${list(entry.missing)}], doubled [${list(entry.doubled)}]`,
    },
    {
      what: 'each request taken on once, by its own scan',
      ok: entry.requestsAccepted === entry.users && entry.distinctScans === entry.users,
      detail: `${entry.requestsAccepted} requests accepted, ${entry.distinctScans} scans`,
    },
    {
      what: 'one application per scan',
      ok: entry.applyExecutions === entry.users,
      detail: `${entry.applyExecutions} applyScan executions`,
    },
    { what: 'no request left outstanding', ok: entry.outstanding === 0, detail: `${entry.outstanding} outstanding` },
    { what: 'nothing dead-lettered', ok: entry.deadLetters === 0, detail: `${entry.deadLetters} in xfc.dead` },
    {
      what: 'one email per over-quota user, none to others',
      ok: entry.emailsToOverQuota.every((n) => n === 1) && entry.emailsToOthers === 0,
      detail: `over-quota users got [${entry.emailsToOverQuota.join(', ')}], others ${entry.emailsToOthers}`,
    },
  ];
}

/** "40/40 users scanned once, 40 applications, 4 emails to 4 over-quota users, 0 dead letters". */
export function describeLedger(entry: Ledger): string {
  const emails = entry.emailsToOverQuota.reduce((sum, n) => sum + n, 0) + entry.emailsToOthers;
  return (
    `${entry.exactlyOnce}/${entry.users} users scanned and recorded once, ${entry.applyExecutions} applications, ` +
    `${emails} email(s) to ${entry.emailsToOverQuota.length} over-quota user(s), ${entry.outstanding} outstanding, ` +
    `${entry.deadLetters} dead-lettered`
  );
}
