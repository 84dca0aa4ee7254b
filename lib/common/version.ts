import { readFileSync } from 'node:fs';

/**
 * xfc's version, from its package.json: two levels up from the sources (lib/common/) and three from the compiled
 * dist/lib/common/. The first package.json named xfc going up from this module is ours.
 */
export function xfcVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'xfc' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: try the next level up
    }
  }
  return 'unknown';
}
