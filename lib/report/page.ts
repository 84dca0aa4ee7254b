import { describeForecast } from '../common/forecast.js';
import { formatByteDays, formatBytes, formatPercent } from '../common/units.js';
import { forecastOf } from '../common/forecast.js';
import { formatTime } from '../common/time.js';
import type { UserUsage } from '../../db/users.js';
import {
  byteDaysLabel,
  bytesLabel,
  categoryBarsOption,
  horizontalBarsOption,
  palette,
  renderChart,
  scansPerDayOption,
  stackedUsageOption,
  userUsageOption,
  type ChartSize,
} from './charts.js';
import { html, trusted, type SafeHtml } from './html.js';
import { durationBuckets, type LatestScan, type ReportData, type VolumeInfo } from './queries.js';
import {
  carryForward,
  dayRange,
  percentBucketLabels,
  percentDistribution,
  scanAgeDistribution,
  scanAgeLabels,
  stackVolume,
} from './series.js';
import { pageStyle } from './style.js';

/** How the page is laid out and where its links go. */
export interface PageOptions {
  /** Where a username links to; null when the page has no view of that user. */
  userLink(username: string): string | null;
  /** Users drawn on their own in a volume's stack (the rest are grouped). */
  topUsers: number;
  /** The notification thresholds: "near" is from warnPercent, "over" from overPercent. */
  warnPercent: number;
  overPercent: number;
  /** Rows in the over/near and never-scanned tables before "and N more". */
  tableLimit?: number;
}

const full: ChartSize = { width: 1120, height: 360 };
const half: ChartSize = { width: 550, height: 300 };

function chart(svg: string, label: string): SafeHtml {
  return html`<figure class="chart" role="img" aria-label="${label}">${trusted(svg)}</figure>`;
}

function userName(username: string, options: PageOptions): SafeHtml {
  const href = options.userLink(username);
  return href ? html`<a href="${href}">${username}</a>` : html`${username}`;
}

function card(label: string, value: string, tone: 'ok' | 'warn' | 'bad' | 'plain' = 'plain'): SafeHtml {
  return html`<div class="card ${tone}">
    <div class="value">${value}</div>
    <div class="label">${label}</div>
  </div>`;
}

function maxPercent(user: UserUsage): number {
  return Math.max(user.hardPercent, user.temporalPercent);
}

function pct(percent: number): string {
  return formatPercent(percent);
}

function forecastText(user: UserUsage): string {
  const forecast = forecastOf(user);
  return forecast ? describeForecast(forecast) : 'not scanned yet';
}

function more(total: number, shown: number): SafeHtml {
  return total > shown ? html`<p class="more">… and ${total - shown} more.</p>` : html``;
}

function header(data: ReportData, title: string, nav: SafeHtml): SafeHtml {
  const { since, now, volume } = data.query;
  return html`<header>
    <h1>${title}</h1>
    <p class="meta">
      Generated ${formatTime(now)} · history from ${formatTime(since)}${volume ? ` · volume ${volume}` : ''} · sizes in
      IEC units; temporal usage in byte·days (TiB·day = 1 TiB held for a day)
    </p>
    <nav>${nav}</nav>
  </header>`;
}

