// The hardening sets as data (src/lib/hardening.ts), and as units systemd
// accepts: every level x scope x socket combination, rendered as the generator
// renders it into a complete .service (+ .socket), passes `systemd-analyze
// verify` without a word, and the default system-scope strict service scores
// an overall exposure of 1.0 or lower in `systemd-analyze security`. That the
// daemon still works under each set is proven in test/e2e/hardening.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {
  hardeningDirectives,
  hardeningFor,
  leftOutByRelease,
  UNIT_HARDENING_FACTS,
  type Directive,
  type HardeningOptions,
  type SocketKind,
} from '../../src/lib/hardening.js';
import { introducedIn, knows, KEYS, TESTED_TARGETS, VALUES } from '../../src/lib/systemd-versions.js';
import { requireOrSkip } from '../helpers/prerequisites.js';

const pair = (d: Directive): string => `${d.key}=${d.value}`;
const pairs = (options: HardeningOptions): string[] => hardeningDirectives(options).map(pair);

/** The generator's default: a system service, DynamicUser=yes, one socket-activated TCP listener. */
const DEFAULT: HardeningOptions = { level: 'strict', scope: 'system', dynamicUser: true, socketKinds: ['tcp'], onlySocketActivated: true };

/** Directives systemd.exec(5) reserves for system services, or that an unprivileged user manager cannot apply. */
const SYSTEM_ONLY = ['DynamicUser', 'ProtectProc', 'ProcSubset', 'ProtectControlGroups', 'RemoveIPC', 'DevicePolicy', 'IPAddressDeny'];

