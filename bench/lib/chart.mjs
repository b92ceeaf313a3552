// One SVG chart per case, written by the bench run into bench/charts/: the
// ratios ours / anchor as horizontal bars (instructions and wall time, wall
// with its min-max whisker), the anchor at 1 and the target as a dashed
// line. Hand-written SVG: no plotting dependency for a few bars.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { BENCH } from './proc.mjs';
import { fmt } from './stats.mjs';

export const CHARTS = path.join(BENCH, 'charts');

const esc = (text) => String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** The bars of one entry: { label, value, min?, max?, kind: 'instructions' | 'wall' }. */
function bars(entry) {
  const out = [];
  const ins = entry.instructions;
  if (ins?.ratio) out.push({ label: `instructions vs ${ins.anchorName ?? entry.anchorName}`, value: ins.ratio, kind: 'instructions' });
  for (const x of ins?.extra ?? []) if (x.ratio) out.push({ label: `instructions vs ${x.name}`, value: x.ratio, kind: 'instructions' });
  if (entry.ratio)
    out.push({ label: `wall vs ${entry.anchorName}`, value: entry.ratio.median, min: entry.ratio.min, max: entry.ratio.max, kind: 'wall' });
  for (const x of entry.extra ?? [])
    if (x.ratio) out.push({ label: `wall vs ${x.name}`, value: x.ratio.median, min: x.ratio.min, max: x.ratio.max, kind: 'wall' });
  return out;
}

/** The SVG text of one entry's chart, or null when it has no ratio to show. */
export function chartSvg(entry) {
  const rows = bars(entry);
  if (rows.length === 0) return null;
  const target = entry.instructions?.target ?? entry.target;
  const labelWidth = 330;
  const plotWidth = 420;
  const rowHeight = 26;
  const top = 46;
  const width = labelWidth + plotWidth + 70;
  const height = top + rows.length * rowHeight + 40;
  // A log scale when the ratios span more than a decade (notify against systemd-notify).
  const values = rows.flatMap((r) => [r.value, r.max ?? r.value, r.min ?? r.value]).concat([1, target ?? 1]);
  const hi = Math.max(...values) * 1.1;
  const lo = Math.min(...values);
  const log = hi / lo > 20;
  const floor = log ? lo / 2 : 0;
  const x = (v) => labelWidth + (log ? (Math.log(v / floor) / Math.log(hi / floor)) * plotWidth : (v / hi) * plotWidth);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(entry.id)}: ${esc(entry.title ?? '')}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(entry.id)}: ${esc(entry.title ?? '')}</text>`,
    `<text x="10" y="36" fill="#555">ratio ours / anchor, lower is better${log ? ' (log scale)' : ''}; ${esc(entry.date ?? '')} (${esc(entry.mode ?? '')})</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowHeight;
    const color = r.kind === 'instructions' ? '#2b6cb0' : '#9c9c9c';
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${esc(r.label.length > 52 ? `${r.label.slice(0, 50)}...` : r.label)}</text>`,
    );
    parts.push(
      `<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, x(r.value) - labelWidth).toFixed(1)}" height="${rowHeight - 10}" fill="${color}"/>`,
    );
    if (r.min !== undefined && r.max !== undefined) {
      parts.push(`<line x1="${x(r.min).toFixed(1)}" x2="${x(r.max).toFixed(1)}" y1="${y + 13}" y2="${y + 13}" stroke="black"/>`);
    }
    parts.push(`<text x="${(Math.max(x(r.value), x(r.max ?? r.value)) + 4).toFixed(1)}" y="${y + 17}">${fmt(r.value, 4)}</text>`);
  });
  const bottom = top + rows.length * rowHeight;
  parts.push(`<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="black"/>`);
  parts.push(`<text x="${x(1).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">1 = anchor</text>`);
  if (target) {
    parts.push(
      `<line x1="${x(target).toFixed(1)}" x2="${x(target).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#c53030" stroke-dasharray="4 3"/>`,
    );
    parts.push(`<text x="${x(target).toFixed(1)}" y="${bottom + 28}" text-anchor="middle" fill="#c53030">target ${fmt(target, 4)}</text>`);
  }
  parts.push(`<text x="10" y="${height - 6}" fill="#555">blue: instructions (callgrind); grey: wall time, median with min-max</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Writes bench/charts/<id>.svg for every entry that has a ratio; returns the files written. */
export function writeCharts(entries) {
  mkdirSync(CHARTS, { recursive: true });
  const written = [];
  for (const entry of entries) {
    const svg = chartSvg(entry);
    if (!svg) continue;
    const file = path.join(CHARTS, `${entry.id}.svg`);
    writeFileSync(file, svg);
    written.push(file);
  }
  return written;
}