function fleetSection(data: ReportData, options: PageOptions): SafeHtml {
  const { users } = data;
  const over = users.filter((user) => maxPercent(user) >= options.overPercent);
  const near = users.filter(
    (user) => maxPercent(user) >= options.warnPercent && maxPercent(user) < options.overPercent,
  );
  const overHard = users.filter((user) => user.hardPercent >= options.overPercent).length;
  const overTemporal = users.filter((user) => user.temporalPercent >= options.overPercent).length;
  const never = users.filter((user) => !user.lastScanned).length;
  const labels = percentBucketLabels();
  const distribution = chart(
    renderChart(
      categoryBarsOption({
        title: 'Users by % of quota',
        categories: labels,
        series: [
          {
            name: 'hard quota',
            values: percentDistribution(users.map((user) => user.hardPercent)),
            colour: palette[0]!,
          },
          {
            name: 'temporal quota',
            values: percentDistribution(users.map((user) => user.temporalPercent)),
            colour: palette[1]!,
          },
        ],
      }),
      full,
    ),
    'Distribution of users by percentage of their hard and temporal quota',
  );
  const limit = options.tableLimit ?? 50;
  const listed = [...over, ...near].sort((a, b) => maxPercent(b) - maxPercent(a));
  const rows = listed.slice(0, limit).map(
    (user) =>
      html`<tr class="${maxPercent(user) >= options.overPercent ? 'over' : 'near'}">
        <td>${userName(user.username, options)}</td>
        <td>${user.volume}</td>
        <td class="num">${formatBytes(user.hardUsed)} / ${formatBytes(user.hardQuota)}</td>
        <td class="num">${pct(user.hardPercent)}</td>
        <td class="num">${formatByteDays(user.temporalUsed)} / ${formatByteDays(user.temporalQuota)}</td>
        <td class="num">${pct(user.temporalPercent)}</td>
        <td>${forecastText(user)}</td>
        <td>${formatTime(user.lastScanned)}</td>
      </tr>`,
  );
  return html`<section id="fleet">
    <h2>Fleet</h2>
    <div class="cards">
      ${card('users', String(users.length))}
      ${card(`over hard quota (≥${options.overPercent} %)`, String(overHard), overHard > 0 ? 'bad' : 'ok')}
      ${card(`over temporal quota (≥${options.overPercent} %)`, String(overTemporal), overTemporal > 0 ? 'bad' : 'ok')}
      ${card(`near a quota (${options.warnPercent}–${options.overPercent} %)`, String(near.length), near.length > 0 ? 'warn' : 'ok')}
      ${card('never scanned', String(never), never > 0 ? 'warn' : 'ok')}
    </div>
    ${distribution}
    <h3>Over or near a quota (${listed.length})</h3>
    ${
      listed.length === 0
        ? html`<p>Nobody is at or above ${options.warnPercent} % of a quota.</p>`
        : html`<table>
              <thead>
                <tr>
                  <th>user</th>
                  <th>volume</th>
                  <th>hard used / quota</th>
                  <th>hard</th>
                  <th>temporal used / quota</th>
                  <th>temporal</th>
                  <th>temporal quota reached</th>
                  <th>last scan</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
            ${more(listed.length, limit)}`
    }
  </section>`;
}

