import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GiB, TiB } from '../../lib/common/units.js';
import { emailKinds } from '../../lib/notify/policy.js';
import { displayName, renderEmail, shellQuote, type EmailContent } from '../../lib/notify/render.js';
import { examples } from './examples.js';

/**
 * Snapshot tests: the rendered examples are committed under docs/emails/ and reviewed as prose. After an intended
 * change to the wording, regenerate them with `XFC_UPDATE_SNAPSHOTS=1 npm test -- notify/render` and read the diff.
 */
const docs = join(import.meta.dirname, '..', '..', 'docs', 'emails');
const update = process.env.XFC_UPDATE_SNAPSHOTS === '1';

function matchesSnapshot(file: string, actual: string): void {
  const path = join(docs, file);
  if (update || !existsSync(path)) {
    writeFileSync(path, actual);
    if (!update) assert.fail(`${file} did not exist; it has been written: review and commit it`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${file} differs (XFC_UPDATE_SNAPSHOTS=1 rewrites it)`);
}

describe('renderEmail examples (docs/emails)', () => {
  for (const kind of emailKinds) {
    it(`${kind}: text and HTML match the committed example`, () => {
      const email = renderEmail(examples[kind]);
      matchesSnapshot(`${kind}.txt`, `Subject: ${email.subject}\n\n${email.text}`);
      matchesSnapshot(`${kind}.html`, email.html);
    });
  }
});

describe('renderEmail content', () => {
  it('states the level plainly in the subject', () => {
    assert.equal(renderEmail(examples.warning).subject, '[XFC] Your transfer cache is nearing its temporal quota');
    assert.equal(renderEmail(examples.over).subject, '[XFC] Your transfer cache is over its temporal quota');
    assert.equal(
      renderEmail(examples.reminder).subject,
      '[XFC] Reminder: your transfer cache is still over its temporal quota',
    );
    assert.equal(renderEmail(examples['all-clear']).subject, '[XFC] Your transfer cache is back within its quotas');
    const hardOnly: EmailContent = {
      ...examples.over,
      scan: { ...examples.over.scan, bytes: 41n * TiB, temporalByteDays: 10n * TiB },
    };
    assert.equal(renderEmail(hardOnly).subject, '[XFC] Your transfer cache is over its hard quota');
    const both: EmailContent = { ...examples.over, scan: { ...examples.over.scan, bytes: 41n * TiB } };
    assert.equal(renderEmail(both).subject, '[XFC] Your transfer cache is over its hard and temporal quotas');
  });

  it('links the help page in both parts, and says calmly what happens if usage stays over', () => {
    for (const kind of emailKinds) {
      const { text, html } = renderEmail(examples[kind]);
      const url = 'https://help.jasmin.ac.uk/docs/short-term-project-storage/xfc/';
      assert.match(text, new RegExp(`About XFC and its quotas:\\n${url.replace(/[./]/g, '\\$&')}`), kind);
      assert.ok(html.includes(`<a href="${url}">${url}</a>`), kind);
      const policy = /If your usage stays over a quota, nothing is deleted: XFC keeps writing/;
      if (kind === 'over' || kind === 'reminder') assert.match(text.replace(/\s+/g, ' '), policy, kind);
      else assert.doesNotMatch(text.replace(/\s+/g, ' '), policy, kind);
    }
    const { html } = renderEmail({ ...examples.over, helpUrl: 'https://x.example/?a=1&b="2"', policy: 'we <call>.' });
    assert.ok(html.includes('<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">'), 'the URL is escaped');
    assert.ok(html.includes('nothing is deleted: we &lt;call&gt;.'), 'the policy is escaped');
  });

  it('carries everything a user needs, in both parts', () => {
    for (const kind of emailKinds) {
      const { text, html } = renderEmail(examples[kind]);
      for (const body of [text, html]) {
        assert.match(body, /No files will be deleted automatically\./, kind);
        assert.match(body, /pan_du -sa \/work\/xfc\/vol5\/user_cache\/alice/, kind);
        assert.match(body, /du -sh \/work\/xfc\/vol5\/user_cache\/alice/, kind);
        assert.match(body, /support@jasmin\.ac\.uk/, kind);
        assert.match(body, /ctime/, kind);
        assert.match(
          body,
          /rsync -a keeps the source&#39;s old modification times|rsync -a keeps the source's old/,
          kind,
        );
        assert.match(body, /&gt;120 days|>120 days/, kind);
        assert.match(body, /Temporal/, kind);
        assert.match(body, /Hard/, kind);
        assert.match(body, /Forecast:/, kind);
      }
    }
    const over = renderEmail(examples.over).text;
    assert.match(over, /measured on 2026-11-01 06:00 UTC/);
    assert.match(over, /312\.4 TiB·day +300\.0 TiB·day +104\.1 %/);
    assert.match(over, /12\.3 TiB +40\.0 TiB +30\.7 %/);
    assert.match(over, /cmip6-downloads\/ +201\.0 TiB·day +7\.0 TiB +20,311/);
    assert.match(renderEmail(examples.warning).text, /reaches its temporal quota on\s+2026-11-01 \(in 3 days\)/);
    assert.doesNotMatch(over, /delete[ds]? (your|them)|will be removed|must|immediately|final/i, 'never a threat');
  });

  it('says when a partial scan is a lower bound, and which age basis was used', () => {
    const partial: EmailContent = {
      ...examples.over,
      scan: { ...examples.over.scan, status: 'partial', uncounted: 3 },
    };
    assert.match(renderEmail(partial).text, /could not count 3 entries[\s\S]*lower bound/);
    assert.doesNotMatch(renderEmail(examples.over).text, /lower bound/);
    const mtime: EmailContent = { ...examples.over, scan: { ...examples.over.scan, ageBasis: 'mtime' } };
    assert.match(renderEmail(mtime).text, /modification time \(mtime\)/);
    assert.match(renderEmail(mtime).text, /Age of your files \(by mtime\)/);
  });

  it('shows the largest directories by size when only the hard quota is the concern', () => {
    const hardOnly: EmailContent = {
      ...examples.over,
      scan: {
        ...examples.over.scan,
        bytes: 41n * TiB,
        temporalByteDays: 10n * TiB,
        topDirectories: {
          byTemporal: [{ path: 'old', bytes: String(GiB), temporalByteDays: String(9n * TiB), files: 1 }],
          byBytes: [{ path: 'big', bytes: String(40n * TiB), temporalByteDays: String(TiB), files: 2 }],
        },
      },
    };
    const { text } = renderEmail(hardOnly);
    assert.match(text, /largest directories, by size/);
    assert.match(text, /big\//);
    assert.doesNotMatch(text, /old\//);
  });

  it('user-controlled names cannot add lines, markup or reordering, and are length-capped', () => {
    const hostile: EmailContent = {
      ...examples.over,
      username: 'eve\r\nBcc: victim@example.org',
      workDir: '/work/xfc/vol5/user_cache/eve <b>',
      scan: {
        ...examples.over.scan,
        topDirectories: {
          byTemporal: [
            { path: '<script>alert(1)</script>', bytes: '1', temporalByteDays: '9', files: 1 },
            { path: 'x\r\nSubject: pwned', bytes: '1', temporalByteDays: '8', files: 1 },
            { path: 'evil\u202etxt.exe', bytes: '1', temporalByteDays: '7', files: 1 },
            { path: 'n'.repeat(500), bytes: '1', temporalByteDays: '6', files: 1 },
          ],
          byBytes: [],
        },
      },
    };
    const { subject, text, html } = renderEmail(hostile);
    assert.doesNotMatch(subject, /[\r\n]/);
    assert.doesNotMatch(subject, /eve|script/, 'no user-controlled text in the subject');
    assert.doesNotMatch(text, /\r/);
    assert.doesNotMatch(text, /^Bcc:/m);
    assert.doesNotMatch(text, /^Subject: pwned/m);
    assert.match(text, /Hello eve\\x0d\\x0aBcc: victim@example\.org,/);
    assert.doesNotMatch(html, /<script|<b>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\//);
    assert.doesNotMatch(html + text, /\u202e/);
    assert.match(text, /evil\\u\{202e\}txt\.exe\//);
    assert.doesNotMatch(text, /n{60}/);
    assert.match(text, /n{59}…\//);
    // The commands stay pasteable: the odd path is quoted for the shell.
    assert.match(text, /pan_du -sa '\/work\/xfc\/vol5\/user_cache\/eve <b>'/);
  });
});

describe('displayName and shellQuote', () => {
  it('make control characters visible and cap the length', () => {
    assert.equal(displayName('plain-name_1.nc'), 'plain-name_1.nc');
    assert.equal(displayName('a\tb\u0085c\u2028d'), 'a\\x09b\\u{85}c\\u{2028}d');
    assert.equal(displayName('abcdef', 4), 'abc…');
    assert.equal(shellQuote('/work/xfc/vol5/user_cache/alice'), '/work/xfc/vol5/user_cache/alice');
    assert.equal(shellQuote("/work/it's here"), `'/work/it'\\''s here'`);
  });
});
