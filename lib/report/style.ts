/** The page's only stylesheet (inline: the page needs no network). */
export const pageStyle = `
:root { color-scheme: light; --ink: #1d2330; --dim: #5f6673; --line: #e3e6ea; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { background: #1f3a5f; color: #fff; padding: 18px 28px 12px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 650; }
header .meta { margin: 0 0 10px; color: #c9d6e8; font-size: 13px; }
nav a { color: #fff; margin-right: 16px; text-decoration: none; border-bottom: 1px solid #7f9cc4; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 32px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 18px 0; }
h2 { font-size: 18px; margin: 0 0 12px; }
h2.part { margin: 28px 0 0; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.dim { color: var(--dim); font-weight: normal; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 12px; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; border-left-width: 4px; }
.card .value { font-size: 16px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--dim); font-size: 12px; }
.card.ok { border-left-color: #009E73; } .card.warn { border-left-color: #E69F00; }
.card.bad { border-left-color: #D55E00; } .card.plain { border-left-color: #9aa5b4; }
figure.chart { margin: 6px 0; }
figure.chart svg { max-width: 100%; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px 20px; align-items: start; }
.empty { color: var(--dim); padding: 24px 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { color: var(--dim); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.over td:first-child { border-left: 3px solid #D55E00; } tr.near td:first-child { border-left: 3px solid #E69F00; }
ul.names { columns: 3; margin: 0; padding-left: 18px; }
.more { color: var(--dim); }
a { color: #1f5fa8; }
footer { text-align: center; color: var(--dim); font-size: 12px; padding: 0 0 24px; }
`;
