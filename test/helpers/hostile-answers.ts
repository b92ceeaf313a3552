// The hostile-answers corpus run (test/reliability/generator-answers-*.test.ts):
// every input of test/helpers/hostile-corpus.ts given to every option a user
// can type, parsed once per file by the generator's own parseAnswers, with
// what each case must read back as, the fast-path renderers the generator
// writes files with, and the summary each file ends with.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { OPTIONS, parseAnswers, type Answers } from '../../generators/lib/answers.js';
import { initScriptContext, unitContext } from '../../generators/lib/context.js';
import { renderText } from '../../generators/lib/render.js';
import type { UnitFile } from './generator.js';
import { CORPUS, MARKER, type HostileInput } from './hostile-corpus.js';

export type Raw = Record<string, string>;

/** What every case starts from; a field overrides one answer (and `base`, where its option needs others). */
export const BASE: Raw = {
  description: 'hostile corpus case',
  installPath: '/opt/ga',
  nodePath: process.execPath,
  systemdVersion: '252',
  initSystems: 'systemd,sysv,openrc',
};

/** One thing the real manager must show for an accepted value. */
export type Expectation =
  | { unit: 'service' | 'socket'; property: string; value: string }
  /** ExecStart=: the executable systemd runs and the argv it passes (after its own `$$` -> `$`). */
  | { unit: 'service'; exec: { path: string; argv: string[] } };

export interface Field {
  /** A label: the option and how the input is embedded. */
  id: string;
  /** The option a refusal must name. */
  flag: string;
  set: (v: string) => Raw;
  /** A harmless value, which must be accepted. */
  benign: string;
  base?: Raw;
  /** The scope the units are rendered for in the manager: user, except where the option only exists for system. */
  scope?: 'system' | 'user';
  expect?: (v: string, a: Answers) => Expectation[];
  /** `systemctl show` properties that may differ from the twin's (the value's own settings). */
  differs?: string[];
}

export const ENTRY = 'dist/main.js';
export const execOf = (node: string, dir: string): Expectation => ({
  unit: 'service',
  exec: { path: node, argv: [node, `${dir}/${ENTRY}`] },
});
export const EXEC_PROPS = ['ExecStart', 'ExecStartEx'];
export const PATH_PROPS = ['WorkingDirectory', 'RequiresMountsFor', 'After', 'Requires', ...EXEC_PROPS];
/** A list value adds sockets (tcp:1:80,unix:/run/x is one --sockets value): a unix path brings its mount dependencies. */
export const SOCKET_PROPS = ['Listen', 'RequiresMountsFor', 'After', 'Requires'];

/** C0, DEL and C1 controls, and lone surrogates: nothing a line-based file, or UTF-8, carries as given. */
export const UNREPRESENTABLE = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u;

/** Separator spaces around a list item or a number are not part of it; nothing else is trimmed. */
export const spaceTrim = (text: string): string => text.replace(/^ +| +$/g, '');

/**
 * The sockets a --sockets value literally names, as `systemctl show -p Listen`
 * prints them (port-only binds [::]); null when it names none.
 */
export function literalListen(raw: string): string[] | null {
  const text = spaceTrim(raw);
  if (text === '' || text === 'none') return [];
  const out: string[] = [];
  for (const item of text.split(',').map(spaceTrim)) {
    const m = /^(tcp|udp|unix):([^]*)$/.exec(item);
    if (!m) return null;
    if (m[1] === 'unix') {
      out.push(`${m[2]} (Stream)`);
      continue;
    }
    const hp = /^(?:([^]*):)?([0-9]+)$/.exec(m[2]!);
    if (!hp) return null;
    out.push(`${hp[1] ?? '[::]'}:${Number(hp[2])} (${m[1] === 'tcp' ? 'Stream' : 'Datagram'})`);
  }
  return out;
}

/** What Listen= must show; nothing when the value is not a literal list (the parse check reports that). */
export const listenExpect = (raw: string): Expectation[] =>
  UNREPRESENTABLE.test(raw) ? [] : (literalListen(raw) ?? []).map((value) => ({ unit: 'socket', property: 'Listen', value }));

