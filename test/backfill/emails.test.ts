import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { loadEmailFile, parseEmailCsv } from '../../lib/backfill/emails.js';
import { UsageError } from '../../lib/common/errors.js';

describe('the --emails CSV', () => {
  it('reads username,email lines with a header, comments, blank lines, quotes and CRLF', () => {
    const { emails, problems } = parseEmailCsv(
      '\uFEFFusername,email\r\n# exported from LDAP\r\n\r\nalice, alice@example.org\r\n"bob","bob@ceda.ac.uk"\r\nalice,alice@example.org\r\n',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      [...emails],
      [
        ['alice', 'alice@example.org'],
        ['bob', 'bob@ceda.ac.uk'],
      ],
    );
  });

  it('reports every bad line with its number', () => {
    const { emails, problems } = parseEmailCsv(
      [
        'carol,carol@example.org',
        'Bad Name,bad@example.org',
        'dave',
        'erin,not-an-address',
        'fred,fred@example.org,extra',
        'carol,other@example.org',
        'gina,gina@example.org',
      ].join('\n'),
    );
    assert.deepEqual(
      problems.map((p) => p.line),
      [2, 3, 4, 5, 6],
    );
    assert.match(problems[0]?.problem ?? '', /"Bad Name" contains spaces/);
    assert.match(problems[1]?.problem ?? '', /expected 2 fields \(username,email\), found 1/);
    assert.match(problems[2]?.problem ?? '', /"not-an-address" is not an email address/);
    assert.match(problems[4]?.problem ?? '', /carol already has carol@example.org \(line 1\)/);
    assert.deepEqual([...emails.keys()], ['carol', 'gina']);
  });

  it('stops the command on a bad file, naming the lines', async () => {
    const dir = mkdtempSync(`${tmpdir()}/xfc-emails-`);
    try {
      writeFileSync(`${dir}/emails.csv`, 'alice,alice@example.org\nbob,bob at example.org\n');
      await assert.rejects(
        loadEmailFile(`${dir}/emails.csv`),
        (err: Error) =>
          err instanceof UsageError && /1 bad line.*\n {2}line 2: "bob at example.org"/s.test(err.message),
      );
      await assert.rejects(loadEmailFile(`${dir}/missing.csv`), /--emails .*missing\.csv: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
