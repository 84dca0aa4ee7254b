import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserUsage } from '../../db/users.js';
import { byteAxisScale } from '../../lib/report/charts.js';
import { escapeHtml, html } from '../../lib/report/html.js';
import { parseSince } from '../../lib/report/since.js';
import { carryForward, percentDistribution, stackVolume } from '../../lib/report/series.js';

function user(userId: number, username: string, hardUsed: bigint): UserUsage {
  return { userId: BigInt(userId), username, hardUsed, temporalUsed: 0n } as UserUsage;
}

describe('report series (pure)', () => {
  it('carries the last measurement forward and is zero before the first', () => {
    const history = { userId: '1', days: [11, 14], bytes: [100, 50], temporal: [100, 200] };
    assert.deepEqual(carryForward(history, [10, 11, 12, 13, 14, 15]), {
      hard: [0, 100, 100, 100, 50, 50],
      temporal: [0, 100, 100, 100, 200, 200],
    });
  });

  it('stacks the largest users and groups the rest, keeping every byte', () => {
    const users = [user(1, 'a', 10n), user(2, 'b', 300n), user(3, 'c', 20n), user(4, 'd', 200n)];
    const history = new Map(
      users.map((u) => [
        String(u.userId),
        { userId: String(u.userId), days: [1], bytes: [Number(u.hardUsed)], temporal: [1] },
      ]),
    );
    const stack = stackVolume(users, history, [1, 2], 2);
    assert.deepEqual(
      stack.series.map((series) => series.name),
      ['b', 'd', '2 other users'],
    );
    assert.deepEqual(stack.series[2]!.hard, [30, 30]);
    assert.equal(stack.othersCount, 2);
  });

  it('puts percentages in their buckets, the last one open', () => {
    const counts = percentDistribution([0, 9.99, 10, 95, 100, 150, 1e6, Infinity]);
    assert.equal(counts[0], 2);
    assert.equal(counts[1], 1);
    assert.equal(counts[9], 1);
    assert.equal(counts[10], 1);
    assert.equal(counts[11], 1);
    assert.equal(counts[12], 2);
  });

  it('rounds byte axes to whole IEC figures', () => {
    assert.deepEqual(byteAxisScale(2.3 * 2 ** 50), { max: 2.5 * 2 ** 50, interval: 0.5 * 2 ** 50 });
    assert.deepEqual(byteAxisScale(700 * 2 ** 40), { max: 800 * 2 ** 40, interval: 200 * 2 ** 40 });
  });

  it('escapes everything interpolated into HTML', () => {
    assert.equal(
      escapeHtml(`<img src=x onerror="a('b')">&\``),
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;&#96;',
    );
    const inner = html`<i>${'&'}</i>`;
    // (Through another name: Prettier would re-indent an `html` template literal, changing the string.)
    const markup = html;
    const cell = markup`<td>${'<b>'}</td>${[inner]}`;
    assert.equal(cell.value, '<td>&lt;b&gt;</td><i>&amp;</i>');
  });

  it('reads --since as a duration back or a date, and refuses the rest', () => {
    const now = new Date('2026-12-05T00:00:00Z');
    assert.equal(parseSince('30d', now).toISOString(), '2026-11-05T00:00:00.000Z');
    assert.equal(parseSince('2026-01-01', now).toISOString(), '2026-01-01T00:00:00.000Z');
    assert.throws(() => parseSince('last year', now), /duration back from now/);
    assert.throws(() => parseSince('2027-01-01', now), /in the future/);
  });
});
