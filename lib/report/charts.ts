import * as echarts from 'echarts';
import { formatByteDays, formatBytes } from '../common/units.js';
import { dayMs, type StackSeries } from './series.js';

/**
 * Chart specifications (ECharts options) and their server-side rendering to SVG strings. ECharts escapes every
 * text it draws (series names, axis labels are usernames and directory names), and the SVG it returns has no
 * script: the page embeds it as is. Animation is off: a server-side render is one frame.
 */

type Option = echarts.EChartsCoreOption;

export interface ChartSize {
  width: number;
  height: number;
}

/** Renders one option to an SVG string. */
export function renderChart(option: Option, size: ChartSize): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export const fontFamily = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

/** Distinct, colour-blind-friendly (Okabe–Ito based, then Tableau) colours; the grouped rest is grey. */
export const palette = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#8C6D31',
  '#7F3C8D',
  '#11A579',
  '#3969AC',
];
const othersColour = '#B8BCC2';
const quotaColour = '#C62828';
const capacityColour = '#222222';

export function bytesLabel(value: number): string {
  return formatBytes(BigInt(Math.round(value)));
}

export function byteDaysLabel(value: number): string {
  return formatByteDays(BigInt(Math.round(value)));
}

function dayLabel(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface Threshold {
  name: string;
  value: number;
  kind: 'capacity' | 'quota';
}

const baseGrid = { left: 84, right: 24, top: 40, bottom: 64 };

function valueAxis(format: (value: number) => string): Option {
  return {
    type: 'value',
    axisLabel: { formatter: format, color: '#444' },
    splitLine: { lineStyle: { color: '#E6E6E6' } },
  };
}

const timeAxis: Option = {
  type: 'time',
  splitNumber: 5,
  axisLabel: { formatter: '{yyyy}-{MM}-{dd}', color: '#444', hideOverlap: true },
  splitLine: { show: false },
};

const units = [2 ** 60, 2 ** 50, 2 ** 40, 2 ** 30, 2 ** 20, 2 ** 10, 1];

/**
 * A byte axis whose ticks fall on round figures of one IEC unit (0, 50 TiB, 100 TiB …), not on decimal multiples
 * of bytes (454.7 TiB).
 */
export function byteAxisScale(max: number, ticks = 5): { max: number; interval: number } {
  if (!(max > 0)) return { max: 1024, interval: 256 };
  const unit = units.find((candidate) => max >= candidate) ?? 1;
  const raw = max / unit / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= raw) ?? 10) * magnitude * unit;
  return { max: Math.ceil(max / step) * step, interval: step };
}

function byteValueAxis(format: (value: number) => string, max: number): Option {
  return { ...valueAxis(format), ...byteAxisScale(max) };
}

function thresholdSeries(days: number[], thresholds: Threshold[]): Option[] {
  const first = days[0]! * dayMs;
  const last = days.at(-1)! * dayMs;
  return thresholds.map((threshold) => ({
    name: threshold.name,
    type: 'line',
    symbol: 'none',
    data: [
      [first, threshold.value],
      [last, threshold.value],
    ],
    lineStyle: {
      color: threshold.kind === 'capacity' ? capacityColour : quotaColour,
      type: threshold.kind === 'capacity' ? 'solid' : 'dashed',
      width: 2,
    },
    itemStyle: { color: threshold.kind === 'capacity' ? capacityColour : quotaColour },
    z: 5,
  }));
}

/** Usage over time stacked by user (the grouped rest last), with capacity and quota lines. */
export function stackedUsageOption(input: {
  title: string;
  days: number[];
  series: StackSeries[];
  measure: 'hard' | 'temporal';
  thresholds: Threshold[];
}): Option {
  const format = input.measure === 'hard' ? bytesLabel : byteDaysLabel;
  const times = input.days.map((day) => day * dayMs);
  let top = Math.max(0, ...input.thresholds.map((threshold) => threshold.value));
  for (let at = 0; at < times.length; at++) {
    let sum = 0;
    for (const series of input.series) sum += series[input.measure][at] ?? 0;
    top = Math.max(top, sum);
  }
  return {
    title: { text: input.title, left: 8, top: 6, textStyle: { fontSize: 14, fontWeight: 600 } },
    legend: { bottom: 0, type: 'plain', itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 } },
    grid: baseGrid,
    xAxis: timeAxis,
    yAxis: byteValueAxis(format, top),
    series: [
      ...input.series.map((series, index) => ({
        name: series.name,
        type: 'line',
        stack: 'usage',
        symbol: 'none',
        lineStyle: { width: 0.5 },
        areaStyle: { opacity: 0.85 },
        color: series.username === undefined ? othersColour : palette[index % palette.length],
        data: times.map((time, at) => [time, series[input.measure][at]]),
      })),
      ...thresholdSeries(input.days, input.thresholds),
    ],
  };
}

