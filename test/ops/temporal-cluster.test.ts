import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Check } from '../../cli/ops/doctor.js';
import { indexedValueTypes, xfcSearchAttributes } from '../../cli/ops/search-attribute.js';
import { findTemporalCli } from '../../cli/ops/temporal-dev-server.js';
import { checkTemporalNamespace, searchAttributeCommand } from '../../cli/ops/temporal-namespace-check.js';
import { setupNamespace } from '../../cli/ops/temporal-server.js';
import { startTestTemporal, type TestTemporal } from '../support/temporal.js';
import { doctorTemporalChecks } from '../support/doctor.js';

const run = promisify(execFile);

/**
 * A cluster as an operator finds it: no namespace, a namespace without xfc's search attributes, one with an
 * attribute of the wrong type, then set up by deploy/temporal/setup-namespace.sh. `xfc doctor` must name exactly
 * what is missing, with the command that fixes it. Runs on either server (XFC_TEST_TEMPORAL), on namespaces of its
 * own.
 */
describe('a Temporal cluster that lacks what xfc needs', () => {
  let temporal: TestTemporal;
  let connection: Connection;
  const cli = findTemporalCli();
  const fresh = (): string => `xfc-check-${randomBytes(4).toString('hex')}`;
  const temporalCli = (...args: string[]) => run(cli!, [...args, '--address', temporal.address], { timeout: 60_000 });

  before(async () => {
    assert.ok(cli, 'the temporal CLI is installed');
    temporal = await startTestTemporal();
    connection = await Connection.connect({ address: temporal.address });
  });
  after(async () => {
    await connection.close();
    await temporal.stop();
  });

  const doctorTemporal = (namespace: string): Promise<Check[]> =>
    doctorTemporalChecks({ TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: namespace });

  it('names a missing namespace, with the commands that create it and its search attributes', async () => {
    const namespace = fresh();
    const found = await checkTemporalNamespace(connection, namespace);
    assert.equal(found.namespace.status, 'fail');
    assert.match(found.namespace.detail, new RegExp(`${namespace} does not exist`));
    assert.ok(found.namespace.fix?.includes(`temporal operator namespace create --namespace ${namespace}`));
    assert.ok(found.namespace.fix?.includes(searchAttributeCommand(namespace, xfcSearchAttributes)));
    assert.equal(found.searchAttributes, undefined);
    const checks = await doctorTemporal(namespace);
    const line = checks.find((check) => check.name === 'namespace');
    assert.equal(line?.status, 'fail');
    assert.equal(line.fix, found.namespace.fix);
  });

  it('names every missing search attribute of the list, and one of the wrong type', async () => {
    const namespace = fresh();
    await temporalCli('operator', 'namespace', 'create', '--namespace', namespace, '--retention', '2d');
    await waitFor(async () => (await checkTemporalNamespace(connection, namespace)).namespace.status === 'ok');
    const found = await checkTemporalNamespace(connection, namespace);
    assert.match(found.namespace.detail, /retention 2 d/);
    assert.equal(found.searchAttributes?.status, 'fail');
    for (const attribute of xfcSearchAttributes) {
      assert.ok(found.searchAttributes.detail.includes(`${attribute.name} (${attribute.type}) is missing`));
    }
    assert.equal(found.searchAttributes.fix, searchAttributeCommand(namespace, xfcSearchAttributes));
    const checks = await doctorTemporal(namespace);
    assert.equal(checks.find((check) => check.name === 'namespace')?.status, 'ok');
    assert.equal(checks.find((check) => check.name === 'search attributes')?.status, 'fail');
    assert.equal(checks.find((check) => check.name === 'search attributes')?.fix, found.searchAttributes.fix);

    // The first attribute registered as Int instead: named as the wrong type, the others still missing.
    const [first, ...rest] = xfcSearchAttributes;
    const wrong = first!.type === 'Int' ? 'Keyword' : 'Int';
    await temporalCli(
      'operator',
      'search-attribute',
      'create',
      '--namespace',
      namespace,
      '--name',
      first!.name,
      '--type',
      wrong,
    );
    await waitFor(async () => {
      const again = await checkTemporalNamespace(connection, namespace);
      return again.searchAttributes?.detail.includes(`${first!.name} is ${wrong}, not ${first!.type}`) ?? false;
    });
    const again = await checkTemporalNamespace(connection, namespace);
    for (const attribute of rest)
      assert.ok(again.searchAttributes?.detail.includes(`${attribute.name} (${attribute.type}) is missing`));
    assert.match(again.searchAttributes?.fix ?? '', new RegExp(`remove ${first!.name}`));
    assert.equal(indexedValueTypes[wrong], wrong === 'Int' ? 3 : 2);
  });

  it('is set up by deploy/temporal/setup-namespace.sh from the list, twice without harm, and then takes tagged workflows', async () => {
    const namespace = fresh();
    await setupNamespace({ address: temporal.address, namespace, retention: '3d' });
    await setupNamespace({ address: temporal.address, namespace, retention: '4d' });
    const found = await checkTemporalNamespace(connection, namespace);
    assert.equal(found.namespace.status, 'ok');
    assert.match(found.namespace.detail, /retention 4 d/);
    assert.equal(found.searchAttributes?.status, 'ok', found.searchAttributes?.detail);
    // A workflow start carrying every attribute is accepted (the frontend validates them) once the frontend's
    // namespace cache has the new attributes: it refreshes every 10 s, so allow 30.
    const client = new Client({ connection, namespace });
    const start = (): Promise<WorkflowHandle> =>
      client.workflow.start('noSuchWorkflow', {
        taskQueue: 'nobody-polls',
        workflowId: 'tagged',
        searchAttributes: Object.fromEntries(
          xfcSearchAttributes.map((attribute) => [attribute.name, attribute.type === 'Keyword' ? ['x'] : [1]]),
        ),
      });
    const deadline = Date.now() + 30_000;
    let handle: WorkflowHandle | undefined;
    while (!handle) {
      try {
        handle = await start();
      } catch (err) {
        const unmapped = err instanceof Error && /no mapping defined for search attribute/.test(String(err.cause));
        if (!unmapped || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    await handle.terminate('test done');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
