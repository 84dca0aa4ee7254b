/**
 * The one redactor for URLs and connection strings that xfc prints (errors, `xfc dev`, `xfc doctor`, logs). It
 * hides every place a secret can sit in the forms we accept:
 *
 * - userinfo: `scheme://user:secret@host`, where the secret may itself hold a raw `@` (libpq and amqplib take the
 *   last `@` before the host as the separator, so everything up to it is the password);
 * - query parameters: `?password=…`, `&sslpassword=…` (libpq reads both from a URL), and other names that carry
 *   secrets (`secret`, `token`, `passphrase`, `key`);
 * - libpq keyword/value strings: `host=db password=secret` or `password='it''s'`.
 *
 * The user name and host stay visible: an operator needs them to see which service is meant.
 */
const secretParameter = /^(?:ssl)?(?:password|passphrase|secret|token|key|apikey|api_key|access_token)$/i;

export function redact(value: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)/.exec(value);
  if (!scheme) return redactKeywordString(value);
  const rest = value.slice(scheme[1]!.length);
  const at = userinfoEnd(rest);
  if (at < 0) return `${scheme[1]}${redactQuery(rest)}`;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  const shown = colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo;
  return `${scheme[1]}${shown}@${redactQuery(rest.slice(at + 1))}`;
}

/**
 * Index of the '@' that ends the userinfo, or -1: the last '@' before the query or fragment. A password holding a
 * raw '@' (or even '/') is then hidden whole; a path holding an '@' at worst hides the host too, which errs on the
 * safe side.
 */
function userinfoEnd(rest: string): number {
  const stop = rest.search(/[?#]/);
  const end = stop < 0 ? rest.length : stop;
  return end === 0 ? -1 : rest.lastIndexOf('@', end - 1);
}

function redactQuery(tail: string): string {
  const q = tail.indexOf('?');
  if (q < 0) return tail;
  const hash = tail.indexOf('#', q);
  const query = tail.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = safeDecode(pair.slice(0, eq));
      return secretParameter.test(name) ? `${pair.slice(0, eq)}=***` : pair;
    })
    .join('&');
  return `${tail.slice(0, q + 1)}${redacted}${hash < 0 ? '' : tail.slice(hash)}`;
}

/** libpq's `key=value key='quoted value'` form. */
function redactKeywordString(value: string): string {
  return value.replace(
    /(^|\s)([A-Za-z_]+)(\s*=\s*)('(?:[^'\\]|\\.|'')*'|\S*)/g,
    (whole, lead: string, name: string, eq: string) => (secretParameter.test(name) ? `${lead}${name}${eq}***` : whole),
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
