import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMailer, PermanentMailError } from '../../lib/notify/mailer.js';
import { messageIdFor, parseSender, type OutgoingEmail } from '../../lib/notify/message.js';
import { renderEmail } from '../../lib/notify/render.js';
import { parseMail, startTestSmtp, type TestSmtpServer } from '../support/smtp.js';
import { examples } from './examples.js';

const from = 'JASMIN XFC <xfc-noreply@jasmin.example>';

function email(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  const rendered = renderEmail(examples.over);
  return {
    from,
    to: 'alice@example.org',
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    messageId: messageIdFor('scan-alice-1', from),
    ...overrides,
  };
}

describe('messageIdFor and parseSender', () => {
  it('derive a stable Message-ID from the scan id and the sender domain', () => {
    assert.equal(messageIdFor('scan-alice-1', from), '<xfc-scan-alice-1@jasmin.example>');
    assert.equal(messageIdFor('scan-alice-1', from), messageIdFor('scan-alice-1', 'other <x@JASMIN.example>'));
    // ":" and "." are not allowed as they stand; they are encoded, one-to-one.
    assert.equal(messageIdFor('alice:2026.11', from), '<xfc-alice=3A2026=2E11@jasmin.example>');
    assert.notEqual(messageIdFor('a:b', from), messageIdFor('a-b', from));
  });

  it('refuse a sender that is not exactly one address', () => {
    assert.equal(parseSender(from).address, 'xfc-noreply@jasmin.example');
    for (const bad of ['', 'nobody', 'a@x.org, b@y.org', 'XFC <a@x.org>\r\nBcc: c@z.org']) {
      assert.throws(() => parseSender(bad), /XFC_MAIL_FROM/, JSON.stringify(bad));
    }
  });
});

describe('createMailer against a real SMTP server', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await startTestSmtp();
  });
  after(async () => {
    await smtp.stop();
  });

  it('delivers one message with the right envelope, headers and MIME parts', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from });
    const sent = email();
    const receipt = await mailer.send(sent);
    const [message] = await smtp.waitForMessages(1);
    assert.ok(message);
    assert.match(receipt.response, /^250 OK: queued as test-1/);
    assert.deepEqual(receipt.accepted, ['alice@example.org']);
    assert.deepEqual(message.envelope, { from: 'xfc-noreply@jasmin.example', to: ['alice@example.org'] });

    const parsed = parseMail(message.raw);
    assert.equal(parsed.header('from'), 'JASMIN XFC <xfc-noreply@jasmin.example>');
    assert.equal(parsed.header('to'), 'alice@example.org');
    assert.equal(parsed.header('subject'), '[XFC] Your transfer cache is over its temporal quota');
    assert.equal(parsed.header('message-id'), '<xfc-scan-alice-1@jasmin.example>');
    assert.ok(!Number.isNaN(Date.parse(parsed.header('date') ?? '')), 'a valid Date header');
    assert.equal(parsed.header('auto-submitted'), 'auto-generated');
    assert.equal(parsed.header('mime-version'), '1.0');
    assert.match(parsed.header('content-type') ?? '', /^multipart\/alternative; boundary=/);
    assert.equal(parsed.headers.get('bcc'), undefined);
    assert.equal(parsed.headers.get('reply-to'), undefined, 'no Reply-To unless XFC_MAIL_REPLY_TO is set');
    assert.deepEqual(
      parsed.parts.map((part) => part.contentType.split(';')[0]),
      ['text/plain', 'text/html'],
    );
    assert.equal(parsed.parts[0]?.body.replace(/\r\n/g, '\n'), sent.text);
    assert.equal(parsed.parts[1]?.body.replace(/\r\n/g, '\n'), sent.html);
    assert.match(parsed.parts[0]?.contentType ?? '', /charset=utf-8/);
    mailer.close();
  });

  it('sets Reply-To from XFC_MAIL_REPLY_TO', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from, replyTo: 'JASMIN helpdesk <support@jasmin.example>' });
    const before = smtp.messages.length;
    await mailer.send(email());
    const messages = await smtp.waitForMessages(before + 1);
    const parsed = parseMail(messages[before]?.raw ?? '');
    assert.equal(parsed.header('reply-to'), 'JASMIN helpdesk <support@jasmin.example>');
    mailer.close();
  });

  it('a server that is down is a transient error; once it is back the same message goes', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from });
    const before = smtp.messages.length;
    await smtp.stop();
    await assert.rejects(mailer.send(email()), (err: Error) => {
      assert.equal(err.name, 'SmtpError');
      assert.ok(!(err instanceof PermanentMailError));
      assert.match(err.message, /ECONNREFUSED|connect/i);
      return true;
    });
    await smtp.start();
    await mailer.send(email());
    assert.equal(smtp.messages.length, before + 1);
  });

  it('never lets a CRLF in a field add a header', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from });
    await assert.rejects(mailer.send(email({ to: 'alice@example.org\r\nBcc: eve@example.org' })), PermanentMailError);
    const count = smtp.messages.length;
    await mailer.send(email({ subject: 'hello\r\nBcc: eve@example.org\r\nX-Evil: 1' }));
    const [message] = (await smtp.waitForMessages(count + 1)).slice(-1);
    const headerBlock = (message?.raw ?? '').split('\r\n\r\n')[0] ?? '';
    assert.doesNotMatch(headerBlock, /^(Bcc|X-Evil):/im);
    assert.deepEqual(message?.envelope.to, ['alice@example.org']);
  });
});

describe('createMailer: refusals, STARTTLS and authentication', () => {
  it('a 5xx refusal of the recipient is permanent, a 4xx is not', async () => {
    const smtp = await startTestSmtp({
      refuse: {
        'gone@example.org': { code: 550, message: 'No such user' },
        'busy@example.org': { code: 450, message: 'Mailbox busy, try later' },
      },
    });
    try {
      const mailer = createMailer({ smtpUrl: smtp.url, from });
      await assert.rejects(mailer.send(email({ to: 'gone@example.org' })), (err: Error) => {
        assert.ok(err instanceof PermanentMailError);
        assert.equal(err.responseCode, 550);
        return true;
      });
      await assert.rejects(mailer.send(email({ to: 'busy@example.org' })), (err: Error) => {
        assert.ok(!(err instanceof PermanentMailError));
        return true;
      });
      assert.equal(smtp.messages.length, 0);
    } finally {
      await smtp.stop();
    }
  });

  it('takes STARTTLS and credentials from XFC_SMTP_URL, and never prints the password', async () => {
    const smtp = await startTestSmtp({ auth: { user: 'xfc', pass: 's3cret' } });
    try {
      const options = 'requireTLS=true&tls.rejectUnauthorized=false';
      const good = createMailer({ smtpUrl: `smtp://xfc:s3cret@127.0.0.1:${smtp.port}?${options}`, from });
      await good.send(email());
      const [message] = await smtp.waitForMessages(1);
      assert.equal(message?.secure, true, 'upgraded with STARTTLS');
      assert.equal(message?.user, 'xfc');

      const bad = createMailer({ smtpUrl: `smtp://xfc:wrong-pass@127.0.0.1:${smtp.port}?${options}`, from });
      await assert.rejects(bad.send(email()), (err: Error) => {
        assert.ok(!(err instanceof PermanentMailError), 'fixing the credentials makes a retry succeed');
        assert.match(err.message, /535|Invalid/);
        assert.doesNotMatch(err.message, /wrong-pass/);
        return true;
      });
    } finally {
      await smtp.stop();
    }
  });
});