/** A number as the option literally gives it (separator spaces aside), or NaN. */
export const literalNumber = (raw: string): number => (/^[0-9]+$/.test(spaceTrim(raw)) ? Number(spaceTrim(raw)) : NaN);

export const FIELDS: Field[] = [
  {
    id: 'name',
    flag: 'name',
    set: (v) => ({ name: v }),
    benign: 'ga-control',
    expect: (v) => [{ unit: 'service', property: 'Id', value: `${v}.service` }],
  },
  {
    id: 'description',
    flag: 'description',
    set: (v) => ({ description: v }),
    benign: 'benign',
    expect: (v) => [
      { unit: 'service', property: 'Description', value: v },
      { unit: 'socket', property: 'Description', value: `Sockets for ${v}` },
    ],
    differs: ['Description'],
  },
  {
    id: 'socket-name',
    flag: 'socket-name',
    set: (v) => ({ socketName: v }),
    benign: 'http',
    expect: (v) => [{ unit: 'socket', property: 'FileDescriptorName', value: v }],
    differs: ['FileDescriptorName'],
  },
  {
    id: 'run-as',
    flag: 'run-as',
    set: (v) => ({ runAs: v }),
    benign: 'daemon',
    scope: 'system',
    expect: (v) => [{ unit: 'service', property: 'User', value: v }],
    differs: ['User'],
  },
  {
    id: 'install-path',
    flag: 'install-path',
    set: (v) => ({ installPath: v }),
    benign: '/srv/benign',
    expect: (v) => [{ unit: 'service', property: 'WorkingDirectory', value: v }, execOf(process.execPath, v)],
    differs: PATH_PROPS,
  },
  {
    id: 'install-path /opt/<v>',
    flag: 'install-path',
    set: (v) => ({ installPath: `/opt/${v}` }),
    benign: 'benign',
    expect: (v) => [{ unit: 'service', property: 'WorkingDirectory', value: `/opt/${v}` }, execOf(process.execPath, `/opt/${v}`)],
    differs: PATH_PROPS,
  },
  {
    id: 'node',
    flag: 'node',
    set: (v) => ({ nodePath: v }),
    benign: '/usr/bin/benign',
    expect: (v) => [execOf(v, '/opt/ga')],
    differs: EXEC_PROPS,
  },
  {
    id: 'node /usr/bin/<v>',
    flag: 'node',
    set: (v) => ({ nodePath: `/usr/bin/${v}` }),
    benign: 'benign',
    expect: (v) => [execOf(`/usr/bin/${v}`, '/opt/ga')],
    differs: EXEC_PROPS,
  },
  {
    id: 'sockets unix:/run/<v>',
    flag: 'sockets',
    set: (v) => ({ sockets: `unix:/run/${v}` }),
    benign: 'benign.sock',
    expect: (v) => listenExpect(`unix:/run/${v}`),
    differs: SOCKET_PROPS,
  },
  {
    id: 'sockets tcp:<v>:8080',
    flag: 'sockets',
    set: (v) => ({ sockets: `tcp:${v}:8080` }),
    benign: '127.0.0.1',
    expect: (v) => listenExpect(`tcp:${v}:8080`),
    differs: SOCKET_PROPS,
  },
  {
    id: 'sockets tcp:<v>',
    flag: 'sockets',
    set: (v) => ({ sockets: `tcp:${v}` }),
    benign: '8080',
    expect: (v) => listenExpect(`tcp:${v}`),
    differs: SOCKET_PROPS,
  },
  {
    id: 'sockets',
    flag: 'sockets',
    set: (v) => ({ sockets: v }),
    benign: 'tcp:127.0.0.1:8080',
    expect: (v) => listenExpect(v),
    differs: SOCKET_PROPS,
  },
  {
    id: 'watchdog',
    flag: 'watchdog',
    set: (v) => ({ watchdogSec: v }),
    benign: '10',
    // WatchdogUSec= is only filled in when the service starts: the unit file check and the twin comparison cover it.
    expect: () => [],
  },
  {
    id: 'fd-store',
    flag: 'fd-store',
    set: (v) => ({ fdStore: v }),
    benign: '1',
    expect: (v) =>
      Number.isNaN(literalNumber(v)) ? [] : [{ unit: 'service', property: 'FileDescriptorStoreMax', value: String(literalNumber(v)) }],
    differs: ['FileDescriptorStoreMax'],
  },
  { id: 'systemd-version', flag: 'systemd-version', set: (v) => ({ systemdVersion: v }), benign: '252' },
  { id: 'type', flag: 'type', set: (v) => ({ type: v }), benign: 'notify' },
  { id: 'scope', flag: 'scope', set: (v) => ({ scope: v }), benign: 'system' },
  { id: 'restart', flag: 'restart', set: (v) => ({ restart: v }), benign: 'on-failure' },
  { id: 'hardening', flag: 'hardening', set: (v) => ({ hardening: v }), benign: 'strict' },
  { id: 'init', flag: 'init', set: (v) => ({ initSystems: v }), benign: 'systemd,sysv,openrc', expect: () => [] },
  { id: 'language', flag: 'language', set: (v) => ({ language: v }), benign: 'ts' },
  { id: 'runtime', flag: 'runtime', set: (v) => ({ runtime: v }), benign: 'bundled' },
  { id: 'template', flag: 'template', set: (v) => ({ template: v }), benign: 'true', base: { initSystems: 'systemd' }, expect: () => [] },
];

