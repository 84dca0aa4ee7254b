import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from './ports.js';

/**
 * A real SMTP server in the test process (the `smtp-server` package): messages arrive over TCP exactly as a mail
 * relay would receive them and are kept with their raw source. It can be stopped and started again on the same
 * port, to test what happens while the relay is down.
 */

export interface CapturedMail {
  envelope: { from: string; to: string[] };
  /** The message as it came over the wire (headers and MIME body, CRLF line ends). */
  raw: string;
  /** The final reply the server gave, e.g. "250 OK: queued as test-1". */
  reply: string;
  /** Whether the session was encrypted (STARTTLS) and who authenticated, if anyone. */
  secure: boolean;
  user: string | undefined;
}

export interface TestSmtpOptions {
  port?: number;
  /** Require AUTH PLAIN/LOGIN with these credentials (and offer STARTTLS with smtp-server's test certificate). */
  auth?: { user: string; pass: string };
  /** Answer RCPT TO for these addresses with this 5xx/4xx reply. */
  refuse?: Record<string, { code: number; message: string }>;
  /** Runs after a message has arrived and before the server replies 250 (a fault can be timed to that moment). */
  beforeAccept?: (mail: CapturedMail) => Promise<void>;
}

export interface TestSmtpServer {
  port: number;
  /** smtp://127.0.0.1:PORT (add credentials and options as the test needs). */
  url: string;
  messages: CapturedMail[];
  /** Stops listening and drops open connections; `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Resolves once `count` messages have arrived (or rejects after `timeoutMs`). */
  waitForMessages(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
}

export async function startTestSmtp(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const port = options.port ?? (await freePort());
  const messages: CapturedMail[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;

  const serverOptions = (): SMTPServerOptions => ({
    logger: false,
    authOptional: !options.auth,
    // Without credentials there is no reason to offer STARTTLS; with them, offer it (self-signed test certificate).
    disabledCommands: options.auth ? [] : ['STARTTLS', 'AUTH'],
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onRcptTo(address, _session, callback) {
      const refusal = options.refuse?.[address.address];
      if (refusal) callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const reply = `OK: queued as test-${messages.length + 1}`;
        const mail: CapturedMail = {
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          },
          raw: Buffer.concat(chunks).toString('utf8'),
          reply: `250 ${reply}`,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        };
        messages.push(mail);
        void (options.beforeAccept?.(mail) ?? Promise.resolve()).finally(() => {
          callback(null, reply);
          for (const wake of waiters) wake();
        });
      });
    },
  });

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const instance = new SMTPServer(serverOptions());
      instance.on('error', () => undefined); // client resets are normal in tests; listen errors reject below
      instance.server.once('error', reject);
      instance.listen(port, '127.0.0.1', () => {
        instance.server.off('error', reject);
        server = instance;
        resolve();
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const instance = server;
      server = undefined;
      if (!instance) return resolve();
      for (const connection of instance.connections) connection.close();
      instance.close(() => resolve());
    });

  await start();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    stop,
    start,
    waitForMessages(count: number, timeoutMs = 5_000): Promise<CapturedMail[]> {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (messages.length < count) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(messages.slice());
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`expected ${count} message(s), got ${messages.length} after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
  };
}

export interface ParsedPart {
  contentType: string;
  headers: Map<string, string>;
  /** The decoded body (quoted-printable and base64 undone, UTF-8). */
  body: string;
}

export interface ParsedMail {
  /** Top-level headers, names in lower case, folded lines joined; a repeated header keeps every value. */
  headers: Map<string, string[]>;
  header(name: string): string | undefined;
  /** The leaf parts of a multipart message (or the body itself), in order. */
  parts: ParsedPart[];
}

/**
 * Just enough MIME to check what nodemailer produced: headers, multipart boundaries, quoted-printable and base64.
 * Deliberately small and strict: anything it does not understand fails the test rather than passing silently.
 */
export function parseMail(raw: string): ParsedMail {
  const { headers, body } = splitHeaders(raw);
  const single = new Map([...headers].map(([name, values]) => [name, values[0] ?? '']));
  return {
    headers,
    header: (name) => headers.get(name.toLowerCase())?.[0],
    parts: leafParts(single, body),
  };
}

function splitHeaders(raw: string): { headers: Map<string, string[]>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no blank line between headers and body');
  const headers = new Map<string, string[]>();
  const lines = raw.slice(0, end).split('\r\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1] ?? '')) line += ` ${(lines[++i] ?? '').trim()}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { headers, body: raw.slice(end + 4) };
}

function leafParts(headers: Map<string, string>, body: string): ParsedPart[] {
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType)) {
    if (!boundary) throw new Error(`multipart without boundary: ${contentType}`);
    const sections = body.split(`--${boundary}`).slice(1);
    return sections
      .filter((section) => !section.startsWith('--'))
      .flatMap((section) => {
        const part = splitHeaders(section.replace(/^\r\n/, ''));
        const single = new Map([...part.headers].map(([name, values]) => [name, values[0] ?? '']));
        return leafParts(single, part.body.replace(/\r\n$/, ''));
      });
  }
  return [{ contentType, headers, body: decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit') }];
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case '7bit':
    case '8bit':
      return body;
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes: number[] = [];
      const soft = body.replace(/=\r\n/g, '');
      for (let i = 0; i < soft.length; i++) {
        const ch = soft[i] ?? '';
        if (ch === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
          bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
          i += 2;
        } else {
          bytes.push(...Buffer.from(ch, 'utf8'));
        }
      }
      return Buffer.from(bytes).toString('utf8');
    }
    default:
      throw new Error(`unknown transfer encoding ${encoding}`);
  }
}
