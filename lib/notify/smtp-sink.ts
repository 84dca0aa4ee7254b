import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as SmtpServerModule from 'smtp-server';
import { UserError } from '../common/errors.js';

/**
 * A local SMTP server that delivers nowhere: every message it accepts becomes one `.eml` file in a directory
 * (open it with any mail client, or read it as text). `xfc dev` runs one on ./var/mail when XFC_SMTP_URL is unset,
 * so the whole notification path — outbox, SMTP, Message-ID — runs for real without a relay.
 *
 * It listens on 127.0.0.1 only, accepts any sender and recipient without authentication, and refuses messages
 * over 10 MiB.
 *
 * `smtp-server` is a development dependency (the runtime image installs production dependencies only), so it is
 * loaded when a sink starts, not when this module is imported.
 */

export interface SmtpSinkOptions {
  /** Where the .eml files go (created if missing). */
  dir: string;
  /** 0 (the default) picks a free port; see `url`. */
  port?: number;
  host?: string;
  /** Called with the path of each stored message. */
  onMessage?: (file: string) => void;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:PORT, ready for XFC_SMTP_URL. */
  url: string;
  port: number;
  dir: string;
  close(): Promise<void>;
}

const maxMessageBytes = 10 * 1024 * 1024;

/** Loads smtp-server, or says what to do where the development dependencies were left out. */
async function loadSmtpServer(): Promise<typeof SmtpServerModule> {
  try {
    return await import('smtp-server');
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new UserError(
      'The development SMTP sink needs the smtp-server package, a development dependency this installation ' +
        'left out (npm ci --omit=dev). Set XFC_SMTP_URL to a mail relay, or install the development dependencies ' +
        '(npm ci).',
    );
  }
}

export async function startSmtpSink(options: SmtpSinkOptions): Promise<SmtpSink> {
  const { SMTPServer } = await loadSmtpServer();
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.dir, { recursive: true });
  let sequence = 0;

  const store = async (raw: Buffer, recipients: string[]): Promise<string> => {
    sequence += 1;
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const who = (recipients[0] ?? 'unknown').replace(/[^A-Za-z0-9@._-]/g, '_').slice(0, 80);
    const name = `${stamp}-${String(sequence).padStart(4, '0')}-${who}.eml`;
    const file = join(options.dir, name);
    // Write then rename, so a reader never sees half a message.
    await writeFile(`${file}.tmp`, raw, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return file;
  };

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: maxMessageBytes,
    rejectOversized: true,
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(null, 'too large, not stored'); // rejectOversized replies 552
        const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        store(Buffer.concat(chunks), recipients).then(
          (file) => {
            options.onMessage?.(file);
            callback(null, `stored as ${file}`);
          },
          (err: unknown) =>
            callback(Object.assign(new Error(`could not store the message: ${String(err)}`), { responseCode: 451 })),
        );
      });
    },
  });
  server.on('error', () => undefined); // a client dropping its connection is not the sink's problem

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    url: `smtp://${host}:${port}`,
    port,
    dir: options.dir,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
