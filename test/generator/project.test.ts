// A generated project is a working project: it installs (the runtime is the
// tarball bundled with the generator, TypeScript comes from the registry
// through the test run's cache: test/helpers/npm.ts), builds, and passes its own tests, which run the daemon's lifecycle under
// the runtime's fake service manager; its `npm run lint` passes.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';

import { generate, keptDir, runIn } from '../helpers/generator.js';

describe('a generated project installs, builds and passes its own tests', function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const variants: Array<[string, Record<string, unknown>, RegExp]> = [
    ['the default project (TypeScript, notify, tcp socket, watchdog, system scope)', {}, /^(?:#|ℹ) pass [1-9]/m],
    [
      'TypeScript, Type=forking with the init.d and OpenRC scripts (main has --daemonize)',
      { type: 'forking', init: 'systemd,sysv,openrc' },
      /^(?:#|ℹ) pass [1-9]/m,
    ],
    [
      'JavaScript, user scope, tcp + unix + udp sockets, fd store',
      { language: 'js', scope: 'user', sockets: 'tcp:127.0.0.1:8080,unix:/run/gp/http.sock,udp:127.0.0.1:9001', fdStore: '4' },
      /^(?:#|ℹ) pass [1-9]/m,
    ],
  ];
  for (const [title, options, passed] of variants) {
    it(title, async function () {
      const dir = keptDir();
      dirs.push(dir);
      const p = await generate({ runtime: 'bundled', ...options }, 'gp', dir);
      runIn(p.dir, 'npm', ['install']);
      const output = runIn(p.dir, 'npm', ['test']);
      assert.match(output, passed);
      // node --test's summary: TAP lines ("# pass 6") when not on a terminal up to Node 22, spec lines ("ℹ pass 6") from 23 on.
      assert.match(output, /^(?:#|ℹ) fail 0$/m);
      // Its own lint (Biome with the biome.json it was given) passes on what was generated; runIn fails on a non-zero exit.
      assert.match(runIn(p.dir, 'npm', ['run', 'lint']), /Checked [1-9]\d* files?/);
    });
  }
});
