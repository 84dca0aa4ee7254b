import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The metric names that deploy/monitoring's alert rules and Grafana dashboard query. */

export const monitoringDir = fileURLToPath(new URL('../../deploy/monitoring/', import.meta.url));

/** Names in a PromQL expression that are metrics (not functions, keywords or label names). */
export function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const withoutLabels = withoutStrings.replace(/\{[^}]*\}/g, '{}').replace(/\b(by|without)\s*\([^)]*\)/g, '');
  const names = withoutLabels.match(/\b(?:xfc|process|nodejs)_[a-zA-Z0-9_]+\b/g) ?? [];
  return [...new Set(names)];
}

export function ruleExpressions(): string[] {
  const text = readFileSync(`${monitoringDir}alerts.yml`, 'utf8');
  // `expr: >-` blocks continue on the following, more indented lines; single-line exprs end at the line.
  const exprs: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    const [, indent = '', rest = ''] = match;
    if (rest !== '>-' && rest !== '|' && rest !== '>') {
      exprs.push(rest);
      return;
    }
    const body: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= indent.length) break;
      body.push(next.trim());
    }
    exprs.push(body.join(' '));
  });
  return exprs;
}

export function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(`${monitoringDir}grafana-dashboard.json`, 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ query?: unknown }> };
  };
  const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  for (const variable of dashboard.templating.list) if (typeof variable.query === 'string') exprs.push(variable.query);
  return exprs;
}

/** A histogram is queried through its _bucket, _sum and _count series; they are exported under its name. */
export function exportedName(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}
