import { readFile } from 'node:fs/promises';
import { UsageError, errorMessage } from '../common/errors.js';
import { usernameProblem } from '../common/username.js';

/**
 * The address list for `xfc users backfill --emails FILE`: CSV lines `username,email`, an optional header line
 * `username,email`, blank lines and `#` comments ignored, fields optionally in double quotes. Every bad line is
 * reported with its number, so the file can be fixed in one go.
 */

export interface EmailProblem {
  line: number;
  problem: string;
}

export interface EmailList {
  emails: Map<string, string>;
  problems: EmailProblem[];
}

/** Django's EmailField is varchar(254); a plain address, no display name. */
const emailPattern = /^[^\s@,;<>"()[\]\\]+@[^\s@,;<>"()[\]\\]+\.[^\s@,;<>"()[\]\\.][^\s@,;<>"()[\]\\]*$/;

/** Whether `value` is an address a user row may hold (from the emails file or LDAP alike). */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && emailPattern.test(value);
}

export function parseEmailCsv(text: string): EmailList {
  const emails = new Map<string, string>();
  const firstLine = new Map<string, number>();
  const problems: EmailProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let seenContent = false;
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(',').map(unquote);
    const isFirst = !seenContent;
    seenContent = true;
    if (
      isFirst &&
      fields.length === 2 &&
      /^user(name)?$/i.test(fields[0] ?? '') &&
      /^e-?mail$/i.test(fields[1] ?? '')
    ) {
      continue; // the header
    }
    if (fields.length !== 2) {
      problems.push({ line, problem: `expected 2 fields (username,email), found ${fields.length}` });
      continue;
    }
    const [username = '', email = ''] = fields;
    const nameProblem = usernameProblem(username);
    if (nameProblem !== undefined) {
      problems.push({ line, problem: `username ${JSON.stringify(username)} ${nameProblem}` });
      continue;
    }
    if (!isEmailAddress(email)) {
      problems.push({ line, problem: `${JSON.stringify(email)} is not an email address` });
      continue;
    }
    const known = emails.get(username);
    if (known !== undefined && known !== email) {
      problems.push({
        line,
        problem: `${username} already has ${known} (line ${firstLine.get(username)}); give one address per user`,
      });
      continue;
    }
    emails.set(username, email);
    if (!firstLine.has(username)) firstLine.set(username, line);
  }
  return { emails, problems };
}

function unquote(field: string): string {
  const trimmed = field.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1).trim()
    : trimmed;
}

/** Reads and validates the file; any bad line stops the command before anything is written. */
export async function loadEmailFile(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--emails ${path}: ${errorMessage(err)}`);
  }
  const { emails, problems } = parseEmailCsv(text);
  if (problems.length > 0) {
    const listed = problems.map((p) => `  line ${p.line}: ${p.problem}`).join('\n');
    throw new UsageError(
      `--emails ${path} has ${problems.length} bad line${problems.length === 1 ? '' : 's'}; nothing was written. ` +
        `Fix them and run again (format: username,email per line):\n${listed}`,
    );
  }
  return emails;
}
