import nodemailer from 'nodemailer';
import type { SMTPTransportOptions } from 'nodemailer/lib/smtp-transport';
import { redact } from '../config/env.js';
import { automaticHeaders, parseSender, type OutgoingEmail } from './message.js';
import { isPlainAddress } from './policy.js';

/**
 * Sends notifications over SMTP with nodemailer. XFC_SMTP_URL says where and how: `smtp://host:587` (STARTTLS when
 * the server offers it), `smtps://host:465` (TLS from the start), credentials as `smtp://user:pass@host`, and
 * nodemailer options as query parameters, e.g. `?requireTLS=true`, `?tls.rejectUnauthorized=false`,
 * `?connectionTimeout=5000`.
 */

export interface SendReceipt {
  /** The server's final reply, e.g. "250 2.0.0 Ok: queued as 4ZxY", kept in the outbox. */
  response: string;
  accepted: string[];
}

/** What the activities need from a mail transport; tests and `xfc dev` pass a real one pointing elsewhere. */
export interface MailTransport {
  /** Resolves once the server accepted the message; `timeoutMs` abandons the exchange (default: no limit). */
  send(email: OutgoingEmail, options?: { timeoutMs?: number }): Promise<SendReceipt>;
  verify(): Promise<void>;
  close(): void;
}

/**
 * The server refused the message for good (a 5xx reply to the recipient or the data, e.g. "550 no such user"):
 * sending it again cannot help. Connection failures, timeouts, 4xx replies and refused credentials are not
 * permanent: the configuration or the server can be fixed, and a retry then succeeds.
 */
export class PermanentMailError extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
    this.name = 'PermanentMailError';
  }
}

/**
 * Timeouts short enough that a dead server fails an attempt in well under a minute (nodemailer waits up to 2 min to
 * connect and 10 min on a quiet socket by default); the URL may override them.
 */
export const defaultSmtpTimeouts = { connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 60_000 };

export function smtpTransportOptions(smtpUrl: string): SMTPTransportOptions {
  // Query parameters of the URL take precedence over these (nodemailer merges the URL's options last).
  return { url: smtpUrl, ...defaultSmtpTimeouts, disableFileAccess: true, disableUrlAccess: true };
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

/** A nodemailer SMTP transport for `mail.smtpUrl`; one connection per message (a few messages a day). */
export function createMailer(mail: { smtpUrl: string; from: string; replyTo?: string }): MailTransport {
  parseSender(mail.from); // refuse a bad XFC_MAIL_FROM at start-up, not at the first email
  const transporter = nodemailer.createTransport(smtpTransportOptions(mail.smtpUrl));
  const where = redact(mail.smtpUrl);
  return {
    async send(email: OutgoingEmail, options: { timeoutMs?: number } = {}): Promise<SendReceipt> {
      if (!isPlainAddress(email.to))
        throw new PermanentMailError(`not a plain recipient address: ${JSON.stringify(email.to)}`, 0);
      try {
        const info = await transporter.sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
          headers: automaticHeaders,
          ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
        });
        if (info.accepted.length === 0) {
          throw new PermanentMailError(`${where} accepted no recipient: ${info.response}`, 550);
        }
        return { response: info.response, accepted: info.accepted.map(String) };
      } catch (err) {
        throw classify(err, where);
      }
    },
    async verify(): Promise<void> {
      try {
        await transporter.verify();
      } catch (err) {
        throw classify(err, where);
      }
    },
    close(): void {
      transporter.close();
    },
  };
}

function classify(err: unknown, where: string): Error {
  if (err instanceof PermanentMailError) return err;
  const smtp = err as SmtpError;
  const code = smtp.responseCode ?? 0;
  const message = `SMTP ${where}: ${smtp.message ?? String(err)}`;
  if (code >= 500 && code < 600 && (smtp.code === 'EENVELOPE' || smtp.code === 'EMESSAGE')) {
    return new PermanentMailError(message, code);
  }
  const transient = new Error(message, { cause: err });
  transient.name = 'SmtpError';
  return transient;
}
