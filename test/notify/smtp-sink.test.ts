import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMailer } from '../../lib/notify/mailer.js';
import { messageIdFor } from '../../lib/notify/message.js';
import { startSmtpSink } from '../../lib/notify/smtp-sink.js';
import { parseMail } from '../support/smtp.js';

describe('startSmtpSink', () => {
  it('stores each message sent through nodemailer as one .eml file', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'xfc-sink-')), 'mail');
    const stored: string[] = [];
    const sink = await startSmtpSink({ dir, onMessage: (file) => stored.push(file) });
    try {
      assert.match(sink.url, /^smtp:\/\/127\.0\.0\.1:\d+$/);
      const from = 'JASMIN XFC <xfc@jasmin.example>';
      const mailer = createMailer({ smtpUrl: sink.url, from });
      for (const scanId of ['scan-1', 'scan-2']) {
        await mailer.send({
          from,
          to: 'alice@example.org',
          subject: `[XFC] test ${scanId}`,
          text: 'Hello alice,\n\nNo files will be deleted automatically.\n',
          html: '<p>Hello alice,</p>',
          messageId: messageIdFor(scanId, from),
        });
      }
      const files = (await readdir(dir)).sort();
      assert.equal(files.length, 2);
      assert.deepEqual(stored.map((file) => file.slice(dir.length + 1)).sort(), files);
      assert.ok(
        files.every((file) => /^\d{8}T\d{6}Z-000[12]-alice@example\.org\.eml$/.test(file)),
        files.join(),
      );
      const first = parseMail(await readFile(join(dir, files[0] ?? ''), 'utf8'));
      assert.equal(first.header('message-id'), '<xfc-scan-1@jasmin.example>');
      assert.equal(first.header('subject'), '[XFC] test scan-1');
      assert.match(first.parts[0]?.body ?? '', /No files will be deleted automatically\./);
    } finally {
      await sink.close();
      await rm(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
