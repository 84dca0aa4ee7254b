import addressparser from 'nodemailer/lib/addressparser';
import { isPlainAddress } from './policy.js';

/**
 * The envelope of one notification: who it is from and to, and its Message-ID. Pure. The Message-ID is derived
 * from the scan id, so every attempt to send one decision carries the same id and a mail system (or a person's
 * client) that sees it twice knows it is the same message.
 */

/** What the outbox stores and the mailer sends: decided once, sent as is. */
export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

/** The single address of XFC_MAIL_FROM ("JASMIN XFC <xfc-noreply@example.org>"), or an error saying what is wrong. */
export function parseSender(from: string): { name: string; address: string; domain: string } {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (/[\u0000-\u001f\u007f]/.test(from)) throw new Error('XFC_MAIL_FROM must not contain control characters.');
  const parsed = addressparser(from, { flatten: true });
  const [first] = parsed;
  if (parsed.length !== 1 || !first || !('address' in first) || !first.address || !isPlainAddress(first.address)) {
    throw new Error(`XFC_MAIL_FROM=${JSON.stringify(from)} is not one address such as "JASMIN XFC <xfc@example.org>".`);
  }
  const domain = first.address.slice(first.address.lastIndexOf('@') + 1).toLowerCase();
  return { name: first.name, address: first.address, domain };
}

/**
 * `<xfc-{scanId}@{domain of XFC_MAIL_FROM}>`. A scan id may hold characters a Message-ID may not (":" for one),
 * so anything but letters, digits, "_" and "-" is written as =XX: the mapping stays one-to-one.
 */
export function messageIdFor(scanId: string, from: string): string {
  const local = Array.from(new TextEncoder().encode(scanId), (byte) => {
    const ch = String.fromCharCode(byte);
    return /[A-Za-z0-9_-]/.test(ch) ? ch : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  return `<xfc-${local}@${parseSender(from).domain}>`;
}

/** Headers every notification carries: it is automatic, so no auto-replies (RFC 3834). */
export const automaticHeaders: Record<string, string> = {
  'Auto-Submitted': 'auto-generated',
  'X-Auto-Response-Suppress': 'All',
};