/** One user's usage over time against a quota. */
export function userUsageOption(input: {
  title: string;
  days: number[];
  values: number[];
  measure: 'hard' | 'temporal';
  quota: number;
}): Option {
  const format = input.measure === 'hard' ? bytesLabel : byteDaysLabel;
  return {
    title: { text: input.title, left: 8, top: 6, textStyle: { fontSize: 14, fontWeight: 600 } },
    legend: { bottom: 0, textStyle: { fontSize: 11 } },
    grid: baseGrid,
    xAxis: { ...timeAxis, splitNumber: 3 },
    yAxis: byteValueAxis(format, Math.max(input.quota, ...input.values)),
    series: [
      {
        name: input.measure === 'hard' ? 'hard usage' : 'temporal usage',
        type: 'line',
        symbol: 'none',
        areaStyle: { opacity: 0.25 },
        color: palette[0],
        data: input.days.map((day, at) => [day * dayMs, input.values[at]]),
      },
      ...thresholdSeries(input.days, [
        { name: input.measure === 'hard' ? 'hard quota' : 'temporal quota', value: input.quota, kind: 'quota' },
      ]),
    ],
  };
}

/** Horizontal bars, largest at the top (top directories, failures by reason). */
export function horizontalBarsOption(input: {
  title: string;
  labels: string[];
  values: number[];
  format: (value: number) => string;
  colour?: string;
}): Option {
  return {
    title: { text: input.title, left: 8, top: 6, textStyle: { fontSize: 14, fontWeight: 600 } },
    grid: { left: 168, right: 90, top: 40, bottom: 16 },
    xAxis: { ...valueAxis(input.format), axisLabel: { show: false } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: input.labels,
      axisLabel: { color: '#333', width: 156, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        data: input.values,
        color: input.colour ?? palette[0],
        barMaxWidth: 22,
        label: { show: true, position: 'right', formatter: (p: { value: number }) => input.format(p.value) },
      },
    ],
  };
}

/** Vertical bars over categories, one or more series (distributions, histograms). */
export function categoryBarsOption(input: {
  title: string;
  categories: string[];
  series: Array<{ name: string; values: number[]; colour: string }>;
  format?: (value: number) => string;
  /** Round the axis to IEC units (the values are bytes). */
  bytes?: boolean;
  stack?: boolean;
}): Option {
  const format = input.format ?? ((value: number) => String(value));
  const top = Math.max(0, ...input.series.flatMap((series) => series.values));
  return {
    title: { text: input.title, left: 8, top: 6, textStyle: { fontSize: 14, fontWeight: 600 } },
    legend: input.series.length > 1 ? { bottom: 0, textStyle: { fontSize: 11 } } : { show: false },
    grid: { left: 56, right: 16, top: 40, bottom: input.series.length > 1 ? 56 : 36, containLabel: true },
    xAxis: { type: 'category', data: input.categories, axisLabel: { color: '#444', interval: 0, fontSize: 10 } },
    yAxis: input.bytes ? byteValueAxis(format, top) : valueAxis(format),
    series: input.series.map((series) => ({
      name: series.name,
      type: 'bar',
      data: series.values,
      color: series.colour,
      barMaxWidth: 36,
      ...(input.stack ? { stack: 'all' } : {}),
    })),
  };
}

/** Scans per day by status (stacked bars on a time axis). */
export function scansPerDayOption(input: {
  title: string;
  rows: Array<{ day: number; complete: number; partial: number; failed: number }>;
}): Option {
  const series = (name: 'complete' | 'partial' | 'failed', colour: string): Option => ({
    name,
    type: 'bar',
    stack: 'scans',
    color: colour,
    barMaxWidth: 10,
    data: input.rows.map((row) => [row.day * dayMs, row[name]]),
  });
  return {
    title: { text: input.title, left: 8, top: 6, textStyle: { fontSize: 14, fontWeight: 600 } },
    legend: { bottom: 0, textStyle: { fontSize: 11 } },
    grid: { left: 56, right: 16, top: 40, bottom: 56 },
    xAxis: { ...timeAxis, axisLabel: { ...(timeAxis['axisLabel'] as object), formatter: dayLabel } },
    yAxis: valueAxis((value) => String(value)),
    series: [series('complete', '#009E73'), series('partial', '#E69F00'), series('failed', '#D55E00')],
  };
}
