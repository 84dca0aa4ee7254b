import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandCatalog } from '../../cli/commands/index.js';

describe('the command catalog', () => {
  it('lists each command with the usage and description its module declares', async () => {
    for (const entry of commandCatalog) {
      const command = await entry.load();
      assert.equal(command.command, entry.usage, `${entry.name}: usage`);
      assert.equal(command.describe, entry.describe, `${entry.name}: description`);
      assert.equal(String(command.command).split(' ')[0], entry.name);
    }
  });
});
