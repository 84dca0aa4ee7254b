import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { createLogger, prettyLine } from '../../lib/common/log.js';
import { jsonLogger } from '../../lib/amqp/log.js';
import { startTestStack } from '../support/stack.js';

describe('the one logger (pino)', () => {
  it('never writes a secret: passwords in logged URLs, in messages and errors, signing keys', () => {
    for (const format of ['json', 'pretty'] as const) {
      const lines: string[] = [];
      const log = createLogger({ component: 'test', format, write: (line) => lines.push(line) });
      log.info({ url: 'amqp://xfc:hunter2@rabbit:5672/xfc', nested: { dsn: 'postgres://u:pg-s3cret@db/x' } }, 'up');
      log.warn('cannot reach amqp://xfc:hunter2@rabbit:5672 (refused)');
      log.error(
        { err: new Error('connect to postgres://u:pg-s3cret@db/x failed'), resultSigningKey: 'k3y-material' },
        'x',
      );
      const out = lines.join('\n');
      for (const secret of ['hunter2', 'pg-s3cret', 'k3y-material'])
        assert.ok(!out.includes(secret), `${format}: ${out}`);
      assert.match(out, /amqp:\/\/xfc:\*\*\*@rabbit:5672/, 'the user and host stay visible');
      assert.equal(lines.length, 3);
    }
  });

  it('writes JSON lines with time, level, component and event; a terminal gets one readable line', () => {
    const lines: string[] = [];
    jsonLogger('bridge', (line) => lines.push(line))('warn', 'redelivered', { messageId: 'm1' });
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(record.level, 'warn');
    assert.equal(record.component, 'bridge');
    assert.equal(record.event, 'redelivered');
    assert.equal(record.messageId, 'm1');
    assert.match(String(record.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(prettyLine(lines[0]!), /^\d\d:\d\d:\d\d\.\d{3} WARN {2}bridge redelivered .*messageId=m1/);
  });

  it('respects the level', () => {
    const lines: string[] = [];
    const log = createLogger({ component: 'test', level: 'warn', format: 'json', write: (line) => lines.push(line) });
    log.info('hidden');
    log.warn('shown');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { event: string }).event),
      ['shown'],
    );
  });

  it('routes the workers’ Temporal runtime logs into it as JSON lines', { timeout: 120_000 }, async () => {
    const stack = await startTestStack();
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'worker', '--role', 'scan'], {
      env: { ...process.env, ...stack.env, XFC_LOG_LEVEL: 'info', XFC_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const temporalRecord = await new Promise<Record<string, unknown>>((resolve, reject) => {
        let buffered = '';
        const timer = setTimeout(() => reject(new Error(`no Temporal log line; got:\n${buffered}`)), 90_000);
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          for (const line of buffered.split('\n')) {
            if (!line.includes('"source":"temporal"')) continue;
            clearTimeout(timer);
            resolve(JSON.parse(line) as Record<string, unknown>);
          }
        });
        child.once('exit', (code) => reject(new Error(`worker exited ${code}:\n${buffered}`)));
      });
      assert.equal(temporalRecord.component, 'worker');
      assert.equal(typeof temporalRecord.event, 'string');
      assert.ok(['info', 'warn', 'debug', 'error'].includes(String(temporalRecord.level)));
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await stack.stop();
    }
  });
});