/** The key parseAnswers takes for an option's flag. */
export const KEY_OF = new Map(OPTIONS.map((o) => [o.flag, o.key as string]));

export interface Case {
  /** Its number: units and scripts are named ga<k>. */
  k: number;
  field: Field;
  input: HostileInput;
  raw: Raw;
  answers?: Answers;
  error?: unknown;
}

export function parse(field: Field, value: string, k: number): Pick<Case, 'raw' | 'answers' | 'error'> {
  const raw: Raw = { name: `ga${k}`, ...BASE, ...field.base, ...field.set(value) };
  try {
    return { raw, answers: parseAnswers(raw) };
  } catch (error) {
    return { raw, error };
  }
}

export function allCases(): Case[] {
  const cases: Case[] = [];
  let k = 0;
  for (const field of FIELDS) {
    // The harmless value is accepted: the field is reachable at all.
    const benign = parse(field, field.benign, k++);
    assert.ok(benign.answers, `--${field.flag} takes ${JSON.stringify(field.benign)}: ${String(benign.error)}`);
    for (const input of CORPUS) {
      cases.push({ k, field, input, ...parse(field, input.value, k) });
      k++;
    }
  }
  return cases;
}

/** The input as a JavaScript literal, for repro lines. */
export const js = (text: string): string =>
  text.length > 80 ? `${JSON.stringify(text.slice(0, 60))}+… (${text.length} chars)` : JSON.stringify(text);
export const repro = (c: Case): string => `--${c.field.flag} via ${c.field.id}: ${js(c.input.value)} [${c.input.kind}]`;

/** Fails with every problem found, one per line (the first 40; SD_GA_ALL=1 for all). */
export function noProblems(problems: string[], what: string): void {
  if (problems.length === 0) return;
  const shown = process.env.SD_GA_ALL === '1' ? problems.length : 40;
  assert.fail(
    `${problems.length} ${what}:\n  ${problems.slice(0, shown).join('\n  ')}${problems.length > shown ? `\n  … and ${problems.length - shown} more (SD_GA_ALL=1 shows them)` : ''}`,
  );
}

/** The unit files of an accepted case, as the generator writes them (projectDir: the install path). */
export function units(
  answers: Answers,
  scope: 'system' | 'user',
): { service: string; socket?: string; serviceName: string; socketName?: string; template: boolean } {
  const a: Answers = { ...answers, scope };
  const context = unitContext(a, a.installPath);
  return {
    service: renderText('systemd/service', context),
    ...(context.hasSockets ? { socket: renderText('systemd/socket', context) } : {}),
    serviceName: context.serviceFile,
    ...(context.hasSockets ? { socketName: context.socketFile } : {}),
    template: a.template,
  };
}

