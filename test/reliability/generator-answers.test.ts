// Reliability: hostile generator answers. Every input of the corpus
// (test/helpers/hostile-corpus.ts) is given to every option a user can type, and each
// case must end one of two ways: refused with an InputError naming that
// option, or accepted and emitted so that whatever reads it back gets exactly
// the literal value: a real systemd user manager (`systemctl --user show`),
// `systemd-analyze verify`, systemd's own LSB header reader
// (systemd-sysv-generator), sh running the generated init scripts, node
// evaluating the generated JavaScript and JSON. Nothing injected is ever
// parsed, nothing is written outside the destination, no command in an answer
// ever runs.
//
// The bulk goes through the generator's own fast path (parseAnswers, the
// context builders, renderText: the functions the generators write files
// with); a representative subset runs the real generator (yeoman-test) and is
// checked against the fast path byte for byte, with the files on disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

import { OPTIONS, parseAnswers, type Answers } from '../../generators/lib/answers.js';
import { initScriptContext, projectContext, unitContext } from '../../generators/lib/context.js';
import { InputError } from '../../generators/lib/escape.js';
import { renderText } from '../../generators/lib/render.js';
import { useUserManager } from '../helpers/units.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import type { UserManager } from '../helpers/user-manager.js';
import { generate, parseUnit, REPO, type UnitFile } from '../helpers/generator.js';
import { CORPUS, MARKER, type HostileInput } from '../helpers/hostile-corpus.js';

type Raw = Record<string, string>;
type Props = Record<string, string>;

/** What every case starts from; a field overrides one answer (and `base`, where its option needs others). */
const BASE: Raw = {
  description: 'hostile corpus case',
  installPath: '/opt/ga',
  nodePath: process.execPath,
  systemdVersion: '252',
  initSystems: 'systemd,sysv,openrc',
};

/** One thing the real manager must show for an accepted value. */
type Expectation =
  | { unit: 'service' | 'socket'; property: string; value: string }
  /** ExecStart=: the executable systemd runs and the argv it passes (after its own `$$` -> `$`). */
  | { unit: 'service'; exec: { path: string; argv: string[] } };

