import type { Scenario } from './scenario.js';
import { scanWorkerKilled } from '../scenarios/01-scan-worker-killed.js';
import { controlWorkerKilled } from '../scenarios/02-control-worker-killed.js';
import { temporalRestarted } from '../scenarios/03-temporal-restarted.js';
import { rabbitmqRestarted } from '../scenarios/04-rabbitmq-restarted.js';
import { postgresRestarted } from '../scenarios/05-postgres-restarted.js';
import { smtpDown } from '../scenarios/06-smtp-down.js';
import { duplicatesAndReplays } from '../scenarios/07-duplicates-and-replays.js';
import { poisonMessages } from '../scenarios/08-poison-messages.js';
import { treeChanges } from '../scenarios/09-tree-changes.js';
import { badWorkDirs } from '../scenarios/10-bad-work-dirs.js';
import { concurrentSweeps } from '../scenarios/11-concurrent-sweeps.js';
import { forgedResults } from '../scenarios/12-forged-results.js';

/** Every fault scenario of issue 8, by number. */
export const scenarios: ReadonlyArray<Scenario<object>> = [
  scanWorkerKilled,
  controlWorkerKilled,
  temporalRestarted,
  rabbitmqRestarted,
  postgresRestarted,
  smtpDown,
  duplicatesAndReplays,
  poisonMessages,
  treeChanges,
  badWorkDirs,
  concurrentSweeps,
  forgedResults,
];