/**
 * The case with its field's value replaced by a harmless one of the same kind
 * (socket kinds and counts kept): any difference between a case's units and
 * its twin's beyond the value's own settings is something the value injected.
 */
export function twin(c: Case, name: string): Answers {
  const a = c.answers!;
  const key = Object.keys(c.field.set(''))[0] as keyof Answers;
  const harmless: Partial<Answers> = {
    description: 'twin',
    installPath: '/srv/twin',
    nodePath: '/usr/bin/twin',
    socketName: 'twin',
    runAs: a.runAs === 'dynamic' ? 'dynamic' : 'twin',
    sockets: a.sockets.map((s, i) =>
      s.kind === 'unix' ? { kind: 'unix', path: `/run/twin${i}.sock` } : { ...s, host: s.host ? '127.0.0.1' : '' },
    ),
  };
  return { ...a, name, ...(key in harmless ? { [key]: harmless[key] } : {}) };
}

/** A unit file's shape: its sections and, in each, its keys in order. */
export function shape(unit: UnitFile): string {
  return [...unit].map(([section, pairs]) => `[${section}] ${pairs.map(([key]) => key).join(' ')}`).join('\n');
}

/** Every file and directory under `dir`, relative to it. */
export function tree(dir: string): string[] {
  return existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).map(String).sort() : [];
}

/** What a command in an answer would have created. */
export function markers(): string[] {
  return readdirSync('/tmp')
    .filter((f) => f.startsWith(path.basename(MARKER)) || f === 'pwned')
    .map((f) => `/tmp/${f}`);
}

/** A path that cannot exist on Linux: a component over NAME_MAX (255 bytes) or the whole over PATH_MAX. */
export const impossiblePath = (p: string): boolean => Buffer.byteLength(p) >= 4096 || p.split('/').some((s) => Buffer.byteLength(s) > 255);

/** What a file's tests did, for its summary. */
export interface Tally {
  readbacks: number;
  shellRuns: number;
  escapes: number;
  generatorRuns: number;
}

export const newTally = (): Tally => ({ readbacks: 0, shellRuns: 0, escapes: 0, generatorRuns: 0 });

let parsed: { cases: Case[]; accepted: Case[]; rejected: Case[] } | undefined;

/**
 * Every case, and which the answers refused or accepted. Parsed once per
 * process (about 4 s on a loaded machine) and shared by the files, which only
 * read the cases.
 */
export function casesByOutcome(): { cases: Case[]; accepted: Case[]; rejected: Case[] } {
  if (!parsed) {
    const cases = allCases();
    parsed = { cases, accepted: cases.filter((c) => c.answers), rejected: cases.filter((c) => !c.answers) };
  }
  return parsed;
}

/** A fresh scratch directory, after removing the markers an earlier run left, so any marker found later is this run's. */
export function freshScratch(): string {
  for (const file of markers()) rmSync(file, { force: true });
  return mkdtempSync(path.join(tmpdir(), 'sd-ga-'));
}

/**
 * The summary each file ends with: no command in any answer ran (no marker
 * file in /tmp or under the scratch directory), the cases are the whole
 * corpus times every field, each refused or accepted, and nothing escaped.
 * Logs the file's figures; a file asserts its own counts after it.
 */
function summarize(area: string, run: AnswersRun): void {
  const { cases, tally, scratch } = run;
  const accepted = cases.filter((c) => c.answers).length;
  const rejected = cases.length - accepted;
  const ran = [
    ...markers(),
    ...tree(scratch).filter(
      (f) => /^(sd-ga-pwned-(\d+|pre)|pwned)$/.test(path.basename(f)) && !lstatSync(path.join(scratch, f)).isDirectory(),
    ),
  ];
  tally.escapes += ran.length;
  const inputs = CORPUS.length;
  const line = `reliability: generator-answers ${area} inputs=${inputs} fields=${FIELDS.length} cases=${cases.length} rejected=${rejected} accepted=${accepted} readbacks=${tally.readbacks} shell-runs=${tally.shellRuns} generator-runs=${tally.generatorRuns} escapes=${tally.escapes}`;
  console.log(`      ${line}`);
  assert.deepEqual(ran, [], 'marker files: a command in an answer ran');
  assert.ok(inputs >= 300);
  assert.equal(cases.length, inputs * FIELDS.length);
  assert.equal(rejected + accepted, cases.length);
  assert.equal(tally.escapes, 0);
}

