import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { ensureDatabase } from '../../cli/ops/database.js';
import { ensureUserSearchAttribute, hasUserSearchAttribute } from '../../cli/ops/search-attribute.js';
import { findTemporalCli, frontendAnswers, startDevServer } from '../../cli/ops/temporal-dev-server.js';
import { freePort } from '../support/ports.js';
import { adminUrl } from '../support/postgres.js';

describe('ensureDatabase', () => {
  const name = `xfc_test_ensure_${randomBytes(5).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  after(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('creates a missing database once, and is content when it exists or is created concurrently', async () => {
    const results = await Promise.all([ensureDatabase(url.toString()), ensureDatabase(url.toString())]);
    assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
    assert.deepEqual(await ensureDatabase(url.toString()), { name, created: false });
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    await client.end();
  });
});

describe('the XfcUser search attribute on a Temporal server that lacks it', () => {
  it('is registered once as a Keyword, then found present', async () => {
    const executable = findTemporalCli();
    assert.ok(executable, 'the temporal CLI is installed');
    const server = await startDevServer({ executable, port: await freePort(), registerSearchAttribute: false });
    const connection = await Connection.connect({ address: server.address });
    try {
      assert.deepEqual(await hasUserSearchAttribute(connection, 'default'), { present: false, keyword: false });
      assert.equal(await ensureUserSearchAttribute(connection, 'default'), 'added');
      assert.equal(await ensureUserSearchAttribute(connection, 'default'), 'present');
      assert.deepEqual(await hasUserSearchAttribute(connection, 'default'), { present: true, keyword: true });
    } finally {
      await connection.close();
      await server.stop();
    }
    assert.equal(await frontendAnswers(server.address, 1_000), false);
  });
});
