// Reading what a real systemd manager shows: `systemctl --user show` for many
// units at once, its C escapes undone, ExecStart= taken apart as systemd
// spawns it, and unit names normalised so a case compares with its twin.
import assert from 'node:assert/strict';

import type { UserManager } from './user-manager.js';

export type Props = Record<string, string>;

/** systemd's C escapes in `systemctl show` output (\303\251, \n, \\) back to text. */
export function cunescape(text: string): string {
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
export function spawnedArg(arg: string): string | null {
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
export function parseExecStart(value: string): { path: string; argv: string[] } | null {
  const m = /^\{ path=(.*?) ; argv\[\]=(.*?) ; (?:ignore_errors|flags)=/.exec(value);
  return m ? { path: m[1]!, argv: m[2]!.split(' ') } : null;
}

/** `systemctl --user show` blocks (blank-line separated) for many units at once, in order. */
export async function showMany(m: UserManager, unitNames: string[], properties?: string[]): Promise<Props[]> {
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
export function normalise(props: Props, unitBase: string): Props {
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
export const RUNTIME =
  /^(ActiveState|SubState|Result|ConditionResult|AssertResult|InvocationID|ControlGroup|ControlGroupId|MainPID|ExecMainPID|ExecMainStatus|ExecMainCode|NRestarts|StatusText|StatusErrno|.*Timestamp.*|.*Current|CPUUsageNSec|IP(Ingress|Egress)\w+|IO(Read|Write)\w+|Effective\w+|WantedBy|RequiredBy|UnitFileState|UnitFilePreset|TriggeredBy|Triggers)$/;

export const UNORDERED = new Set([
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