/** sh's environment for the init scripts: no inherited variable can stand in for one the script sets. */
export const SHELL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** An accepted case that writes init scripts, and the scripts, rendered as the generator writes them. */
export interface Scripted {
  c: Case;
  lsb: string;
  openrc: string;
}

/** Renders the LSB and OpenRC scripts of every accepted case that writes them, under `scratch`/scripts. */
export function renderInitScripts(accepted: Case[], scratch: string): Scripted[] {
  const scripted: Scripted[] = [];
  for (const c of accepted.filter((c) => c.answers!.initSystems.includes('sysv'))) {
    const a = c.answers!;
    const context = initScriptContext(a, a.installPath);
    const dir = path.join(scratch, 'scripts', String(c.k));
    mkdirSync(path.join(dir, 'init.d'), { recursive: true });
    mkdirSync(path.join(dir, 'openrc'), { recursive: true });
    const lsb = path.join(dir, 'init.d', a.name);
    const openrc = path.join(dir, 'openrc', a.name);
    writeFileSync(lsb, renderText('project/init.d/service', context), { mode: 0o755 });
    writeFileSync(openrc, renderText('project/openrc/service', context), { mode: 0o755 });
    scripted.push({ c, lsb, openrc });
  }
  return scripted;
}

export const SYSV_GENERATOR = '/lib/systemd/system-generators/systemd-sysv-generator';

/**
 * Runs systemd's own LSB reader (systemd-sysv-generator) over the scripts of
 * the --description cases; its units are `out`/lsb<k>.service.
 */
export function runSysvGenerator(
  scripted: Scripted[],
  scratch: string,
): { chosen: Scripted[]; out: string; result: SpawnSyncReturns<string> } {
  const init = path.join(scratch, 'sysv', 'init.d');
  const out = path.join(scratch, 'sysv', 'out');
  mkdirSync(init, { recursive: true });
  mkdirSync(path.join(scratch, 'sysv', 'rc'), { recursive: true });
  mkdirSync(out, { recursive: true });
  const chosen = scripted.filter(({ c }) => c.field.flag === 'description');
  for (const { c, lsb } of chosen) writeFileSync(path.join(init, `lsb${c.k}`), readFileSync(lsb), { mode: 0o755 });
  const result = spawnSync(SYSV_GENERATOR, [out, out, out], {
    env: { ...SHELL_ENV, SYSTEMD_SYSVINIT_PATH: init, SYSTEMD_SYSVRCND_PATH: path.join(scratch, 'sysv', 'rc'), SYSTEMD_LOG_LEVEL: 'err' },
    encoding: 'utf8',
  });
  return { chosen, out, result };
}

/** One file's share of the run: its cases, its counts and its scratch directory (set in before()). */
export interface AnswersRun {
  cases: Case[];
  accepted: Case[];
  rejected: Case[];
  tally: Tally;
  readonly scratch: string;
}

/**
 * The suite every generator-answers file declares, under the one title they
 * share: the cases, a fresh scratch directory (markers of earlier runs
 * removed), then `body`'s tests, then a summary that runs summarize() and the
 * file's own `figures`.
 */
export function describeHostileAnswers(area: string, body: (run: AnswersRun) => void, figures: (run: AnswersRun) => void): void {
  describe('reliability: hostile generator answers', function () {
    this.timeout(60_000);
    let scratch = '';
    const run: AnswersRun = {
      ...casesByOutcome(),
      tally: newTally(),
      get scratch() {
        return scratch;
      },
    };
    before(function () {
      scratch = freshScratch();
    });
    after(() => scratch && rmSync(scratch, { recursive: true, force: true }));

    body(run);

    describe('summary', function () {
      it(`${area}: no command in any answer ran, and the figures hold`, function () {
        summarize(area, run);
        figures(run);
      });
    });
  });
}
