import { Client, EqualityFilter, OrFilter, type Entry } from 'ldapts';
import { UserError, errorMessage } from '../common/errors.js';
import type { XfcConfig } from '../config/env.js';
import { redact } from '../config/env.js';
import { isEmailAddress } from './emails.js';

export type LdapSettings = NonNullable<XfcConfig['ldap']>;

/** What the directory said about the names asked for. */
export interface LdapAddresses {
  emails: Map<string, string>;
  /** Names the directory gave no usable address for, with why (no entry is not a problem: it is just absent). */
  problems: Array<{ username: string; problem: string }>;
}

/** Names per search: one filter `(|(uid=a)(uid=b)…)` of this many stays far below any server's size limit. */
const namesPerSearch = 100;

/**
 * Looks up the addresses of `usernames` in the directory (JASMIN's accounts are in LDAP): one subtree search per
 * 100 names for entries whose user attribute equals the name, reading the mail attribute. Names are matched
 * exactly and passed as filter values, never spliced into filter text. A name with two entries that disagree, or
 * an address that is not plain, gets no address and is reported. Fails with a UserError (exit status 1), before
 * anything is written, when the directory cannot be reached or refuses the bind or the search.
 */
export async function lookupLdapEmails(
  settings: LdapSettings,
  usernames: string[],
  options: { timeoutMs?: number } = {},
): Promise<LdapAddresses> {
  const result: LdapAddresses = { emails: new Map(), problems: [] };
  const wanted = [...new Set(usernames)];
  if (wanted.length === 0) return result;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const client = new Client({ url: settings.url, timeout: timeoutMs, connectTimeout: timeoutMs });
  const where = redact(settings.url);
  const found = new Map<string, Set<string>>();
  try {
    if (settings.bindDn !== undefined) await client.bind(settings.bindDn, settings.password);
    for (let i = 0; i < wanted.length; i += namesPerSearch) {
      const names = wanted.slice(i, i + namesPerSearch);
      const filters = names.map((name) => new EqualityFilter({ attribute: settings.userAttribute, value: name }));
      const { searchEntries } = await client.search(settings.baseDn, {
        scope: 'sub',
        filter: filters.length === 1 ? filters[0]! : new OrFilter({ filters }),
        attributes: [settings.userAttribute, settings.mailAttribute],
      });
      const asked = new Set(names);
      for (const entry of searchEntries) {
        const mail = firstValue(entry, settings.mailAttribute);
        for (const name of values(entry, settings.userAttribute)) {
          if (!asked.has(name) || mail === undefined) continue;
          const addresses = found.get(name) ?? new Set<string>();
          addresses.add(mail);
          found.set(name, addresses);
        }
      }
    }
  } catch (err) {
    throw new UserError(
      `The LDAP lookup at ${where} (base ${settings.baseDn}) failed: ${errorMessage(err)}. Nothing was written. ` +
        'Check XFC_LDAP_URL, XFC_LDAP_BASE_DN and the bind DN and password, or unset XFC_LDAP_URL to use only --emails.',
    );
  } finally {
    await client.unbind().catch(() => undefined);
  }
  for (const [name, addresses] of found) {
    const [address] = [...addresses];
    if (addresses.size > 1) {
      result.problems.push({ username: name, problem: `entries disagree: ${[...addresses].sort().join(', ')}` });
    } else if (address === undefined || !isEmailAddress(address)) {
      result.problems.push({ username: name, problem: `${JSON.stringify(address)} is not an email address` });
    } else {
      result.emails.set(name, address);
    }
  }
  return result;
}

/** An attribute's values as strings (ldapts gives a string, a list, or Buffers for binary attributes). */
function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => (Buffer.isBuffer(item) ? item.toString('utf8') : item));
}

/** The first value: `mail` may hold several addresses; the first is the account's own. */
function firstValue(entry: Entry, attribute: string): string | undefined {
  return values(entry, attribute)[0]?.trim();
}
