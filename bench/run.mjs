#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only id,id] [-- --scaffold-counts]
//
// Measures the runtime against its anchors, each case alternating ours and
// the anchor in the same run, and writes the table to stdout, results.json
// and README.md. See README.md for what each case measures and why.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

import daemonizeCases from './cases/daemonize.mjs';
import importCases from './cases/import.mjs';
import logCases from './cases/log.mjs';
import notifyCases from './cases/notify.mjs';
import scaffoldCases from './cases/scaffold.mjs';
import sockactCases from './cases/sockact.mjs';
import { cleanEnv, leftovers, NODE, removeScratch, RUNTIME, scratch, sleep, terminate } from './lib/proc.mjs';
import { writeCharts } from './lib/chart.mjs';
import { machine, printTable, writeReadme, writeResults } from './lib/report.mjs';
import { setup } from './lib/setup.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, 'scaffold-counts': { type: 'boolean', default: false } },
});
const quick = args.quick;
const only = args.only
  ? new Set(
      args.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
  : null;

/**
 * The lead rebuilds runtime/dist while we run: an import that fails is
 * retried every 30 s (up to 10 minutes) before a case starts, instead of
 * turning a rebuild into a failed case.
 */
function runtimeImports() {
  const probe = spawnSync(
    NODE,
    ['-e', `import(${JSON.stringify(RUNTIME)}).then((m) => { if (typeof m.notify !== 'function') process.exit(3); })`],
    { env: cleanEnv(), encoding: 'utf8' },
  );
  return probe.status === 0 ? null : probe.stderr.trim().slice(-500) || `exit ${probe.status}`;
}

async function waitForRuntime() {
  for (let attempt = 1; ; attempt++) {
    const problem = runtimeImports();
    if (problem === null) return;
    if (attempt >= 20) throw new Error(`cannot import ${RUNTIME}: ${problem}`);
    console.log(`[bench] ${RUNTIME} does not import (being rebuilt?); retrying in 30 s`);
    await sleep(30_000);
  }
}

async function runCase(c) {
  try {
    return await c.run();
  } catch (error) {
    // A case that cannot run at all is reported, and the others still run.
    return {
      id: c.id,
      title: c.title,
      unit: null,
      ours: null,
      anchor: null,
      anchorName: null,
      ratio: null,
      target: null,
      met: false,
      runs: 0,
      extra: [],
      failed: [`${error.stack ?? error}`],
    };
  }
}

const started = Date.now();
const tools = setup();
// Scaffold instruction counts are opt-in: a whole generator under callgrind
// is minutes of CPU each, half an hour of wall time on a shared machine.
const ctx = { quick, tools, scaffoldCounts: args['scaffold-counts'] };
const cases = [
  ...notifyCases(ctx),
  ...importCases(ctx),
  ...logCases(ctx),
  ...sockactCases(ctx),
  ...daemonizeCases(ctx),
  ...scaffoldCases(ctx),
].filter((c) => !only || only.has(c.id));
if (only) {
  const unknown = [...only].filter((id) => !cases.some((c) => c.id === id));
  if (unknown.length) {
    console.error(`unknown case id(s): ${unknown.join(', ')}`);
    process.exit(2);
  }
}

const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const host = machine();
console.log(
  `[bench] ${quick ? 'quick' : 'full'} run, ${cases.length} case(s); ${host.cpu}, ${host.cores} cores, Linux ${host.kernel}, Node ${host.node}`,
);

const entries = [];
let failedCases = 0;
try {
  for (const c of cases) {
    await waitForRuntime();
    const caseStart = Date.now();
    process.stdout.write(`[bench] ${c.id} ... `);
    let entry = await runCase(c);
    if (entry.failed && runtimeImports() !== null) {
      // The runtime was being rebuilt under the case: once it imports again, run the case again.
      console.log('runtime/dist changed under the case; re-running it');
      await waitForRuntime();
      entry = await runCase(c);
    }
    // A case's id and title are written once, in its case object: the entry takes them from there.
    entry = {
      ...entry,
      id: entry.id ?? c.id,
      title: entry.title ?? c.title,
      date,
      mode: quick ? 'quick' : 'full',
      machine: host,
      seconds: Math.round((Date.now() - caseStart) / 100) / 10,
    };
    if (entry.failed) failedCases++;
    console.log(`${entry.seconds} s${entry.failed ? ' FAILED' : ''}`);
    entries.push(entry);
  }
} finally {
  // Nothing the bench started may outlive it.
  const left = leftovers(scratch());
  for (const { pid } of left) await terminate(pid);
  removeScratch();
  if (left.length) {
    console.error(`[bench] processes left running (now killed):\n${left.map((p) => `  ${p.pid} ${p.cmd}`).join('\n')}`);
    process.exitCode = 1;
  }
}

console.log('');
printTable(entries);
const all = writeResults(entries, { partial: only !== null });
writeReadme(all);
writeCharts(all);
console.log(
  `\n[bench] wrote bench/results.json, bench/charts/*.svg and the table in bench/README.md; ${Math.round((Date.now() - started) / 1000)} s in all`,
);
if (failedCases) process.exitCode = 1;