function healthSection(data: ReportData, options: PageOptions): SafeHtml {
  const { users, health, query } = data;
  const ageCounts = scanAgeDistribution(users, query.now);
  const ageColours = ['#009E73', '#56B4E9', '#E69F00', '#D55E00', '#A50026', '#777777'];
  const scanAge = chart(
    renderChart(
      {
        ...categoryBarsOption({ title: 'Last scan age per user', categories: [...scanAgeLabels], series: [] }),
        series: [
          {
            type: 'bar',
            barMaxWidth: 48,
            label: { show: true, position: 'top' },
            data: ageCounts.map((value, index) => ({ value, itemStyle: { color: ageColours[index] } })),
          },
        ],
      },
      half,
    ),
    'Users by the age of their last scan',
  );
  const durationLabels = ['< 1 s', '1–10 s', '10 s–1 min', '1–10 min', '10–60 min', '≥ 1 h'];
  const durationCounts = durationLabels.map(
    (_label, index) => health.durations.find((row) => row.bucket === index)?.count ?? 0,
  );
  void durationBuckets;
  const durations = chart(
    renderChart(
      categoryBarsOption({
        title: 'Scan durations (complete and partial scans)',
        categories: durationLabels,
        series: [{ name: 'scans', values: durationCounts, colour: palette[4]! }],
      }),
      half,
    ),
    'Scan durations',
  );
  const failures =
    health.failuresByReason.length === 0
      ? html`<div class="empty">No failed scans in this window.</div>`
      : chart(
          renderChart(
            horizontalBarsOption({
              title: 'Failed scans by reason',
              labels: health.failuresByReason.map((row) => row.reason),
              values: health.failuresByReason.map((row) => row.count),
              format: (value) => String(value),
              colour: '#D55E00',
            }),
            { width: half.width, height: Math.max(160, 60 + 30 * health.failuresByReason.length) },
          ),
          'Failed scans by reason',
        );
  const perDay =
    health.scansPerDay.length === 0
      ? html`<div class="empty">No scans in this window.</div>`
      : chart(
          renderChart(scansPerDayOption({ title: 'Scans per day by outcome', rows: health.scansPerDay }), half),
          'Scans per day by outcome',
        );
  const limit = options.tableLimit ?? 50;
  const neverScanned = users.filter((user) => !user.lastScanned);
  const stalest = users
    .filter((user) => user.lastScanned)
    .sort((a, b) => a.lastScanned!.getTime() - b.lastScanned!.getTime())
    .slice(0, 10);
  return html`<section id="health">
    <h2>Scan health</h2>
    <div class="grid">${scanAge}${perDay}${failures}${durations}</div>
    <div class="grid">
      <div>
        <h3>Never scanned (${neverScanned.length})</h3>
        ${
          neverScanned.length === 0
            ? html`<p>Every user has been scanned.</p>`
            : html`<ul class="names">
                  ${neverScanned.slice(0, limit).map((user) => html`<li>${userName(user.username, options)} <span class="dim">${user.volume}</span></li>`)}
                </ul>
                ${more(neverScanned.length, limit)}`
        }
      </div>
      <div>
        <h3>Oldest last scans</h3>
        <table>
          <thead>
            <tr>
              <th>user</th>
              <th>volume</th>
              <th>last scan</th>
              <th>last failure</th>
            </tr>
          </thead>
          <tbody>
            ${stalest.map(
              (user) =>
                html`<tr>
                  <td>${userName(user.username, options)}</td>
                  <td>${user.volume}</td>
                  <td>${formatTime(user.lastScanned)}</td>
                  <td>
                    ${user.lastFailureReason ? `${user.lastFailureReason}, ${formatTime(user.lastFailedAt)}` : '—'}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </div>
  </section>`;
}

export function volumeAnchor(volume: VolumeInfo): string {
  return `volume-${volume.id}`;
}

function volumeSection(data: ReportData, volume: VolumeInfo, options: PageOptions): SafeHtml {
  const users = data.users.filter((user) => user.volume === volume.name);
  const days = dayRange(data.query.since, data.query.now);
  const stack = stackVolume(users, data.history, days, options.topUsers);
  const hard = renderChart(
    stackedUsageOption({
      title: `${volume.name}: hard usage by user`,
      days,
      series: stack.series,
      measure: 'hard',
      thresholds: [
        { name: 'capacity', value: volume.sizeBytes, kind: 'capacity' },
        { name: 'hard quotas allocated', value: volume.hardQuotaBytes, kind: 'quota' },
      ],
    }),
    full,
  );
  const temporal = renderChart(
    stackedUsageOption({
      title: `${volume.name}: temporal usage by user`,
      days,
      series: stack.series,
      measure: 'temporal',
      thresholds: [{ name: 'temporal quotas allocated', value: volume.temporalQuotaByteDays, kind: 'quota' }],
    }),
    full,
  );
  const largest = stack.series.filter((series) => series.username !== undefined);
  return html`<section id="${volumeAnchor(volume)}">
    <h2>Volume ${volume.name} <span class="dim">${volume.mountpoint}</span></h2>
    <div class="cards">
      ${card('capacity', bytesLabel(volume.sizeBytes))}
      ${card('used (last scans)', bytesLabel(volume.usedBytes), volume.usedBytes > volume.sizeBytes * 0.9 ? 'warn' : 'plain')}
      ${card('hard quotas allocated', bytesLabel(volume.hardQuotaBytes), volume.hardQuotaBytes > volume.sizeBytes ? 'warn' : 'plain')}
      ${card('temporal quotas allocated', byteDaysLabel(volume.temporalQuotaByteDays))}
      ${card('users', String(volume.users))}
    </div>
    ${chart(hard, `Hard usage of ${volume.name} over time, stacked by user`)}
    ${chart(temporal, `Temporal usage of ${volume.name} over time, stacked by user`)}
    <p class="dim">
      Largest users:
      ${largest.map((series, index) => html`${index > 0 ? ', ' : ''}${userName(series.name, options)}`)}${
        stack.othersCount > 0 ? html`; the other ${stack.othersCount} grouped in grey.` : '.'
      }
      Quota lines are today's quotas.
    </p>
  </section>`;
}

export function userAnchor(user: UserUsage): string {
  return `user-${String(user.userId)}`;
}

export function userSection(data: ReportData, user: UserUsage, latest: LatestScan | null | undefined): SafeHtml {
  const days = dayRange(data.query.since, data.query.now);
  const values = carryForward(data.history.get(String(user.userId)), days);
  const hard = renderChart(
    userUsageOption({
      title: 'Hard usage',
      days,
      values: values.hard,
      measure: 'hard',
      quota: Number(user.hardQuota),
    }),
    half,
  );
  const temporal = renderChart(
    userUsageOption({
      title: 'Temporal usage',
      days,
      values: values.temporal,
      measure: 'temporal',
      quota: Number(user.temporalQuota),
    }),
    half,
  );
  const top = latest?.topDirectories?.byBytes ?? [];
  const topChart =
    top.length === 0
      ? html`<div class="empty">No directories in the latest scan.</div>`
      : chart(
          renderChart(
            horizontalBarsOption({
              title: 'Top directories (latest scan, by size)',
              labels: top.slice(0, 10).map((entry) => entry.path),
              values: top.slice(0, 10).map((entry) => Number(entry.bytes)),
              format: bytesLabel,
            }),
            { width: half.width, height: Math.max(160, 70 + 28 * Math.min(10, top.length)) },
          ),
          'Top directories of the latest scan',
        );
  const ages = latest?.ageHistogram ?? [];
  const ageChart =
    ages.length === 0
      ? html`<div class="empty">No age histogram in the latest scan.</div>`
      : chart(
          renderChart(
            categoryBarsOption({
              title: 'Age of the data (latest scan)',
              categories: ages.map((bucket) => bucket.label),
              series: [{ name: 'bytes', values: ages.map((bucket) => Number(bucket.bytes)), colour: palette[2]! }],
              format: bytesLabel,
              bytes: true,
            }),
            half,
          ),
          'Bytes by age of the latest scan',
        );
  return html`<section class="user" id="${userAnchor(user)}">
    <h2>User ${user.username} <span class="dim">${user.volume} · ${user.workDir}</span></h2>
    <div class="cards">
      ${card('hard used / quota', `${formatBytes(user.hardUsed)} / ${formatBytes(user.hardQuota)}`)}
      ${card('of hard quota', pct(user.hardPercent), user.hardPercent >= 100 ? 'bad' : user.hardPercent >= 90 ? 'warn' : 'ok')}
      ${card('temporal used / quota', `${formatByteDays(user.temporalUsed)} / ${formatByteDays(user.temporalQuota)}`)}
      ${card('of temporal quota', pct(user.temporalPercent), user.temporalPercent >= 100 ? 'bad' : user.temporalPercent >= 90 ? 'warn' : 'ok')}
      ${card('temporal quota reached', forecastText(user))}
      ${card('last scan', `${formatTime(user.lastScanned)}${user.lastScanStatus ? ` (${user.lastScanStatus})` : ''}`)}
    </div>
    <div class="grid">
      ${chart(hard, `Hard usage of ${user.username} against the hard quota`)}${chart(temporal, `Temporal usage of ${user.username} against the temporal quota`)}
      ${topChart}${ageChart}
    </div>
  </section>`;
}

function document(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta
          http-equiv="Content-Security-Policy"
          content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        />
        <title>${title}</title>
        <style>
          ${trusted(pageStyle)}
        </style>
      </head>
      <body>
        ${body}
        <footer>xfc report · read-only view of the xfc database · charts rendered on the server (ECharts SVG)</footer>
      </body>
    </html> `.value;
}

