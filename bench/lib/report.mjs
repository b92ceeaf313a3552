// The three outputs: the table on stdout, bench/results.json, and the table
// between the markers in bench/README.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BENCH } from './proc.mjs';
import { fmt, fmtRange } from './stats.mjs';

export const RESULTS = path.join(BENCH, 'results.json');
const README = path.join(BENCH, 'README.md');
const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    kernel: os.release(),
    node: process.version,
  };
}

const metText = (met) => (met === null || met === undefined ? '-' : met ? 'yes' : 'NO');
const targetText = (target) => (target === null || target === undefined ? '-' : `<= ${target}`);
const ratioText = (range) => (range ? fmtRange(range) : '-');

/**
 * Table rows, shared by the terminal and the Markdown renderings: one row
 * per case against its main anchor, then one per secondary anchor (its value
 * also as a multiple of the main anchor), or per further measurement of ours.
 */
/** An instruction count, in millions (M) or thousands (k) per call. */
export function fmtCount(value, unit = '') {
  if (value === null || value === undefined) return '-';
  const digits = (v) => Number(v.toPrecision(4)).toString();
  if (Math.abs(value) >= 1e6) return `${digits(value / 1e6)}M${unit}`;
  if (Math.abs(value) >= 1e3) return `${digits(value / 1e3)}k${unit}`;
  return `${digits(value)}${unit}`;
}

const spreadText = (s) => (s === null || s === undefined ? '' : ` ±${fmt(s * 100, 2)}%`);

function rows(entries) {
  const out = [];
  for (const e of entries) {
    const status = e.failed ? 'FAILED' : metText(e.met);
    const ins = e.instructions;
    const insAnchor = ins?.anchorName && ins.anchorName !== e.anchorName ? ` (${ins.anchorName})` : '';
    const insOurs = ins ? `${fmtCount(ins.ours)}${spreadText(ins.spread?.[Object.keys(ins.counts)[0]])}` : '-';
    out.push([
      e.id,
      e.anchorName ?? '-',
      e.unit ?? '-',
      fmtRange(e.ours),
      e.anchor ? fmtRange(e.anchor) : '-',
      ratioText(e.ratio),
      insOurs,
      ins ? `${fmtCount(ins.anchor)}${insAnchor}` : '-',
      ins?.ratio ? fmt(ins.ratio, 4) : '-',
      targetText(e.instructions?.target ?? e.target),
      status,
    ]);
    for (const x of e.extra ?? []) {
      if (x.ours) {
        out.push([`  + ${x.name}`, '-', e.unit ?? '-', fmtRange(x.value), '-', '-', '-', '-', '-', '-', x.failed ? 'FAILED' : '-']);
        continue;
      }
      const vs = x.vsAnchor ? ` = ${fmt(x.vsAnchor.median)}x anchor` : '';
      out.push([
        '',
        `vs ${x.name}`,
        e.unit ?? '-',
        '',
        `${fmtRange(x.value)}${vs}`,
        ratioText(x.ratio),
        '',
        '',
        '',
        targetText(x.target),
        x.failed ? 'FAILED' : metText(x.met),
      ]);
    }
    for (const x of ins?.extra ?? []) {
      out.push([
        '',
        `instructions vs ${x.name}`,
        '-',
        '',
        '',
        '',
        '',
        fmtCount(x.value),
        x.ratio ? fmt(x.ratio, 4) : '-',
        targetText(x.target),
        metText(x.met),
      ]);
    }
  }
  return out;
}

const HEADER = [
  'case',
  'anchor',
  'unit',
  'ours: median (min-max)',
  'anchor: median (min-max)',
  'wall ratio: median (min-max)',
  'instructions: ours (spread)',
  'instructions: anchor',
  'instruction ratio',
  'target',
  'met',
];

export function printTable(entries) {
  const all = [HEADER, ...rows(entries)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(HEADER));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of all.slice(1)) console.log(line(r));
  for (const e of entries) {
    for (const note of e.notes ?? []) console.log(`  ${e.id}: ${note}`);
    for (const failure of e.failed ?? []) console.log(`  ${e.id} FAILED: ${failure}`);
    for (const x of e.extra ?? []) if (x.failed) console.log(`  ${e.id} vs ${x.name} FAILED: ${x.failed}`);
  }
}

/**
 * Writes results.json. With --only, the entries of the cases that ran
 * replace theirs in the existing file and the others are kept (each entry
 * carries its own date and mode).
 */
export function writeResults(entries, { partial }) {
  let all = entries;
  if (partial && existsSync(RESULTS)) {
    const previous = JSON.parse(readFileSync(RESULTS, 'utf8'));
    const ran = new Set(entries.map((e) => e.id));
    const order = previous.map((e) => e.id);
    all = [...previous.filter((e) => !ran.has(e.id)), ...entries].sort((a, b) => {
      const ia = order.indexOf(a.id);
      const ib = order.indexOf(b.id);
      return (ia === -1 ? 1e9 : ia) - (ib === -1 ? 1e9 : ib);
    });
  }
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
  return all;
}

const md = (cell) => cell.replaceAll('|', '\\|');

/** Regenerates the README section between the markers from `entries`. */
export function writeReadme(entries) {
  if (!existsSync(README)) return;
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end === -1 || end < start) throw new Error(`${README}: markers ${START} / ${END} not found`);
  const runs = [
    ...new Set(
      entries.map(
        (e) =>
          `${e.date} (${e.mode}${e.machine ? `, ${e.machine.cpu}, ${e.machine.cores} cores, Linux ${e.machine.kernel}, Node ${e.machine.node}` : ''})`,
      ),
    ),
  ];
  const body = [
    START,
    `<!-- generated by bench/run.mjs from results.json: do not edit by hand -->`,
    '',
    `Run${runs.length > 1 ? 's' : ''}: ${runs.join('; ')}.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows(entries).map((r) => `| ${r.map((cell, i) => md(i === 0 ? cell.replace(/^ {2}\+ /, '&nbsp;&nbsp;+ ') : cell)).join(' | ')} |`),
    '',
    ...entries.flatMap((e) => [
      ...(e.notes ?? []).map((n) => `- \`${e.id}\`: ${n}`),
      ...(e.failed ?? []).map((f) => `- \`${e.id}\` **failed**: ${f.split('\n')[0]}`),
      ...(e.extra ?? []).filter((x) => x.failed).map((x) => `- \`${e.id}\` vs ${x.name} **failed**: ${x.failed.split('\n')[0]}`),
    ]),
    '',
    `Targets are judged on the instruction ratio where there is one (the wall ratio is the check). Instruction counts: callgrind's Ir (user-space instructions), node run as \`node ${'--single-threaded --v8-pool-size=0 --hash-seed=1 --random-seed=1'}\`; spread = (max - min) / min of the repeated counts of ours. Charts: ${entries.map((e) => `[${e.id}](charts/${e.id}.svg)`).join(', ')}.`,
    END,
  ].join('\n');
  writeFileSync(README, text.slice(0, start) + body + text.slice(end + END.length));
}
