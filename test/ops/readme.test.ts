import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

/** The section of the README under `## title`, up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('documents every variable lib/config/env.ts reads, and no other, in its configuration table', () => {
    // The Temporal connection's variables are read by @temporalio/envconfig, listed in lib/config/temporal-env.ts.
    const source = ['env.ts', 'temporal-env.ts']
      .map((file) => readFileSync(join(repo, 'lib', 'config', file), 'utf8'))
      .join('\n');
    const read = new Set([...source.matchAll(/'((?:XFC|TEMPORAL)_[A-Z_]+)'/g)].map((match) => match[1]));
    const documented = new Set(
      [...section('Configuration').matchAll(/^\| `((?:XFC|TEMPORAL)_[A-Z_]+)`/gm)].map((match) => match[1]),
    );
    assert.ok(read.size > 30, `found the variables in lib/config/env.ts (${read.size})`);
    assert.deepEqual([...read].filter((name) => !documented.has(name)).sort(), [], 'variables missing from README');
    assert.deepEqual(
      [...documented].filter((name) => !read.has(name)).sort(),
      [],
      'variables lib/config/env.ts does not read',
    );
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((match) => match[1] ?? '')
      .filter((target) => !/^[a-z]+:/.test(target));
    assert.ok(links.length > 5);
    const missing = links.filter((target) => !existsSync(join(dirname(join(repo, 'README.md')), target)));
    assert.deepEqual(missing, []);
  });
});
