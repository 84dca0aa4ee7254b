import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { declareTopology, TopologyMissingError } from '../../lib/amqp/topology.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';

describe('topology check mode (XFC_AMQP_TOPOLOGY=check)', () => {
  let vhost: TestVhost;
  before(async () => {
    vhost = await createTestVhost('xfc-topology');
  });
  after(async () => {
    await vhost?.delete();
  });

  it('refuses an empty vhost with a message that says to run xfc amqp setup', async () => {
    await assert.rejects(declareTopology(vhost.url, 'check'), (err: Error) => {
      assert.ok(err instanceof TopologyMissingError);
      assert.match(err.message, /xfc amqp setup/);
      return true;
    });
  });

  it('passes once the topology was declared, without declaring anything itself', async () => {
    await declareTopology(vhost.url, 'declare');
    await declareTopology(vhost.url, 'check');
  });
});