describe('hardeningDirectives(): the sets as data', function () {
  it('strict, system scope, socket-activated TCP (the default): exactly this list, in this order', function () {
    assert.deepEqual(pairs(DEFAULT), [
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'DevicePolicy=closed',
      'PrivateIPC=yes',
      'PrivateMounts=yes',
      'PrivateUsers=yes',
      'PrivateNetwork=yes',
      'IPAddressDeny=any',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'ProtectKernelLogs=yes',
      'ProtectControlGroups=yes',
      'ProtectClock=yes',
      'ProtectHostname=yes',
      'ProtectProc=invisible',
      'ProcSubset=pid',
      'NoNewPrivileges=yes',
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
      'RestrictNamespaces=yes',
      'RestrictRealtime=yes',
      'RestrictSUIDSGID=yes',
      'LockPersonality=yes',
      'KeyringMode=private',
      'RemoveIPC=yes',
      'UMask=0077',
      'RestrictAddressFamilies=AF_UNIX',
      'SystemCallArchitectures=native',
      'SystemCallFilter=@system-service @pkey',
      'SystemCallFilter=~@privileged @resources',
      'SystemCallErrorNumber=EPERM',
    ]);
  });

  it('strict, user scope: PrivateUsers= first (it makes the namespacing work in a user manager), nothing system-only, $HOME read-only', function () {
    const user = pairs({ ...DEFAULT, scope: 'user', dynamicUser: false });
    assert.equal(user[0], 'PrivateUsers=yes');
    assert.ok(user.includes('ProtectHome=read-only'));
    assert.deepEqual(
      user.filter((p) => SYSTEM_ONLY.includes(p.split('=')[0]!)),
      [],
    );
    // Everything else of the system set is there.
    const system = pairs(DEFAULT).filter((p) => !SYSTEM_ONLY.includes(p.split('=')[0]!) && p !== 'ProtectHome=yes');
    assert.deepEqual([...user].filter((p) => p !== 'ProtectHome=read-only').sort(), system.sort());
  });

  it('baseline, system scope: the compatible middle ground', function () {
    assert.deepEqual(pairs({ ...DEFAULT, level: 'baseline', dynamicUser: false }), [
      'NoNewPrivileges=yes',
      'ProtectSystem=full',
      'ProtectHome=read-only',
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'ProtectKernelLogs=yes',
      'ProtectControlGroups=yes',
      'ProtectClock=yes',
      'ProtectHostname=yes',
      'RestrictRealtime=yes',
      'RestrictSUIDSGID=yes',
      'LockPersonality=yes',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
      'SystemCallArchitectures=native',
      'SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap',
      'SystemCallErrorNumber=EPERM',
    ]);
  });

  it('baseline with DynamicUser=yes says ProtectSystem=strict, which DynamicUser= forces anyway', function () {
    assert.ok(pairs({ ...DEFAULT, level: 'baseline' }).includes('ProtectSystem=strict'));
  });

  it('baseline, user scope: PrivateUsers=yes first, nothing system-only', function () {
    const user = pairs({ ...DEFAULT, level: 'baseline', scope: 'user', dynamicUser: false });
    assert.equal(user[0], 'PrivateUsers=yes');
    assert.deepEqual(
      user.filter((p) => SYSTEM_ONLY.includes(p.split('=')[0]!)),
      [],
    );
  });

  it('none: nothing, in either scope', function () {
    assert.deepEqual(hardeningDirectives({ ...DEFAULT, level: 'none' }), []);
    assert.deepEqual(hardeningDirectives({ ...DEFAULT, level: 'none', scope: 'user', dynamicUser: false }), []);
  });

  it('PrivateNetwork=yes and AF_UNIX alone only when every listener is socket-activated; IP families otherwise', function () {
    for (const socketKinds of [['tcp'], ['udp'], ['unix'], ['tcp', 'udp', 'unix']] as SocketKind[][]) {
      const activated = pairs({ ...DEFAULT, socketKinds });
      assert.ok(activated.includes('PrivateNetwork=yes') && activated.includes('RestrictAddressFamilies=AF_UNIX'), socketKinds.join());
      const own = pairs({ ...DEFAULT, socketKinds, onlySocketActivated: false });
      assert.ok(!own.some((p) => p.startsWith('PrivateNetwork=')), socketKinds.join());
      assert.ok(own.includes('RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'), socketKinds.join());
    }
  });

  it('never MemoryDenyWriteExecute= (it kills node: V8 JIT); IPAddressDeny=any only where every listener is passed in, in a system manager', function () {
    for (const level of ['strict', 'baseline'] as const) {
      for (const scope of ['system', 'user'] as const) {
        for (const onlySocketActivated of [true, false]) {
          const options = { ...DEFAULT, level, scope, dynamicUser: scope === 'system', onlySocketActivated };
          const keys = hardeningDirectives(options).map((d) => d.key);
          const where = JSON.stringify(options);
          assert.ok(!keys.includes('MemoryDenyWriteExecute'), where);
          assert.equal(keys.includes('IPAddressDeny'), level === 'strict' && scope === 'system' && onlySocketActivated, where);
          assert.ok(!keys.includes('IPAddressAllow'), where);
        }
      }
    }
    assert.ok(UNIT_HARDENING_FACTS.some((f) => f.directive === 'MemoryDenyWriteExecute=yes' && /5\/TRAP/.test(f.finding)));
  });

  it('writablePaths become one ReadWritePaths= line, as given', function () {
    const paths = ['/var/lib/app', '-/srv/app\\x20data'];
    for (const level of ['strict', 'baseline'] as const) {
      assert.ok(pairs({ ...DEFAULT, level, writablePaths: paths }).includes('ReadWritePaths=/var/lib/app -/srv/app\\x20data'), level);
      assert.ok(!pairs({ ...DEFAULT, level, writablePaths: [] }).some((p) => p.startsWith('ReadWritePaths=')), level);
    }
  });

  it('every directive: a plain key, a one-line value, a one-line comment; no key twice except SystemCallFilter', function () {
    for (const level of ['strict', 'baseline'] as const) {
      for (const scope of ['system', 'user'] as const) {
        for (const onlySocketActivated of [true, false]) {
          const directives = hardeningDirectives({
            level,
            scope,
            dynamicUser: scope === 'system',
            socketKinds: ['tcp'],
            onlySocketActivated,
            writablePaths: ['/var/lib/app'],
          });
          const where = `${level}/${scope}/${onlySocketActivated}`;
          for (const d of directives) {
            assert.match(d.key, /^[A-Z][A-Za-z]+$/, where);
            assert.doesNotMatch(d.value, /[\n\r\0]/, `${where} ${d.key}`);
            assert.match(d.comment, /^[^\n\r#]{10,160}$/, `${where} ${d.key}: ${d.comment}`);
          }
          const keys = directives.map((d) => d.key).filter((k) => k !== 'SystemCallFilter');
          assert.equal(new Set(keys).size, keys.length, `${where}: ${keys.join(' ')}`);
        }
      }
    }
  });

  it('refuses what cannot be: DynamicUser= in a user manager, unknown level, scope or socket kind, a path with a newline', function () {
    const cases: Array<[Partial<HardeningOptions> | Record<string, unknown>, RegExp]> = [
      [{ scope: 'user', dynamicUser: true }, /DynamicUser= is not supported by user managers/],
      [{ level: 'paranoid' }, /level must be one of strict, baseline, none, got "paranoid"/],
      [{ scope: 'session' }, /scope must be one of system, user, got "session"/],
      [{ socketKinds: ['sctp'] }, /socket kind must be one of tcp, udp, unix, got "sctp"/],
      [{ writablePaths: ['/var/lib/app\nExecStartPre=/bin/sh'] }, /writable path .* contains a newline/],
      [{ writablePaths: [''] }, /writable path "" is empty/],
    ];
    for (const [override, message] of cases) {
      assert.throws(
        () => hardeningDirectives({ ...DEFAULT, ...override } as HardeningOptions),
        { name: 'TypeError', message },
        JSON.stringify(override),
      );
    }
  });
});

describe('hardeningFor(): the sets fitted to the target systemd (src/lib/systemd-versions.ts)', function () {
  const at = (systemdVersion: number, options: Partial<HardeningOptions> = {}): string[] =>
    pairs({ ...DEFAULT, ...options, systemdVersion });

  it('the table: every entry has a release and a source; the releases of the issue are the ones NEWS gives', function () {
    for (const [key, entry] of Object.entries({ ...KEYS, ...VALUES })) {
      assert.ok(Number.isInteger(entry.since) && entry.since >= 0 && entry.source.length > 5, key);
    }
    const expected: Array<[string, string, number]> = [
      ['Type', 'exec', 240],
      ['Type', 'notify-reload', 253],
      ['ProtectHostname', 'yes', 242],
      ['ProtectKernelLogs', 'yes', 244],
      ['ProtectClock', 'yes', 245],
      ['ProtectProc', 'invisible', 247],
      ['ProcSubset', 'pid', 247],
      ['PrivateIPC', 'yes', 248],
      ['SystemCallFilter', '@system-service @pkey', 244],
      ['SystemCallFilter', '@system-service pkey_alloc', 239],
      ['RestrictSUIDSGID', 'yes', 242],
      ['ProtectSystem', 'strict', 232],
      ['DynamicUser', 'yes', 232],
      ['PrivateMounts', 'yes', 239],
      ['PrivateUsers', 'yes', 232],
    ];
    for (const [key, value, since] of expected) assert.equal(introducedIn(key, value), since, `${key}=${value}`);
    assert.throws(() => introducedIn('ProtectEverything', 'yes'), /ProtectEverything= is not in the table of directives/);
    assert.throws(() => introducedIn('SystemCallFilter', '@everything'), /SystemCallFilter=@everything is not in the table of values/);
    assert.equal(knows(252, 'Type', 'notify-reload'), false);
    assert.equal(knows(253, 'Type', 'notify-reload'), true);
  });

  it('strict, system, DynamicUser, socket-activated on 239 (RHEL 8): the full set less what 239 lacks; the pkey calls by name', function () {
    const full = pairs(DEFAULT);
    const on239 = at(239);
    const dropped = [
      'PrivateIPC=yes',
      'ProtectKernelLogs=yes',
      'ProtectClock=yes',
      'ProtectHostname=yes',
      'ProtectProc=invisible',
      'ProcSubset=pid',
      'RestrictSUIDSGID=yes',
    ];
    assert.deepEqual(
      on239.filter((p) => !p.startsWith('SystemCallFilter=@system-service')),
      full.filter((p) => !dropped.includes(p) && !p.startsWith('SystemCallFilter=@system-service')),
    );
    assert.ok(on239.includes('SystemCallFilter=@system-service pkey_alloc pkey_free pkey_mprotect'));
    assert.deepEqual(leftOutByRelease(hardeningFor({ ...DEFAULT, systemdVersion: 239 }).leftOut), [
      '242: ProtectHostname=yes, RestrictSUIDSGID=yes',
      '244: ProtectKernelLogs=yes',
      '245: ProtectClock=yes',
      '247: ProtectProc=invisible, ProcSubset=pid',
      '248: PrivateIPC=yes',
    ]);
  });

  it('each release adds its directives: 242, 244 (@pkey as a group), 245, 247, 248; from 248 on, the full set', function () {
    assert.ok(
      at(242).includes('ProtectHostname=yes') && at(242).includes('RestrictSUIDSGID=yes') && !at(241).includes('ProtectHostname=yes'),
    );
    assert.ok(at(244).includes('ProtectKernelLogs=yes') && at(244).includes('SystemCallFilter=@system-service @pkey'));
    assert.ok(at(243).includes('SystemCallFilter=@system-service pkey_alloc pkey_free pkey_mprotect'));
    assert.ok(at(245).includes('ProtectClock=yes') && !at(244).includes('ProtectClock=yes'));
    assert.ok(at(247).includes('ProtectProc=invisible') && at(247).includes('ProcSubset=pid') && !at(246).includes('ProcSubset=pid'));
    assert.ok(at(248).includes('PrivateIPC=yes') && !at(247).includes('PrivateIPC=yes'));
    for (const version of [248, 252, 257, 300]) assert.deepEqual(at(version), pairs(DEFAULT), String(version));
    assert.deepEqual(hardeningFor({ ...DEFAULT, systemdVersion: 248 }).leftOut, []);
  });

  it('a user unit before 245 keeps only what needs no namespace (a user manager has PrivateUsers= from 245 on)', function () {
    const user = { scope: 'user' as const, dynamicUser: false };
    const on244 = at(244, user);
    for (const key of [
      'PrivateUsers',
      'ProtectSystem',
      'ProtectHome',
      'PrivateTmp',
      'PrivateDevices',
      'PrivateMounts',
      'PrivateNetwork',
      'ProtectKernelTunables',
      'CapabilityBoundingSet',
    ]) {
      assert.ok(!on244.some((p) => p.startsWith(`${key}=`)), `${key} on 244`);
    }
    for (const kept of [
      'NoNewPrivileges=yes',
      'RestrictNamespaces=yes',
      'LockPersonality=yes',
      'RestrictAddressFamilies=AF_UNIX',
      'SystemCallArchitectures=native',
      'SystemCallErrorNumber=EPERM',
    ]) {
      assert.ok(on244.includes(kept), kept);
    }
    assert.equal(at(245, user)[0], 'PrivateUsers=yes');
    assert.ok(hardeningFor({ ...DEFAULT, ...user, systemdVersion: 244 }).leftOut.every((d) => d.since === 245 || d.since > 244));
  });

  it('every directive of every level, scope and socket choice on every tested target is one the target knows', function () {
    for (const systemdVersion of TESTED_TARGETS) {
      for (const level of ['strict', 'baseline', 'none'] as const) {
        for (const scope of ['system', 'user'] as const) {
          for (const onlySocketActivated of [true, false]) {
            const options = {
              level,
              scope,
              dynamicUser: scope === 'system',
              socketKinds: ['tcp' as const],
              onlySocketActivated,
              writablePaths: ['/var/lib/app'],
              systemdVersion,
            };
            for (const d of hardeningDirectives(options)) {
              assert.ok(introducedIn(d.key, d.value) <= systemdVersion, `${d.key}=${d.value} on ${systemdVersion} (${level}/${scope})`);
            }
          }
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { ...process.env, SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

interface UnitSpec {
  options: HardeningOptions;
  name: string;
}

/** A complete .service (+ .socket when there are sockets), as the generator would emit it. */
function unitFiles({ options, name }: UnitSpec): { service: string; socket?: string } {
  const system = options.scope === 'system';
  const directives = hardeningDirectives(options).flatMap((d) => [`# ${d.comment}`, pair(d)]);
  const service = [
    '[Unit]',
    `Description=${name}, hardening ${options.level}`,
    '',
    '[Service]',
    'Type=notify',
    'NotifyAccess=main',
    `ExecStart=${process.execPath} /opt/${name}/dist/main.js`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'WatchdogSec=10',
    'Restart=on-failure',
    ...(options.dynamicUser ? ['DynamicUser=yes'] : []),
    ...directives,
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
  if (options.socketKinds.length === 0) return { service };
  const listen: Record<SocketKind, string> = {
    tcp: 'ListenStream=127.0.0.1:8080',
    udp: 'ListenDatagram=127.0.0.1:8053',
    unix: `ListenStream=${system ? '/run' : '%t'}/${name}.sock`,
  };
  const socket = [
    '[Unit]',
    `Description=${name} sockets`,
    '',
    '[Socket]',
    ...options.socketKinds.map((k) => listen[k]),
    'FileDescriptorName=http',
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
  return { service, socket };
}

const SOCKET_COMBOS: SocketKind[][] = [[], ['tcp'], ['udp'], ['unix'], ['tcp', 'udp', 'unix']];

function matrix(): UnitSpec[] {
  const specs: UnitSpec[] = [];
  for (const level of ['strict', 'baseline', 'none'] as const) {
    for (const scope of ['system', 'user'] as const) {
      for (const dynamicUser of scope === 'system' ? [true, false] : [false]) {
        for (const socketKinds of SOCKET_COMBOS) {
          for (const onlySocketActivated of socketKinds.length > 0 ? [true, false] : [false]) {
            const writablePaths = onlySocketActivated ? [] : [scope === 'system' ? '/var/lib/app' : '%h/.local/state/app'];
            const name = `app-${level}-${scope}-${dynamicUser ? 'dyn' : 'fixed'}-${socketKinds.join('-') || 'nosock'}-${onlySocketActivated ? 'act' : 'own'}`;
            specs.push({ name, options: { level, scope, dynamicUser, socketKinds, onlySocketActivated, writablePaths } });
          }
        }
      }
    }
  }
  return specs;
}

describe('hardeningDirectives(): as units systemd accepts', function () {
  this.timeout(120_000);
  let dir = '';
  let runtimeDir = '';

  before(async function () {
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
    requireOrSkip(this, process.platform === 'linux' && analyze !== undefined, 'systemd-analyze is not installed');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sd-hardening-'));
    // `systemd-analyze --user` builds a user manager's search path from $XDG_RUNTIME_DIR and fails without it.
    runtimeDir = path.join(dir, 'runtime');
    await fs.mkdir(runtimeDir, { mode: 0o700 });
  });

  after(async function () {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function write(spec: UnitSpec): Promise<string[]> {
    const { service, socket } = unitFiles(spec);
    const unitDir = path.join(dir, spec.name);
    await fs.mkdir(unitDir, { recursive: true });
    const files = [path.join(unitDir, `${spec.name}.service`)];
    await fs.writeFile(files[0]!, service);
    if (socket !== undefined) {
      files.unshift(path.join(unitDir, `${spec.name}.socket`));
      await fs.writeFile(files[0]!, socket);
    }
    return files;
  }

  const scopeArgs = (options: HardeningOptions): string[] => (options.scope === 'user' ? ['--user'] : []);
  const env = (): NodeJS.ProcessEnv => ({ XDG_RUNTIME_DIR: runtimeDir, SYSTEMD_LOG_LEVEL: 'info' });

  it('the check itself: systemd-analyze verify speaks up about a broken unit', async function () {
    const files = await write({ name: 'app-broken', options: DEFAULT });
    await fs.appendFile(files.at(-1)!, '[Service]\nProtectProc=bogus\nExecStartPre=/nonexistent/tool\n');
    const result = await run('systemd-analyze', ['verify', ...files], env());
    assert.match(result.output, /Failed to parse \/proc\/ protection mode, ignoring: bogus/);
    assert.match(result.output, /\/nonexistent\/tool/);
  });

  for (const spec of matrix()) {
    it(`verify, silently: ${spec.name}`, async function () {
      const files = await write(spec);
      const result = await run('systemd-analyze', [...scopeArgs(spec.options), 'verify', ...files], env());
      assert.deepEqual(result, { code: 0, output: '' }, `${files.join(' ')}\n${unitFiles(spec).service}`);
    });
  }

  /** "→ Overall exposure level for x.service: 0.8 SAFE 😀" -> 0.8 */
  async function exposure(spec: UnitSpec): Promise<number> {
    const files = await write(spec);
    const result = await run('systemd-analyze', [...scopeArgs(spec.options), 'security', '--offline=true', files.at(-1)!], env());
    const figure = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.output)?.[1];
    assert.ok(result.code === 0 && figure !== undefined, `systemd-analyze security (exit ${result.code}):\n${result.output}`);
    return Number(figure);
  }

  it('systemd-analyze security: the default strict system service (Type=notify, DynamicUser=yes, socket-activated TCP) is exposed 1.0 or less', async function () {
    const figure = await exposure({ name: 'app-default', options: DEFAULT });
    console.log(`      overall exposure, strict/system/DynamicUser/socket-activated TCP: ${figure}`);
    assert.ok(figure <= 1.0, `exposure ${figure} > 1.0`);
  });

  it('systemd-analyze security: the figures of every level and scope, for the record (strict < baseline < none)', async function () {
    const figures: Record<string, number> = {};
    for (const level of ['strict', 'baseline', 'none'] as const) {
      for (const [scope, dynamicUser] of [
        ['system', true],
        ['system', false],
        ['user', false],
      ] as const) {
        for (const onlySocketActivated of [true, false]) {
          const key = `${level}/${scope}${dynamicUser ? '+DynamicUser' : ''}/${onlySocketActivated ? 'socket-activated' : 'own listener'}`;
          const name = `app-score-${level}-${scope}-${dynamicUser ? 'dyn' : 'fixed'}-${onlySocketActivated ? 'act' : 'own'}`;
          figures[key] = await exposure({ name, options: { level, scope, dynamicUser, socketKinds: ['tcp'], onlySocketActivated } });
        }
      }
    }
    for (const [key, figure] of Object.entries(figures)) console.log(`      overall exposure, ${key}: ${figure}`);
    for (const scope of ['system+DynamicUser', 'system', 'user']) {
      for (const how of ['socket-activated', 'own listener']) {
        const [strict, baseline, none] = ['strict', 'baseline', 'none'].map((level) => figures[`${level}/${scope}/${how}`]!);
        assert.ok(strict! < baseline! && baseline! < none!, `${scope}/${how}: strict ${strict}, baseline ${baseline}, none ${none}`);
      }
    }
  });
});
