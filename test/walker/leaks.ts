/** Looks for names from outside a tree in anything a walk hands out: reports, progress, checkpoints. */

/**
 * Every place in `value` (any JSON-like value) where one of `markers` appears, as `path: marker`. Strings are
 * searched as they are and, since checkpoints carry names as base64, also decoded from base64.
 */
export function findMarkers(value: unknown, markers: string[]): string[] {
  const found: string[] = [];
  const visit = (node: unknown, at: string): void => {
    if (typeof node === 'string') {
      const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(node) ? Buffer.from(node, 'base64').toString('latin1') : '';
      for (const marker of markers) {
        if (node.includes(marker) || decoded.includes(marker)) found.push(`${at}: ${marker}`);
      }
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, `${at}[${i}]`));
    } else if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) visit(item, `${at}.${key}`);
    }
  };
  visit(value, '$');
  return found;
}

/** The value with bigints as strings, so it can be searched and printed. */
export function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? String(item) : item)));
}
