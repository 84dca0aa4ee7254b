import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TiB } from '../../lib/common/units.js';
import { renderEmail } from '../../lib/notify/render.js';
import { examples } from './examples.js';

const day = 86_400_000;
const scannedAt = examples.over.scan.scannedAt;
const history = [5, 4, 3, 2, 1, 0, 6, 7].map((back) => ({
  scannedAt: new Date(scannedAt.getTime() - back * day),
  status: back === 2 ? ('partial' as const) : ('complete' as const),
  bytes: BigInt(10 + 2 * (6 - back)) * TiB,
  temporalByteDays: BigInt(200 + 40 * (6 - back)) * TiB,
}));

describe('the recent-scans history in emails', () => {
  it('shows the last six scans, oldest first, in both parts, with CSS bars and no SVG or script', () => {
    const { text, html } = renderEmail({ ...examples.over, history });
    assert.match(text, /Your recent scans/);
    const dates = [...text.matchAll(/^ {2}(\d{4}-\d{2}-\d{2})/gm)].map((match) => match[1]);
    assert.equal(dates.length, 6);
    assert.deepEqual(dates, [...dates].sort());
    assert.equal(dates.at(-1), scannedAt.toISOString().slice(0, 10));
    assert.match(text, /\(partial\)/);
    assert.match(html, /Your recent scans/);
    assert.equal((html.match(/<div style="width:\d+%;height:8px;/g) ?? []).length, 12, 'a bar per quota per scan');
    assert.doesNotMatch(html, /<svg|<script/i);
  });

  it('caps a bar at the full width when usage is over the quota and colours it', () => {
    const over = history.map((point) => ({ ...point, bytes: 1000n * TiB }));
    const { html } = renderEmail({ ...examples.over, history: over });
    assert.match(html, /width:100%;height:8px;background:#c62828/);
    assert.doesNotMatch(html, /width:(1\d\d\d|[2-9]\d\d)%/);
  });

  it('leaves the email as it was without at least two scans', () => {
    assert.equal(renderEmail({ ...examples.over, history: history.slice(0, 1) }).html, renderEmail(examples.over).html);
  });
});