/**
 * The operators' page: the fleet, scan health, each volume, and (when `details` names them) sections for users.
 */
export function renderReportPage(data: ReportData, options: PageOptions): string {
  const nav = html`<a href="#fleet">Fleet</a><a href="#health">Scan health</a>${data.volumes.map(
      (volume) => html`<a href="#${volumeAnchor(volume)}">${volume.name}</a>`,
    )}`;
  const details = [...data.latest.keys()]
    .map((username) => data.users.find((user) => user.username === username))
    .filter((user): user is UserUsage => user !== undefined);
  const body = html`${header(data, 'XFC usage report', nav)}
    <main>
      ${fleetSection(data, options)} ${healthSection(data, options)}
      ${data.volumes.map((volume) => volumeSection(data, volume, options))}
      ${details.length > 0 ? html`<h2 class="part">Largest users</h2>` : ''}
      ${details.map((user) => userSection(data, user, data.latest.get(user.username)))}
    </main>`;
  return document('XFC usage report', body);
}

/** One user's page (`xfc report --user NAME`, `/user/NAME` when served). */
export function renderUserPage(data: ReportData, username: string, backLink: string | null): string {
  const user = data.users.find((candidate) => candidate.username === username);
  const nav = backLink ? html`<a href="${backLink}">← the whole report</a>` : html``;
  const body = user
    ? html`${header(data, `XFC usage of ${username}`, nav)}
        <main>${userSection(data, user, data.latest.get(username))}</main>`
    : html`${header(data, 'XFC usage report', nav)}
        <main><p>No user named ${username}.</p></main>`;
  return document(`XFC usage of ${username}`, body);
}
