/**
 * `npm run faults [-- 3 7 …] [--smtp-outage 2m] [--quick]`: runs the fault scenarios (test/faults/harness/) against real
 * processes and prints one line per scenario: PASS or FAIL, its name, and what it measured. Exits 1 if any failed.
 */
import { parseDuration } from '../../lib/common/duration.js';
import { scenarios } from './harness/index.js';
import { passed, seconds, type ScenarioOptions } from './harness/scenario.js';

function parseArgs(argv: string[]): { ids: number[]; options: ScenarioOptions; verbose: boolean } {
  const ids: number[] = [];
  const options: ScenarioOptions = { quick: false, smtpOutageMs: 2 * 60_000 };
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--verbose' || arg === '-v') verbose = true;
    else if (arg === '--smtp-outage') options.smtpOutageMs = parseDuration(argv[++i] ?? '');
    else if (/^\d+$/.test(arg)) ids.push(Number(arg));
    else {
      console.error(`faults: unknown argument ${JSON.stringify(arg)}`);
      console.error('usage: npm run faults -- [SCENARIO…] [--quick] [--smtp-outage DURATION] [--verbose]');
      process.exit(2);
    }
  }
  return { ids, options, verbose };
}

async function main(): Promise<number> {
  const { ids, options, verbose } = parseArgs(process.argv.slice(2));
  const unknown = ids.filter((id) => !scenarios.some((s) => s.id === id));
  if (unknown.length > 0) {
    console.error(`faults: no scenario ${unknown.join(', ')} (there are ${scenarios.map((s) => s.id).join(', ')})`);
    return 2;
  }
  const chosen = ids.length === 0 ? scenarios : scenarios.filter((s) => ids.includes(s.id));
  console.log(
    `xfc fault scenarios: ${chosen.map((s) => s.id).join(', ')} (${options.quick ? 'quick' : 'full'} run` +
      `, SMTP outage ${seconds(options.smtpOutageMs ?? 0)})`,
  );
  let failures = 0;
  for (const scenario of chosen) {
    const startedAt = Date.now();
    const note = verbose
      ? (line: string) => console.log(`      ${scenario.id} +${seconds(Date.now() - startedAt)}: ${line}`)
      : undefined;
    let line: string;
    try {
      const outcome = await scenario.run({ ...options, ...(note ? { note } : {}) });
      const ok = passed(outcome);
      if (!ok) failures++;
      line = `${ok ? 'PASS' : 'FAIL'} ${String(scenario.id).padStart(2)}. ${scenario.name}: ${outcome.summary}`;
      for (const check of outcome.checks.filter((c) => !c.ok)) line += `\n       ✗ ${check.what}: ${check.detail}`;
    } catch (err) {
      failures++;
      line = `FAIL ${String(scenario.id).padStart(2)}. ${scenario.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    }
    console.log(`${line} [${seconds(Date.now() - startedAt)}]`);
  }
  console.log(failures === 0 ? `all ${chosen.length} passed` : `${failures} of ${chosen.length} failed`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
