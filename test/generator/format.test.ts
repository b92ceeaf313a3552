// Every generated project passes its own `biome check` (lint and format, with
// the biome.json it was given) with no warning either: no unused import or
// variable is left by a template branch, and the Handlebars output is laid out
// as the formatter lays it out. The variants cover every answer that changes
// what the sources import or contain, in both languages (the JavaScript one
// is the TypeScript rendering with its types stripped, src/lib/strip-types.ts).
// Biome is the repository's own binary: the version generated projects pin
// (templates/project/dependencies/package.json) must be the one installed
// here, or this test would check with a formatter the projects do not use.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { generatedVersions } from '../../src/lib/dependencies.js';
import { generate, keptDir, REPO } from '../helpers/generator.js';

/** The answers that change the generated sources, each value in at least one variant. */
const VARIANTS: Array<[string, Record<string, unknown>]> = [
  ['Type=notify, a tcp socket, the watchdog, system scope (the defaults)', {}],
  ['Type=simple, no socket, no watchdog, user scope', { type: 'simple', sockets: 'none', watchdog: '0', scope: 'user' }],
  [
    'Type=exec, a unix stream socket, a template unit, user scope',
    { type: 'exec', sockets: 'unix:/run/fmt/http.sock', template: true, scope: 'user', systemdVersion: '252' },
  ],
  [
    'Type=notify-reload, tcp and udp sockets, the fd store',
    { type: 'notify-reload', sockets: 'tcp:127.0.0.1:8080,udp:127.0.0.1:9001', fdStore: '4' },
  ],
  ['Type=forking with the init.d and OpenRC scripts (--daemonize)', { type: 'forking', init: 'systemd,sysv,openrc' }],
  ['the init.d script only (no systemd units, no install scripts)', { init: 'sysv', sockets: 'none' }],
  ['the OpenRC runscript only, no watchdog', { init: 'openrc', sockets: 'none', watchdog: '0' }],
  [
    'several sockets (tcp, IPv6 tcp, unix, udp), a template unit, the fd store, no watchdog, user scope',
    {
      sockets: 'tcp:127.0.0.1:8080,tcp:[::1]:8081,unix:/run/fmt/http.sock,udp:9001',
      template: true,
      fdStore: '8',
      watchdog: '0',
      scope: 'user',
    },
  ],
  ['Type=simple, a tcp socket, no sandbox, a named user', { type: 'simple', hardening: 'none', runAs: 'daemon' }],
  // Answers as long as they may be, in the lines that hold them: each such `const` and the import lists break when too long.
  [
    "a description with a ' and past the line width, the longest socket name, a long install path and unix socket path",
    {
      description: `Joe's daemon: ${'a description that runs past the line width of the formatter, '.repeat(2).trim()}`,
      socketName: 'a-longer-socket-name.with_the-allowed-characters-0123456789',
      installPath: '/opt/a-much-longer-install-path/with-more-characters/than-usual/for-the-line-width',
      sockets: 'unix:/run/a-long-socket-directory-name/with-a-long-socket-file-name-for-the-line-width.sock,udp:[::1]:65535',
      fdStore: '2',
    },
  ],
  // 133 characters but 143 columns in `const DESCRIPTION = '...';`: a wide character takes two, as the formatter counts.
  [
    'a description in East Asian characters and emoji, within the line width in characters but not in columns',
    { description: `${'漢字'.repeat(4)}😀😀${'a'.repeat(100)}` },
  ],
  [
    'a project name of 178 characters, a template unit, user scope, forking',
    { name: `${'a-very-long-project-name-'.repeat(7)}end`, template: true, scope: 'user', type: 'forking', sockets: 'none' },
  ],
];

/** The Biome installed in this repository, and its version. */
function repositoryBiome(): { bin: string; version: string } {
  const require = createRequire(path.join(REPO, 'package.json'));
  const manifest = require.resolve('@biomejs/biome/package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { bin: path.join(path.dirname(manifest), 'bin', 'biome'), version };
}

describe('every generated project passes its own biome check (lint and format)', function () {
  // Generating takes a second or two on a loaded machine, Biome under one; seconds of slack, never less.
  this.timeout(60_000);
  const biome = repositoryBiome();
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('checks with the Biome version generated projects pin', function () {
    assert.equal(
      generatedVersions().biome,
      biome.version,
      'templates/project/dependencies/package.json pins another @biomejs/biome than the one installed here: bump both together',
    );
  });

  for (const language of ['ts', 'js'] as const) {
    for (const [title, options] of VARIANTS) {
      it(`${language === 'ts' ? 'TypeScript' : 'JavaScript'}: ${title}`, async function () {
        const dir = keptDir();
        dirs.push(dir);
        const { name = 'fmt', ...answers } = options;
        const p = await generate({ runtime: 'registry', language, ...answers }, String(name), dir);
        const scripts = p.json('package.json').scripts as Record<string, string>;
        const bin = language === 'ts' ? 'biome' : `npx --yes @biomejs/biome@${biome.version}`;
        assert.equal(scripts.lint, `${bin} check --error-on-warnings .`);
        assert.equal(scripts.format, `${bin} format --write .`);
        // --error-on-warnings: an unused import or variable is a warning in Biome's recommended rules.
        const result = spawnSync(biome.bin, ['check', '--error-on-warnings', '--max-diagnostics=20', '.'], {
          cwd: p.dir,
          encoding: 'utf8',
        });
        const output = `${result.stdout}${result.stderr}`;
        assert.equal(result.status, 0, `biome check failed in ${p.dir}:\n${output.slice(-8000)}`);
        // Every file was checked, none ignored: main and its test, the three unit scripts (with systemd), and the JSON
        // files (package.json, biome.json, .yo-rc.json, the two tsconfig.json of a TypeScript project).
        const expected = 2 + (p.exists('scripts') ? 3 : 0) + (language === 'ts' ? 5 : 3);
        assert.match(output, new RegExp(`Checked ${expected} files`), output);
      });
    }
  }
});