interface Field {
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

const ENTRY = 'dist/main.js';
const execOf = (node: string, dir: string): Expectation => ({ unit: 'service', exec: { path: node, argv: [node, `${dir}/${ENTRY}`] } });
const EXEC_PROPS = ['ExecStart', 'ExecStartEx'];
const PATH_PROPS = ['WorkingDirectory', 'RequiresMountsFor', 'After', 'Requires', ...EXEC_PROPS];
/** A list value adds sockets (tcp:1:80,unix:/run/x is one --sockets value): a unix path brings its mount dependencies. */
const SOCKET_PROPS = ['Listen', 'RequiresMountsFor', 'After', 'Requires'];

/** C0, DEL and C1 controls, and lone surrogates: nothing a line-based file, or UTF-8, carries as given. */
const UNREPRESENTABLE = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u;

/** Separator spaces around a list item or a number are not part of it; nothing else is trimmed. */
const spaceTrim = (text: string): string => text.replace(/^ +| +$/g, '');

/**
 * The sockets a --sockets value literally names, as `systemctl show -p Listen`
 * prints them (port-only binds [::]); null when it names none.
 */
function literalListen(raw: string): string[] | null {
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
const listenExpect = (raw: string): Expectation[] =>
  UNREPRESENTABLE.test(raw) ? [] : (literalListen(raw) ?? []).map((value) => ({ unit: 'socket', property: 'Listen', value }));

/** A number as the option literally gives it (separator spaces aside), or NaN. */
const literalNumber = (raw: string): number => (/^[0-9]+$/.test(spaceTrim(raw)) ? Number(spaceTrim(raw)) : NaN);

const FIELDS: Field[] = [
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
const KEY_OF = new Map(OPTIONS.map((o) => [o.flag, o.key as string]));

interface Case {
  /** Its number: units and scripts are named ga<k>. */
  k: number;
  field: Field;
  input: HostileInput;
  raw: Raw;
  answers?: Answers;
  error?: unknown;
}

function parse(field: Field, value: string, k: number): Pick<Case, 'raw' | 'answers' | 'error'> {
  const raw: Raw = { name: `ga${k}`, ...BASE, ...field.base, ...field.set(value) };
  try {
    return { raw, answers: parseAnswers(raw) };
  } catch (error) {
    return { raw, error };
  }
}

function allCases(): Case[] {
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
const js = (text: string): string =>
  text.length > 80 ? `${JSON.stringify(text.slice(0, 60))}+… (${text.length} chars)` : JSON.stringify(text);
const repro = (c: Case): string => `--${c.field.flag} via ${c.field.id}: ${js(c.input.value)} [${c.input.kind}]`;

/** Fails with every problem found, one per line (the first 40; SD_GA_ALL=1 for all). */
function noProblems(problems: string[], what: string): void {
  if (problems.length === 0) return;
  const shown = process.env.SD_GA_ALL === '1' ? problems.length : 40;
  assert.fail(
    `${problems.length} ${what}:\n  ${problems.slice(0, shown).join('\n  ')}${problems.length > shown ? `\n  … and ${problems.length - shown} more (SD_GA_ALL=1 shows them)` : ''}`,
  );
}

/** The unit files of an accepted case, as the generator writes them (projectDir: the install path). */
function units(
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
function twin(c: Case, name: string): Answers {
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
function shape(unit: UnitFile): string {
  return [...unit].map(([section, pairs]) => `[${section}] ${pairs.map(([key]) => key).join(' ')}`).join('\n');
}

/** systemd's C escapes in `systemctl show` output (\303\251, \n, \\) back to text. */
function cunescape(text: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39, s: 32 };
  const buffer = Buffer.from(text, 'utf8');
  for (let i = 0; i < buffer.length; i++) {
    const byte = buffer[i]!;
    if (byte !== 92 || i + 1 >= buffer.length) {
      bytes.push(byte);
      continue;
    }
    const next = String.fromCharCode(buffer[i + 1]!);
    if (/[0-7]/.test(next) && /^[0-7]{3}$/.test(buffer.subarray(i + 1, i + 4).toString('latin1'))) {
      bytes.push(parseInt(buffer.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(buffer.subarray(i + 2, i + 4).toString('latin1'))) {
      bytes.push(parseInt(buffer.subarray(i + 2, i + 4).toString('latin1'), 16));
      i += 3;
    } else if (simple[next] !== undefined) {
      bytes.push(simple[next]!);
      i += 1;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * What systemd does to each ExecStart= argument when it spawns the command
 * (systemd.service(5), "Command lines"): `$$` becomes `$`; `$NAME` and
 * `${NAME}` would be expanded from the environment, which a literal must
 * never be (null then).
 */
function spawnedArg(arg: string): string | null {
  let out = '';
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] !== '$') {
      out += arg[i];
    } else if (arg[i + 1] === '$') {
      out += '$';
      i++;
    } else if (arg[i + 1] === '{' || /[A-Za-z0-9_]/.test(arg[i + 1] ?? '')) {
      return null;
    } else {
      out += '$';
    }
  }
  return out;
}

/** `{ path=/usr/bin/node ; argv[]=/usr/bin/node /opt/x/dist/main.js ; ... }`: our arguments hold no whitespace (refused), so splitting on ' ' is exact. */
function parseExecStart(value: string): { path: string; argv: string[] } | null {
  const m = /^\{ path=(.*?) ; argv\[\]=(.*?) ; (?:ignore_errors|flags)=/.exec(value);
  return m ? { path: m[1]!, argv: m[2]!.split(' ') } : null;
}

/** `systemctl --user show` blocks (blank-line separated) for many units at once, in order. */
async function showMany(m: UserManager, unitNames: string[], properties?: string[]): Promise<Props[]> {
  const out: Props[] = [];
  for (let i = 0; i < unitNames.length; i += 200) {
    const chunk = unitNames.slice(i, i + 200);
    const r = await m.systemctl('show', ...(properties ? [`--property=${properties.join(',')}`] : []), '--', ...chunk);
    assert.equal(r.code, 0, `systemctl --user show: ${r.stderr}`);
    const blocks = r.stdout.replace(/\n+$/, '').split(/\n\n/);
    assert.equal(blocks.length, chunk.length, 'one block per unit');
    for (const block of blocks) {
      const props: Props = {};
      for (const line of block.split('\n')) {
        const eq = line.indexOf('=');
        if (eq < 1) continue;
        // Listen= comes once per socket: kept one per line.
        const key = line.slice(0, eq);
        props[key] = props[key] === undefined ? line.slice(eq + 1) : `${props[key]}\n${line.slice(eq + 1)}`;
      }
      out.push(props);
    }
  }
  return out;
}

/** The unit names in a value, normalised, so a case can be compared with its twin. */
function normalise(props: Props, unitBase: string): Props {
  const out: Props = {};
  const slice = `app-${unitBase.replaceAll('-', '\\x2d').replace(/^\./, '\\x2e')}.slice`;
  for (const [key, value] of Object.entries(props)) {
    const named = value
      .split(`${unitBase}.service`)
      .join('<unit>.service')
      .split(`${unitBase}.socket`)
      .join('<unit>.socket')
      .split(`${unitBase}@`)
      .join('<unit>@')
      .split(slice)
      .join('app-<unit>.slice');
    // Dependency lists are sets: systemd prints them in hash order.
    out[key] = UNORDERED.has(key) ? named.split(' ').sort().join(' ') : named;
  }
  return out;
}

/**
 * What the manager fills in at run time or from other files (state, counters,
 * enablement symlinks), never from the unit file: a name that is already a
 * unit's (dbus) inherits them. The install script test covers that case.
 */
const RUNTIME =
  /^(ActiveState|SubState|Result|ConditionResult|AssertResult|InvocationID|ControlGroup|ControlGroupId|MainPID|ExecMainPID|ExecMainStatus|ExecMainCode|NRestarts|StatusText|StatusErrno|.*Timestamp.*|.*Current|CPUUsageNSec|IP(Ingress|Egress)\w+|IO(Read|Write)\w+|Effective\w+|WantedBy|RequiredBy|UnitFileState|UnitFilePreset|TriggeredBy|Triggers)$/;

const UNORDERED = new Set([
  'Requires',
  'Requisite',
  'Wants',
  'BindsTo',
  'PartOf',
  'Upholds',
  'RequiredBy',
  'RequisiteOf',
  'WantedBy',
  'BoundBy',
  'UpheldBy',
  'ConsistsOf',
  'Conflicts',
  'ConflictedBy',
  'Before',
  'After',
  'OnFailure',
  'OnSuccess',
  'Triggers',
  'TriggeredBy',
  'PropagatesReloadTo',
  'ReloadPropagatedFrom',
  'JoinsNamespaceOf',
  'Names',
  'RequiresMountsFor',
]);

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).map(String).sort() : [];
}

/** What a command in an answer would have created. */
function markers(): string[] {
  return readdirSync('/tmp')
    .filter((f) => f.startsWith(path.basename(MARKER)) || f === 'pwned')
    .map((f) => `/tmp/${f}`);
}

/** A path that cannot exist on Linux: a component over NAME_MAX (255 bytes) or the whole over PATH_MAX. */
const impossiblePath = (p: string): boolean => Buffer.byteLength(p) >= 4096 || p.split('/').some((s) => Buffer.byteLength(s) > 255);

const tally = { readbacks: 0, shellRuns: 0, escapes: 0, generatorRuns: 0 };

describe('reliability: hostile generator answers', function () {
  this.timeout(60_000);
  const cases = allCases();
  const accepted = cases.filter((c) => c.answers);
  const rejected = cases.filter((c) => !c.answers);
  let scratch: string;

  before(function () {
    scratch = mkdtempSync(path.join(tmpdir(), 'sd-ga-'));
    for (const file of markers()) rmSync(file, { force: true });
  });
  after(() => scratch && rmSync(scratch, { recursive: true, force: true }));

  it(`the corpus: ${CORPUS.length} distinct inputs x ${FIELDS.length} option fields, every option that takes a value`, function () {
    assert.ok(CORPUS.length >= 300);
    assert.equal(new Set(CORPUS.map((i) => i.value)).size, CORPUS.length, 'inputs are distinct');
    for (const flag of KEY_OF.keys())
      assert.ok(
        FIELDS.some((f) => f.flag === flag),
        `--${flag} is tried`,
      );
  });

  describe('each answer is refused naming its option, or accepted whole', function () {
    for (const field of FIELDS) {
      it(`--${field.flag} (${field.id})`, function () {
        const problems: string[] = [];
        for (const c of cases.filter((c) => c.field === field)) {
          if (c.error !== undefined) {
            if (!(c.error instanceof InputError))
              problems.push(
                `${repro(c)}: crashed instead of refusing: ${String((c.error as Error)?.stack ?? c.error)
                  .split('\n')
                  .slice(0, 2)
                  .join(' ')}`,
              );
            else if (c.error.field !== field.flag || !c.error.message.startsWith(`--${field.flag}: `))
              problems.push(`${repro(c)}: refused naming --${c.error.field}: ${c.error.message}`);
            continue;
          }
          const a = c.answers!;
          const given = field.set(c.input.value);
          const [key, value] = Object.entries(given)[0]!;
          if (UNREPRESENTABLE.test(value)) {
            problems.push(
              `${repro(c)}: accepted although it holds ${js(UNREPRESENTABLE.exec(value)![0])} (parsed: ${js(JSON.stringify((a as unknown as Record<string, unknown>)[key]))})`,
            );
            continue;
          }
          // The parsed answer is the literal (separator spaces aside for lists and numbers).
          const parsed = (a as unknown as Record<string, unknown>)[key];
          if (key === 'sockets') {
            const want = literalListen(value);
            const got = a.sockets.map((s) =>
              s.kind === 'unix' ? `${s.path} (Stream)` : `${s.host || '[::]'}:${s.port} (${s.kind === 'tcp' ? 'Stream' : 'Datagram'})`,
            );
            if (JSON.stringify(want) !== JSON.stringify(got))
              problems.push(`${repro(c)}: accepted as ${JSON.stringify(got)}, not the literal ${JSON.stringify(want)}`);
          } else if (typeof parsed === 'number') {
            if (parsed !== literalNumber(value))
              problems.push(`${repro(c)}: accepted as ${parsed}, which is not what ${js(value)} literally says`);
          } else if (typeof parsed === 'string' && parsed !== value) {
            problems.push(`${repro(c)}: accepted as ${js(parsed)}`);
          }
        }
        noProblems(problems, `answers to --${field.flag} went wrong`);
      });
    }
  });

  describe('fast path: what is emitted carries the literal and nothing more', function () {
    it('unit files: the same sections and keys as the twin with harmless values (nothing injected), for every accepted case', function () {
      const problems: string[] = [];
      for (const c of accepted) {
        for (const scope of ['system', 'user'] as const) {
          const mine = units(c.answers!, scope);
          const theirs = units(twin(c, c.answers!.name), scope);
          for (const kind of ['service', 'socket'] as const) {
            const text = mine[kind];
            if (text === undefined) continue;
            let parsed: UnitFile;
            try {
              parsed = parseUnit(text);
            } catch (error) {
              problems.push(`${repro(c)}: ${scope} ${kind} is not a unit file: ${(error as Error).message}`);
              tally.escapes++;
              continue;
            }
            if (shape(parsed) !== shape(parseUnit(theirs[kind]!))) {
              problems.push(`${repro(c)}: ${scope} ${kind} has another shape than its twin's:\n${shape(parsed)}`);
              tally.escapes++;
            }
          }
        }
      }
      noProblems(problems, 'unit files differ in shape from their twin');
    });

    it('JavaScript and JSON: the description, socket name, fallback addresses and install path evaluate to the literal', function () {
      const problems: string[] = [];
      const sandbox = vm.createContext({});
      const evaluate = (source: string): unknown => vm.runInContext(`(${source})`, sandbox, { timeout: 10_000 });
      for (const c of accepted) {
        const a = c.answers!;
        const p = projectContext(a);
        const checks: Array<[string, unknown, unknown]> = [
          ['descriptionJs', evaluate(p.descriptionJs), a.description],
          ['socketNameJs', evaluate(p.socketNameJs), a.socketName],
          ['installPathJson', JSON.parse(p.installPathJson), a.installPath],
          ['execStartTailJs', typeof evaluate(p.execStartTailJs), 'string'],
        ];
        p.sockets.forEach((s, i) => {
          const spec = a.sockets[i]!;
          const want =
            spec.kind === 'unix'
              ? { path: spec.path }
              : { port: spec.port, ...(spec.host ? { host: spec.host.replace(/^\[(.*)\]$/, '$1') } : {}) };
          checks.push([`sockets[${i}].fallbackJs`, JSON.stringify(evaluate(s.fallbackJs)), JSON.stringify(want)]);
        });
        for (const [what, got, want] of checks) if (got !== want) problems.push(`${repro(c)}: ${what} evaluates to ${js(String(got))}`);
      }
      noProblems(problems, 'literals changed on their way into JavaScript or JSON');
    });
  });

  describe('shell: the generated init scripts, run by sh, hold each answer as one literal word', function () {
    /** Accepted cases that write init scripts, rendered as the generator writes them. */
    let scripted: Array<{ c: Case; lsb: string; openrc: string }>;
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

    before(function () {
      scripted = [];
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
    });

    /** Runs `body` once per file in one sh, each in a subshell; returns the NUL-separated words each printed. */
    function perFile(files: string[], body: string): string[][] {
      const script = `for f do printf '\\036'; ( ${body} ); done`;
      const r = spawnSync('sh', ['-c', script, 'sh', ...files], { env, cwd: scratch, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      assert.equal(r.error, undefined);
      tally.shellRuns += files.length;
      return r.stdout
        .split('\u001e')
        .slice(1)
        .map((record) => record.split('\0').slice(0, -1));
    }

    it('sh -n accepts every script', function () {
      const files = scripted.flatMap(({ lsb, openrc }) => [lsb, openrc]);
      const r = spawnSync('sh', ['-c', 'for f do sh -n "$f" 2>&1 || printf "^ %s\\n" "$f"; done', 'sh', ...files], {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      tally.shellRuns += files.length;
      assert.equal(r.stdout, '', 'sh -n complained');
    });

    it('OpenRC: description, command, command_args (as openrc-run evals it), pidfile and command_user read back exactly', function () {
      const words = perFile(
        scripted.map((s) => s.openrc),
        `. "$f"; printf '%s\\0' "$description" "$command" "$pidfile" "\${command_user-}"; eval "set -- $command_args"; printf '%s\\0' "$#" "$@"`,
      );
      const problems: string[] = [];
      scripted.forEach(({ c }, i) => {
        const a = c.answers!;
        const pid = `/run/${a.name}/${a.name}.pid`;
        const want = [
          a.description,
          a.nodePath,
          pid,
          a.runAs === 'dynamic' ? '' : a.runAs,
          '4',
          `${a.installPath}/${ENTRY}`,
          '--daemonize',
          '--pid-file',
          pid,
        ];
        if (JSON.stringify(words[i]) !== JSON.stringify(want)) problems.push(`${repro(c)}: sh read ${JSON.stringify(words[i])}`);
        else tally.readbacks++;
      });
      noProblems(problems, 'OpenRC scripts did not hold the literal');
    });

    it('LSB: the variables the script runs with (read at its exit) are the literals', function () {
      const words = perFile(
        scripted.map((s) => s.lsb),
        `trap 'printf "%s\\0" "$NAME" "$DAEMON" "$DAEMON_DIR" "$PIDFILE" "\${DAEMON_USER-}" "$ENTRY"' EXIT; set -- probe; . "$f" 2>/dev/null`,
      );
      const problems: string[] = [];
      scripted.forEach(({ c }, i) => {
        const a = c.answers!;
        const want = [
          a.name,
          a.nodePath,
          a.installPath,
          `/run/${a.name}/${a.name}.pid`,
          a.runAs === 'dynamic' ? '' : a.runAs,
          `${a.installPath}/${ENTRY}`,
        ];
        if (JSON.stringify(words[i]) !== JSON.stringify(want)) problems.push(`${repro(c)}: sh read ${JSON.stringify(words[i])}`);
        else tally.readbacks++;
      });
      noProblems(problems, 'LSB scripts did not hold the literal');
    });

    it('LSB start and status: the node path and install path reach the messages and start-stop-daemon as given; nothing runs', function () {
      const pidFile = path.join(scratch, 'lsb.pid');
      // [case, file, action, DAEMON from the environment or '' for the script's own].
      const runs: Array<[Case, string, string, string]> = [];
      for (const { c, lsb } of scripted) {
        if (c.field.flag === 'node') runs.push([c, lsb, 'start', ''], [c, lsb, 'status', '']);
        else if (c.field.flag === 'install-path') runs.push([c, lsb, 'start', process.execPath]);
        else if (['run-as', 'description', 'name'].includes(c.field.flag)) runs.push([c, lsb, 'status', '']);
      }
      const script = `while [ $# -gt 0 ]; do f=$1 action=$2 daemon=$3; shift 3; printf '\\036'; if [ -n "$daemon" ]; then DAEMON=$daemon sh "$f" "$action" 2>&1; else sh "$f" "$action" 2>&1; fi; printf '\\037%s' "$?"; done`;
      const r = spawnSync('sh', ['-c', script, 'sh', ...runs.flatMap(([, f, action, daemon]) => [f, action, daemon])], {
        env: { ...env, PIDFILE: pidFile },
        cwd: scratch,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      tally.shellRuns += runs.length;
      const records = r.stdout
        .split('\u001e')
        .slice(1)
        .map((record) => {
          const at = record.lastIndexOf('\u001f');
          return { out: record.slice(0, at), code: Number(record.slice(at + 1)) };
        });
      assert.equal(records.length, runs.length);
      const problems: string[] = [];
      runs.forEach(([c, , action], i) => {
        const a = c.answers!;
        const { out, code } = records[i]!;
        let ok: boolean;
        if (c.field.flag === 'node' && action === 'start') {
          // Not executable (there is no such file): start says so, naming it. ('/' is a directory, so -x passes: then the entry point is missing.)
          ok =
            code === 5 &&
            (out === `${a.name}: ${a.nodePath} is not an executable (set DAEMON to node's path)\n` ||
              out.startsWith(`${a.name}: /opt/ga/${ENTRY} is missing`));
        } else if (c.field.flag === 'node') {
          // start-stop-daemon --status --exec <node>: it got the path as one argument.
          ok = (code === 4 && out.includes(`unable to stat ${a.nodePath} (`)) || (code === 3 && out === `${a.name} is not running\n`);
        } else if (c.field.flag === 'install-path') {
          ok = code === 5 && out.startsWith(`${a.name}: ${a.installPath}/${ENTRY} is missing (run \`npm run build\` in ${a.installPath})`);
        } else {
          ok = code === 3 && out === `${a.name} is not running\n`;
        }
        if (!ok) problems.push(`${repro(c)}: sh init.d/${a.name} ${action} said (${code}) ${js(out)}`);
        else if (c.field.flag === 'node' || c.field.flag === 'install-path') tally.readbacks++;
      });
      noProblems(problems, 'init script runs went wrong');
    });

    it("systemd's own LSB reader (systemd-sysv-generator) takes each description as the literal Short-Description", function () {
      const generator = '/lib/systemd/system-generators/systemd-sysv-generator';
      requireOrSkip(this, existsSync(generator), `systemd's LSB reader is not installed at ${generator}`);
      const init = path.join(scratch, 'sysv', 'init.d');
      const out = path.join(scratch, 'sysv', 'out');
      mkdirSync(init, { recursive: true });
      mkdirSync(path.join(scratch, 'sysv', 'rc'), { recursive: true });
      mkdirSync(out, { recursive: true });
      const chosen = scripted.filter(({ c }) => c.field.flag === 'description');
      for (const { c, lsb } of chosen) writeFileSync(path.join(init, `lsb${c.k}`), readFileSync(lsb), { mode: 0o755 });
      const r = spawnSync(generator, [out, out, out], {
        env: { ...env, SYSTEMD_SYSVINIT_PATH: init, SYSTEMD_SYSVRCND_PATH: path.join(scratch, 'sysv', 'rc'), SYSTEMD_LOG_LEVEL: 'err' },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const problems: string[] = [];
      for (const { c } of chosen) {
        const file = path.join(out, `lsb${c.k}.service`);
        if (!existsSync(file)) {
          problems.push(`${repro(c)}: no unit generated`);
          continue;
        }
        const unit = parseUnit(readFileSync(file, 'utf8'));
        const description = unit.get('Unit')?.find(([k]) => k === 'Description')?.[1];
        // It escapes '%' itself; the manager reads the unit back in the read-back suite.
        if (description !== `LSB: ${c.answers!.description.replaceAll('%', '%%')}`)
          problems.push(`${repro(c)}: Description=${js(description ?? '(none)')}`);
      }
      noProblems(problems, 'LSB headers were read back wrong');
    });
  });

  describe('the real generator (yeoman-test): files only in the destination, the same bytes as the fast path', function () {
    this.timeout(180_000);
    /** Per field and input kind: the first accepted and the first refused input. */
    const subset: Case[] = [];
    for (const field of FIELDS) {
      const seen = new Set<string>();
      for (const c of cases.filter((c) => c.field === field)) {
        const key = `${c.input.kind}/${c.answers ? 'accepted' : 'refused'}`;
        if (seen.has(key)) continue;
        seen.add(key);
        subset.push(c);
      }
    }
    const generated: Array<{ c: Case; dir: string }> = [];

    it(`${subset.length} runs: refused ones fail naming the option and write no file; accepted ones write only under <cwd>/<name>`, async function () {
      const problems: string[] = [];
      const root = path.join(scratch, 'yo');
      mkdirSync(root);
      for (const c of subset) {
        const cwd = path.join(root, `r${c.k}`);
        const options: Record<string, unknown> = { skipInstall: true };
        for (const [key, value] of Object.entries(c.raw)) {
          if (key === 'name') continue;
          const spec = OPTIONS.find((o) => o.key === key)!;
          options[spec.flag] = value;
        }
        let error: unknown;
        let dir = '';
        try {
          dir = (await generate(options, c.raw.name!, cwd)).dir;
        } catch (e) {
          error = e;
        }
        tally.generatorRuns++;
        const others = readdirSync(root).filter(
          (f) => f !== `r${c.k}` && !generated.some((g) => path.dirname(g.dir) === path.join(root, f)),
        );
        if (others.length > 0) {
          problems.push(`${repro(c)}: wrote ${others.join(', ')} beside its own directory`);
          tally.escapes++;
        }
        const files = tree(cwd);
        if (c.answers) {
          if (error) {
            problems.push(`${repro(c)}: the fast path accepts it but the generator failed: ${(error as Error).message}`);
          }
          const outside = files.filter((f) => f !== c.raw.name && !f.startsWith(`${c.raw.name}/`));
          if (error) {
            // Reported above.
          } else if (outside.length > 0) {
            // yeoman's argument parser reads a name that looks like a number as one: 010 becomes 10, 1e3 becomes 1000.
            const renamed = outside.length === files.length && files.some((f) => existsSync(path.join(cwd, f, '.yo-rc.json')));
            problems.push(
              `${repro(c)}: ${renamed ? `the project was named ${js(files.find((f) => !f.includes('/'))!)} instead` : `wrote outside ${c.raw.name}/: ${outside.slice(0, 5).join(', ')}`}`,
            );
            if (!renamed) tally.escapes++;
          } else {
            generated.push({ c, dir });
          }
        } else {
          const message = error instanceof Error ? error.message : String(error);
          const written = files.filter((f) => !lstatSync(path.join(cwd, f)).isDirectory());
          if (c.field.flag === 'template' && !error) {
            // --template is a Boolean option: yeoman turns whatever follows it into true before the answers see it (a value of its own is never emitted).
            const stored = JSON.parse(readFileSync(path.join(cwd, c.raw.name!, '.yo-rc.json'), 'utf8')) as Record<
              string,
              Record<string, unknown>
            >;
            const template = Object.values(stored)[0]?.template;
            if (template !== 'true' && template !== 'false') problems.push(`${repro(c)}: stored template=${js(String(template))}`);
          } else {
            if (!error || !message.includes(`--${c.field.flag}: `))
              problems.push(`${repro(c)}: ${error ? `failed naming another option: ${message}` : 'was accepted by the generator'}`);
            if (written.length > 0) {
              problems.push(`${repro(c)}: refused, yet wrote ${written.join(', ')}`);
              tally.escapes++;
            }
          }
        }
        if (!generated.some((g) => g.c === c)) rmSync(cwd, { recursive: true, force: true });
      }
      noProblems(problems, 'generator runs went wrong');
    });

    it('the units and init scripts on disk are byte for byte what the fast path renders', function () {
      const problems: string[] = [];
      for (const { c, dir } of generated) {
        const a = c.answers!;
        const u = units(a, a.scope);
        const serviceDir = a.initSystems.includes('systemd');
        if (serviceDir && readFileSync(path.join(dir, 'systemd', u.serviceName), 'utf8') !== u.service)
          problems.push(`${repro(c)}: systemd/${u.serviceName} differs`);
        if (serviceDir && u.socket && readFileSync(path.join(dir, 'systemd', u.socketName!), 'utf8') !== u.socket)
          problems.push(`${repro(c)}: systemd/${u.socketName} differs`);
        const context = initScriptContext(a, a.installPath);
        for (const [system, sub] of [
          ['sysv', 'init.d'],
          ['openrc', 'openrc'],
        ] as const) {
          if (!a.initSystems.includes(system)) continue;
          if (readFileSync(path.join(dir, sub, a.name), 'utf8') !== renderText(`project/${sub}/service`, context))
            problems.push(`${repro(c)}: ${sub}/${a.name} differs`);
        }
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { description: string };
        if (pkg.description !== a.description) problems.push(`${repro(c)}: package.json description is ${js(pkg.description)}`);
      }
      noProblems(problems, 'generated files differ from the fast path');
    });

    it('the README commands a user pastes and the install script hand every path to sh as one word', function () {
      const problems: string[] = [];
      // The README's `sudo mkdir -p <install path>`, `sudo cp -a . <install path>/` and `cd <install path>`, run with sudo and cd stubbed to print their words.
      const lines: Array<{ c: Case; line: string }> = [];
      for (const { c, dir } of generated) {
        const found = readFileSync(path.join(dir, 'README.md'), 'utf8')
          .split('\n')
          .filter((l) => /^(sudo mkdir -p |sudo cp -a \. |cd )/.test(l));
        if (c.answers!.scope === 'system' && found.length === 0) problems.push(`${repro(c)}: the README has no install commands`);
        for (const line of found) lines.push({ c, line });
      }
      const script = `sudo() { printf '%s\\0' "$@"; }; cd() { printf '%s\\0' cd "$@"; }; for line do printf '\\036'; (eval "$line"); done`;
      const r = spawnSync('sh', ['-c', script, 'sh', ...lines.map((l) => l.line)], {
        cwd: scratch,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      tally.shellRuns += lines.length;
      const records = r.stdout.split('\u001e').slice(1);
      lines.forEach(({ c, line }, i) => {
        const words = (records[i] ?? '').split('\0').slice(0, -1);
        const target = words.find((w) => w.startsWith('/'));
        if (target !== c.answers!.installPath && target !== `${c.answers!.installPath}/`)
          problems.push(`${repro(c)}: README line ${js(line)} gave sh the words ${JSON.stringify(words)}`);
      });
      // The install script, asked from elsewhere with --dry-run, prints the commands that copy the project to its install path.
      const printed: Array<{ c: Case; line: string }> = [];
      // Its values are the install path and the unit names: run for those fields' cases.
      for (const { c, dir } of generated.filter(
        ({ c }) =>
          ['install-path', 'name'].includes(c.field.flag) && c.answers!.initSystems.includes('systemd') && c.answers!.scope === 'system',
      )) {
        const a = c.answers!;
        const run = spawnSync(
          process.execPath,
          [path.join(dir, 'scripts', 'install-units.mjs'), '--dry-run', '--unit-dir', path.join(scratch, 'unit-dir')],
          { cwd: dir, encoding: 'utf8' },
        );
        tally.shellRuns++;
        if (run.status !== 0 || !run.stdout.includes(`the units run ${a.installPath}/${ENTRY}`)) {
          problems.push(`${repro(c)}: install-units said (${run.status}) ${js(run.stdout + run.stderr)}`);
          continue;
        }
        const mkdir = run.stdout.split('\n').find((l) => l.trim().startsWith('sudo mkdir -p '));
        if (mkdir) printed.push({ c, line: mkdir.trim() });
        else problems.push(`${repro(c)}: install-units printed no mkdir command`);
      }
      const again = spawnSync('sh', ['-c', script, 'sh', ...printed.map((l) => l.line)], {
        cwd: scratch,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      tally.shellRuns += printed.length;
      const words = again.stdout.split('\u001e').slice(1);
      printed.forEach(({ c, line }, i) => {
        if (words[i] !== `mkdir\0-p\0${c.answers!.installPath}\0`)
          problems.push(
            `${repro(c)}: install-units printed ${js(line)}, which sh reads as ${JSON.stringify((words[i] ?? '').split('\0'))}`,
          );
        else tally.readbacks++;
      });
      noProblems(problems, 'commands printed for a shell did not hold the literal');
    });
  });

  describe('a real systemd user manager reads every accepted value back as the literal', function () {
    this.timeout(240_000);
    const m = useUserManager();
    const BATCH = 300;
    const batches: Case[][] = [];
    for (let i = 0; i < accepted.length; i += BATCH) batches.push(accepted.slice(i, i + BATCH));

    interface Loaded {
      c: Case;
      /** The unit names to show (a template's instance, <name>@i). */
      service: string;
      socket?: string;
      /** The files written, by scope (systemd-analyze verify is run per scope). */
      files: string[];
      scope: 'system' | 'user';
      /** The case's twin (harmless values), loaded beside it. */
      twin: Loaded | null;
    }

    /** Writes one case's units; returns what to show. */
    function write(c: Case, answers: Answers, scope: 'system' | 'user', twinOf: Loaded | null): Loaded {
      const dir = m().unitDir;
      const u = units(answers, scope);
      const files = [path.join(dir, u.serviceName)];
      writeFileSync(files[0]!, u.service);
      if (u.socket) {
        files.push(path.join(dir, u.socketName!));
        writeFileSync(files[1]!, u.socket);
      }
      const instance = u.template ? `${answers.name}@i` : answers.name;
      return { c, service: `${instance}.service`, ...(u.socket ? { socket: `${instance}.socket` } : {}), files, scope, twin: twinOf };
    }

    /** Empties the unit directory, writes the cases' units and their twins' (one per distinct twin), and reloads once. */
    async function load(batch: Case[]): Promise<{ loaded: Loaded[]; twins: Loaded[] }> {
      const dir = m().unitDir;
      for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
      const twins = new Map<string, Loaded>();
      const loaded: Loaded[] = [];
      for (const c of batch) {
        const scope = c.field.scope ?? 'user';
        const key = JSON.stringify({ ...twin(c, ''), scope });
        let t = twins.get(key);
        if (!t) {
          t = write(c, twin(c, `gt${c.k}`), scope, null);
          twins.set(key, t);
        }
        loaded.push(write(c, c.answers!, scope, t));
      }
      await m().daemonReload();
      return { loaded, twins: [...twins.values()] };
    }

    /** `systemd-analyze verify` over every file, per scope: silent, except that a --node path that is not there is named as such. */
    function verify(loaded: Loaded[]): string[] {
      const problems: string[] = [];
      const byFile = new Map<string, Loaded>();
      for (const l of loaded) for (const f of l.files) byFile.set(path.basename(f), l);
      for (const scope of ['user', 'system'] as const) {
        const files = loaded.filter((l) => l.scope === scope).flatMap((l) => l.files);
        if (files.length === 0) continue;
        const r = spawnSync('systemd-analyze', [...(scope === 'user' ? ['--user'] : []), '--man=no', 'verify', ...files], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, XDG_RUNTIME_DIR: m().runtimeDir, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
        });
        for (const line of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean)) {
          const unit =
            /^(?:\/\S*\/)?([^/\s:]+\.(?:service|socket))(?::\d+)?: /.exec(line)?.[1] ?? /^Unit (\S+\.(?:service|socket)) /.exec(line)?.[1];
          const l = unit ? byFile.get(unit) : undefined;
          const a = l?.c.answers;
          // systemd names the path as it stored it ('$' doubled); its log lines are cut at 2 KiB.
          const stored = a?.nodePath.replaceAll('$', '$$$$') ?? '';
          const notThere =
            a &&
            l.c.field.flag === 'node' &&
            (line.startsWith(`${unit}: Command ${stored} is not executable: `) ||
              (line.length >= 2000 && `${unit}: Command ${stored}`.startsWith(line.slice(0, 1000))));
          if (!notThere) problems.push(l ? `${repro(l.c)}: systemd-analyze verify: ${line}` : `systemd-analyze verify (${scope}): ${line}`);
        }
      }
      return problems;
    }

    batches.forEach((batch, index) => {
      it(`batch ${index + 1}/${batches.length}: ${batch.length} cases load, read back literally, carry nothing their twin lacks, verify silently`, async function () {
        const problems: string[] = [];
        const { loaded, twins } = await load(batch);
        const all = [...twins, ...loaded];
        const services = await showMany(
          m(),
          all.map((l) => l.service),
        );
        const withSocket = all.filter((l) => l.socket);
        const socketProps = await showMany(
          m(),
          withSocket.map((l) => l.socket!),
        );
        const props = new Map(
          all.map((l, i) => [
            l,
            { service: services[i]!, ...(l.socket ? { socket: socketProps[withSocket.indexOf(l)]! } : {}) } as {
              service: Props;
              socket?: Props;
            },
          ]),
        );

        for (const l of loaded) {
          const c = l.c;
          const got = props.get(l)!;
          for (const [kind, p] of Object.entries(got))
            if (p.LoadState !== 'loaded') problems.push(`${repro(c)}: ${kind} LoadState=${p.LoadState} (${p.LoadError ?? ''})`);
          // Nothing injected: every property is the twin's, except the value's own.
          const theirs = props.get(l.twin!)!;
          for (const kind of ['service', 'socket'] as const) {
            const mine = got[kind];
            const other = theirs[kind];
            if (!mine || !other || mine.LoadState !== 'loaded') continue;
            const a = normalise(mine, c.answers!.name);
            const b = normalise(other, `gt${l.twin!.c.k}`);
            const allowed = new Set(c.field.differs ?? []);
            const differing = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
              (p) => a[p] !== b[p] && !allowed.has(p) && !RUNTIME.test(p),
            );
            if (differing.length > 0) {
              problems.push(
                `${repro(c)}: ${kind} differs from its twin in ${differing.map((p) => `${p}=${js(a[p] ?? '(unset)')} (twin: ${js(b[p] ?? '(unset)')})`).join(', ')}`,
              );
              tally.escapes++;
            }
          }
          // The literal, read back.
          for (const e of c.field.expect?.(c.input.value, c.answers!) ?? []) {
            const p = got[e.unit];
            if (!p) {
              problems.push(`${repro(c)}: no ${e.unit} unit`);
              continue;
            }
            if ('exec' in e) {
              const exec = parseExecStart(p.ExecStart ?? '');
              const argv = exec?.argv.map(spawnedArg);
              if (!exec || exec.path !== e.exec.path || JSON.stringify(argv) !== JSON.stringify(e.exec.argv)) {
                problems.push(
                  `${repro(c)}: systemd would execute ${js(exec?.path ?? '(none)')} with argv ${JSON.stringify(argv ?? null)}, not ${js(e.exec.path)} ${JSON.stringify(e.exec.argv)}`,
                );
              } else tally.readbacks++;
            } else if (e.property === 'Listen') {
              const shown = (p.Listen ?? '').split('\n').filter(Boolean).map(cunescape);
              if (!shown.includes(e.value)) problems.push(`${repro(c)}: ${e.unit} Listen=${JSON.stringify(shown)}, not ${js(e.value)}`);
              else tally.readbacks++;
            } else if (p[e.property] !== e.value) {
              problems.push(`${repro(c)}: ${e.unit} ${e.property}=${js(p[e.property] ?? '(unset)')}, not ${js(e.value)}`);
            } else tally.readbacks++;
          }
        }
        problems.push(...verify(loaded));
        noProblems(problems, 'problems in the manager');
      });
    });

    it('the units systemd-sysv-generator made from the LSB headers: the manager reads Description=LSB: <the literal>', async function () {
      const out = path.join(scratch, 'sysv', 'out');
      requireOrSkip(this, existsSync(out), 'systemd-sysv-generator produced no units in the test before (see its result)');
      const dir = m().unitDir;
      for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
      const chosen = accepted.filter((c) => c.field.flag === 'description' && existsSync(path.join(out, `lsb${c.k}.service`)));
      for (const c of chosen) writeFileSync(path.join(dir, `lsb${c.k}.service`), readFileSync(path.join(out, `lsb${c.k}.service`)));
      await m().daemonReload();
      const shown = await showMany(
        m(),
        chosen.map((c) => `lsb${c.k}.service`),
        ['Description', 'LoadState'],
      );
      const problems: string[] = [];
      chosen.forEach((c, i) => {
        if (shown[i]!.Description !== `LSB: ${c.answers!.description}` || shown[i]!.LoadState !== 'loaded')
          problems.push(`${repro(c)}: ${JSON.stringify(shown[i])}`);
        else tally.readbacks++;
      });
      assert.ok(chosen.length > 100, `${chosen.length} LSB units`);
      noProblems(problems, 'LSB descriptions read back wrong');
    });

    it('run for real: a hostile --node and --install-path reach the process as argv[0], argv[1] and its working directory', async function () {
      const share = m().shareDir;
      const dir = m().unitDir;
      for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
      const main = 'console.log(JSON.stringify({ argv0: process.argv0, entry: process.argv[1], cwd: process.cwd() }));\n';
      const inputs = CORPUS.filter((input) =>
        ['install-path /opt/<v>', 'node /usr/bin/<v>'].every((id) =>
          cases.some((c) => c.field.id === id && c.input === input && c.answers),
        ),
      );
      const runs: Array<{ input: HostileInput; answers: Answers; log: string; unit: string }> = [];
      const problems: string[] = [];
      inputs.forEach((input, j) => {
        const node = path.join(share, `x${j}`, 'bin', input.value);
        const project = path.join(share, `x${j}`, 'p', input.value);
        const raw = {
          ...BASE,
          name: `gx${j}`,
          nodePath: m().inside(node),
          installPath: m().inside(project),
          type: 'exec',
          sockets: 'none',
          watchdogSec: '0',
          hardening: 'none',
          restart: 'no',
          initSystems: 'systemd',
        };
        let answers: Answers;
        try {
          answers = parseAnswers(raw);
        } catch (error) {
          problems.push(`${js(input.value)}: refused under the manager's share dir: ${(error as Error).message}`);
          return;
        }
        if (impossiblePath(node) || impossiblePath(project)) return; // No such file can exist; the batches report what systemd makes of it.
        mkdirSync(path.dirname(node), { recursive: true });
        symlinkSync(process.execPath, node);
        mkdirSync(path.join(project, 'dist'), { recursive: true });
        writeFileSync(path.join(project, ENTRY), main);
        const log = path.join(share, `x${j}`, 'out.log');
        writeFileSync(log, '');
        runs.push({ input, answers, log, unit: `gx${j}.service` });
      });
      for (const run of runs) {
        const u = units(run.answers, 'user');
        await m().writeUnit(u.serviceName, u.service);
        await m().writeUnit(
          `${u.serviceName}.d/log.conf`,
          `[Service]\nStandardOutput=append:${m().inside(run.log)}\nStandardError=append:${m().inside(run.log)}\n`,
        );
      }
      await m().daemonReload();
      for (let i = 0; i < runs.length; i += 50) await m().systemctl('start', '--', ...runs.slice(i, i + 50).map((r) => r.unit));
      const deadline = Date.now() + 30_000;
      let pending = runs;
      while (pending.length > 0 && Date.now() < deadline) {
        const states = await showMany(
          m(),
          pending.map((r) => r.unit),
          ['ActiveState'],
        );
        pending = pending.filter(
          (r, i) => states[i]!.ActiveState === 'activating' || (states[i]!.ActiveState === 'active' && readFileSync(r.log, 'utf8') === ''),
        );
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const final = await showMany(
        m(),
        runs.map((r) => r.unit),
        ['Result', 'ExecMainStatus'],
      );
      runs.forEach((run, i) => {
        const text = readFileSync(run.log, 'utf8');
        const want = { argv0: run.answers.nodePath, entry: `${run.answers.installPath}/${ENTRY}`, cwd: run.answers.installPath };
        let got: unknown;
        try {
          got = JSON.parse(text.split('\n')[0]!);
        } catch {
          got = undefined;
        }
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          problems.push(
            `--node ${js(run.answers.nodePath)} --install-path ${js(run.answers.installPath)} [${run.input.kind}]: the process saw ${js(text.trim() || `nothing (Result=${final[i]!.Result}, ExecMainStatus=${final[i]!.ExecMainStatus})`)}`,
          );
        } else tally.readbacks += 3;
      });
      console.log(`      ran ${runs.length} services with hostile node and install paths`);
      assert.ok(runs.length >= 100);
      noProblems(problems, 'processes did not see the literal');
    });

    it("a user-scope project in a hostile directory: its install script's drop-in reaches the manager as the literal directory", async function () {
      const dir = m().unitDir;
      for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
      const kinds = new Set<string>();
      const chosen = cases.filter((c) => {
        if (
          c.field.id !== 'install-path /opt/<v>' ||
          !c.answers ||
          kinds.has(c.input.kind) ||
          impossiblePath(`${scratch}/${c.input.value}`)
        )
          return false;
        kinds.add(c.input.kind);
        return true;
      });
      const problems: string[] = [];
      const installed: Array<{ c: Case; project: string; unit: string }> = [];
      for (const [j, c] of chosen.entries()) {
        const parent = path.join(scratch, `hc${j}`, c.input.value);
        const name = `gh${j}`;
        let project: string;
        try {
          project = (await generate({ scope: 'user', skipInstall: true, nodePath: process.execPath, systemdVersion: '252' }, name, parent))
            .dir;
        } catch (error) {
          problems.push(`${repro(c)} as the project's parent directory: the generator failed: ${(error as Error).message}`);
          continue;
        }
        tally.generatorRuns++;
        const r = spawnSync(process.execPath, [path.join(project, 'scripts', 'install-units.mjs'), '--unit-dir', dir, '--no-reload'], {
          cwd: project,
          encoding: 'utf8',
        });
        tally.shellRuns++;
        if (r.status !== 0) {
          problems.push(`${repro(c)} as the project's parent directory: install-units failed: ${r.stderr}`);
          continue;
        }
        installed.push({ c, project, unit: `${name}.service` });
      }
      await m().daemonReload();
      const shown = await showMany(
        m(),
        installed.map((i) => i.unit),
        ['WorkingDirectory', 'ExecStart', 'LoadState', 'DropInPaths'],
      );
      installed.forEach(({ c, project }, i) => {
        const p = shown[i]!;
        const exec = parseExecStart(p.ExecStart ?? '');
        const argv = exec?.argv.map(spawnedArg);
        if (
          p.LoadState !== 'loaded' ||
          p.WorkingDirectory !== project ||
          exec?.path !== process.execPath ||
          JSON.stringify(argv) !== JSON.stringify([process.execPath, `${project}/${ENTRY}`])
        ) {
          problems.push(`${repro(c)} as the project's parent directory: ${JSON.stringify(p)}`);
        } else tally.readbacks += 2;
      });
      assert.ok(chosen.length >= 10, `${chosen.length} hostile directories`);
      noProblems(problems, 'install-script drop-ins went wrong');
    });
  });

  describe('the command line and the install script, for real', function () {
    this.timeout(120_000);
    let dir: string;

    before(function () {
      // As test/generator/cli.test.ts: yo drops root for an unprivileged user, who needs a home and a working directory.
      dir = mkdtempSync(path.join(tmpdir(), 'sd-ga-cli-'));
      mkdirSync(path.join(dir, 'home'));
      mkdirSync(path.join(dir, 'work', 'node_modules'), { recursive: true });
      for (const d of [dir, path.join(dir, 'home'), path.join(dir, 'work')]) chmodSync(d, 0o777);
      symlinkSync(REPO, path.join(dir, 'work', 'node_modules', 'generator-sd-daemon'));
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));

    function yo(args: string[]): { code: number | null; output: string } {
      const r = spawnSync(path.join(REPO, 'node_modules', '.bin', 'yo'), args, {
        cwd: path.join(dir, 'work'),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOME: path.join(dir, 'home'), NO_UPDATE_NOTIFIER: '1' },
      });
      tally.generatorRuns++;
      return { code: r.status, output: `${r.stdout}${r.stderr}` };
    }

    it('yo sd-daemon 010 names the project 010 (yeoman must not read the name argument as a number)', function () {
      const r = yo(['sd-daemon', '010', '--yes', '--skip-install', '--init', 'systemd']);
      assert.equal(r.code, 0, r.output);
      const made = readdirSync(path.join(dir, 'work')).filter((f) => f !== 'node_modules');
      assert.deepEqual(made, ['010'], `yo sd-daemon 010 made ${JSON.stringify(made)}`);
      assert.ok(existsSync(path.join(dir, 'work', '010', 'systemd', '010.service')));
    });

    it('yo sd-daemon t --template=false writes a plain unit, not a template (t@.service)', function () {
      const r = yo(['sd-daemon', 'tfalse', '--yes', '--skip-install', '--init', 'systemd', '--template=false']);
      assert.equal(r.code, 0, r.output);
      const units = readdirSync(path.join(dir, 'work', 'tfalse', 'systemd'));
      assert.deepEqual(units.sort(), ['tfalse.service', 'tfalse.socket'], `--template=false wrote ${JSON.stringify(units)}`);
    });

    it('a user-scope project in a directory with a space: refused naming the directory, not an option the user never gave', async function () {
      let message = '';
      try {
        await generate(
          { scope: 'user', skipInstall: true, nodePath: process.execPath, systemdVersion: '252' },
          'spaced',
          path.join(scratch, 'my projects'),
        );
      } catch (error) {
        message = (error as Error).message;
      }
      tally.generatorRuns++;
      // WorkingDirectory= and a quoted ExecStart= argument carry a space; if it is refused anyway, the message must name what to change.
      assert.ok(
        message === '' || !message.startsWith('--install-path:'),
        `refused with ${JSON.stringify(message)}: --install-path was not given (the path is where the project is generated)`,
      );
    });

    it("install-units refuses to replace a unit file it did not write (a name that is another unit's: dbus, ssh)", async function () {
      const p = await generate(
        { scope: 'user', skipInstall: true, nodePath: process.execPath, systemdVersion: '252' },
        'dbus',
        path.join(scratch, 'collide'),
      );
      tally.generatorRuns++;
      const unitDir = path.join(scratch, 'collide-units');
      mkdirSync(unitDir);
      const foreign = '[Unit]\nDescription=D-Bus User Message Bus (not ours)\n\n[Service]\nExecStart=/usr/bin/dbus-daemon --session\n';
      writeFileSync(path.join(unitDir, 'dbus.service'), foreign);
      const r = spawnSync(process.execPath, [path.join(p.dir, 'scripts', 'install-units.mjs'), '--unit-dir', unitDir, '--no-reload'], {
        cwd: p.dir,
        encoding: 'utf8',
      });
      tally.shellRuns++;
      assert.equal(
        readFileSync(path.join(unitDir, 'dbus.service'), 'utf8'),
        foreign,
        `install-units (${r.status}) replaced a dbus.service it did not write:\n${r.stdout}${r.stderr}`,
      );
      assert.notEqual(r.status, 0, 'and says so');
    });
  });

  describe('summary', function () {
    it('no command in any answer ran, and the figures hold', function () {
      const ran = [
        ...markers(),
        ...tree(scratch).filter(
          (f) => /^(sd-ga-pwned-(\d+|pre)|pwned)$/.test(path.basename(f)) && !lstatSync(path.join(scratch, f)).isDirectory(),
        ),
      ];
      tally.escapes += ran.length;
      const inputs = CORPUS.length;
      const line = `reliability: generator-answers inputs=${inputs} fields=${FIELDS.length} cases=${cases.length} rejected=${rejected.length} accepted=${accepted.length} readbacks=${tally.readbacks} shell-runs=${tally.shellRuns} escapes=${tally.escapes}`;
      console.log(`      ${line}`);
      assert.deepEqual(ran, [], 'marker files: a command in an answer ran');
      assert.ok(inputs >= 300);
      assert.equal(cases.length, inputs * FIELDS.length);
      assert.equal(rejected.length + accepted.length, cases.length);
      assert.ok(
        tally.readbacks >= accepted.length,
        `every accepted case read back at least once (${tally.readbacks} read-backs for ${accepted.length})`,
      );
      assert.ok(tally.shellRuns > 0);
      assert.equal(tally.escapes, 0);
    });
  });
});
