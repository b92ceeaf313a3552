// The packages the way users get them: published to a real private registry
// (verdaccio, proxying the public one for everything else) and installed by
// an unprivileged user with an empty npm cache and no checkout, through both
// entry points: `npm init sd-daemon` and `yo sd-daemon` (yo and the generator
// installed globally into the user's own prefix). The generated project
// installs, builds and passes its own tests, with its runtime from the
// registry. Run by `npm run test:registry` (.ci/registry.sh), not by
// `npm test`: it publishes, and it fetches from the public registry.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { npmEnv } from '../helpers/npm.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { REPO } from '../helpers/generator.js';

/** Newest verdaccio whose engines accept Node 20 (6.9 and later need Node 22). */
const VERDACCIO = '6.8.0';
const VERDACCIO_DIR = path.join(REPO, '.tmp', 'verdaccio');
const USER = 'sd-registry-test';
const PACKAGES = ['generator-sd-daemon', 'create-sd-daemon', 'sd-daemon-runtime'];
const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const timings: Array<[string, number]> = [];

/** Runs `command` and records its wall time under `label`; fails with the end of its output. */
function timed(label: string, command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): string {
  const start = performance.now();
  const result = spawnSync(command, args, { ...options, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
  const ms = performance.now() - start;
  timings.push([label, ms]);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(
    result.status,
    0,
    `${label} (${command} ${args.join(' ')}) failed in ${options.cwd} after ${Math.round(ms)} ms:\n${output.slice(-6000)}`,
  );
  return output;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForRegistry(url: string, registry: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (registry.exitCode !== null) throw new Error(`verdaccio exited with ${registry.exitCode}:\n${log()}`);
    try {
      if ((await fetch(`${url}/-/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`verdaccio did not answer ${url}/-/ping within 60 s:\n${log()}`);
}

/** The `resolved` URL of sd-daemon-runtime in a project's package-lock.json. */
function resolvedRuntime(project: string): string {
  const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; version?: string }>;
  };
  const entry = lock.packages['node_modules/sd-daemon-runtime'];
  assert.ok(entry, `sd-daemon-runtime in ${project}/package-lock.json`);
  return entry.resolved ?? '';
}

describe('published to a private registry and installed as a user would', function () {
  this.timeout(1_800_000);
  let scratch: string;
  let home: string;
  let url: string;
  let registry: ChildProcess | undefined;
  let registryLog = '';
  let userEnv: NodeJS.ProcessEnv;

  /** `command args` as the unprivileged user, in `cwd` (under its home), timed. */
  const asUser = (label: string, cwd: string, command: string, args: string[]): string => {
    try {
      return timed(
        label,
        'runuser',
        ['-u', USER, '--', 'env', '-i', ...Object.entries(userEnv).map(([k, v]) => `${k}=${v}`), command, ...args],
        { cwd, env: process.env },
      );
    } catch (error) {
      // What the registry saw (uplink errors, refused requests) is half the story.
      if (error instanceof Error) error.message += `\n--- verdaccio's log (end) ---\n${registryLog.slice(-4000)}`;
      throw error;
    }
  };

  before(async function () {
    requireOrSkip(
      this,
      process.getuid?.() === 0,
      'the registry test must run as root (it adds an unprivileged user and runs the installs as that user)',
    );
    const tools = ['useradd', 'runuser'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
    requireOrSkip(this, tools.length === 0, `${tools.join(', ')} missing (Debian: passwd, util-linux)`);

    // verdaccio, installed once into .tmp/ with a cache of its own (not a repository dependency).
    const installed = path.join(VERDACCIO_DIR, 'node_modules', 'verdaccio', 'package.json');
    if (!existsSync(installed) || (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version !== VERDACCIO) {
      mkdirSync(VERDACCIO_DIR, { recursive: true });
      writeFileSync(path.join(VERDACCIO_DIR, 'package.json'), JSON.stringify({ name: 'verdaccio-for-tests', private: true }));
      timed('install verdaccio', 'npm', ['install', '--no-save', '--no-package-lock', `verdaccio@${VERDACCIO}`], {
        cwd: VERDACCIO_DIR,
        env: npmEnv(path.join(VERDACCIO_DIR, 'cache')),
      });
    }

    scratch = mkdtempSync(path.join(tmpdir(), 'sd-registry-'));
    chmodSync(scratch, 0o755);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const ours = PACKAGES.map((name) => `  '${name}':\n    access: $all\n    publish: $authenticated\n`).join('');
    // Our three names are never proxied: what the user gets is what was published here.
    writeFileSync(
      path.join(scratch, 'config.yaml'),
      `storage: ${path.join(scratch, 'storage')}
auth:
  htpasswd:
    file: ${path.join(scratch, 'htpasswd')}
    max_users: 1
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 120s
packages:
${ours}  '**':
    access: $all
    proxy: npmjs
listen: 127.0.0.1:${port}
log: { type: stdout, format: pretty, level: http }
`,
    );
    registry = spawn(
      process.execPath,
      [path.join(VERDACCIO_DIR, 'node_modules', 'verdaccio', 'bin', 'verdaccio'), '--config', path.join(scratch, 'config.yaml')],
      {
        cwd: scratch,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    registry.stdout!.on('data', (chunk: Buffer) => (registryLog += chunk.toString()));
    registry.stderr!.on('data', (chunk: Buffer) => (registryLog += chunk.toString()));
    await waitForRegistry(url, registry, () => registryLog);

    // The unprivileged user, with a home of its own inside the scratch dir: no
    // checkout, no npm cache, no npmrc but its private global prefix.
    if (spawnSync('id', ['-u', USER]).status !== 0) {
      const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/bin/sh', USER], { encoding: 'utf8' });
      assert.equal(add.status, 0, `useradd ${USER}: ${add.stderr}`);
    }
    home = path.join(scratch, 'home');
    mkdirSync(home);
    mkdirSync(path.join(home, 'work'));
    mkdirSync(path.join(home, 'work-yo'));
    const own = spawnSync('chown', ['-R', USER, home], { encoding: 'utf8' });
    assert.equal(own.status, 0, own.stderr);
    userEnv = {
      HOME: home,
      USER,
      LOGNAME: USER,
      PATH: `${path.join(home, 'prefix', 'bin')}:/usr/local/bin:/usr/bin:/bin`,
      npm_config_registry: `${url}/`,
      npm_config_cache: path.join(home, '.npm'),
      npm_config_prefix: path.join(home, 'prefix'),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      NO_UPDATE_NOTIFIER: '1',
      ...(process.env.CI ? { CI: process.env.CI } : {}),
    };
  });

  after(async function () {
    for (const [label, ms] of timings) console.log(`      ${label}: ${(ms / 1000).toFixed(1)} s`);
    if (registry && registry.exitCode === null) {
      registry.kill('SIGTERM');
      await new Promise((resolve) => registry!.once('exit', resolve));
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    if (spawnSync('id', ['-u', USER]).status === 0) spawnSync('userdel', [USER]);
  });

  it('publishes all three packages with npm publish --workspaces --include-workspace-root', async function () {
    // A real user account on the registry, made the way `npm adduser` does (PUT /-/user/...).
    const response = await fetch(`${url}/-/user/org.couchdb.user:publisher`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'publisher', password: 'publisher-password', type: 'user', roles: [], date: new Date().toISOString() }),
    });
    const body = (await response.json()) as { token?: string };
    assert.equal(response.status, 201, JSON.stringify(body));
    assert.ok(body.token, 'the registry returned a token');
    const npmrc = path.join(scratch, 'publisher.npmrc');
    writeFileSync(npmrc, `//127.0.0.1:${new URL(url).port}/:_authToken=${body.token}\n`);
    const output = timed(
      'npm publish --workspaces --include-workspace-root (prepack builds the generator)',
      'npm',
      ['publish', '--workspaces', '--include-workspace-root', '--registry', `${url}/`],
      {
        cwd: REPO,
        env: { ...npmEnv(path.join(scratch, 'publisher-cache')), npm_config_userconfig: npmrc },
      },
    );
    for (const name of PACKAGES) {
      const packument = (await (await fetch(`${url}/${name}`)).json()) as { 'dist-tags'?: Record<string, string> };
      assert.equal(packument['dist-tags']?.latest, version, `${name}@${version} is on the registry:\n${output.slice(-3000)}`);
    }
    const dev = await fetch(`${url}/sd-daemon-dev-setup`);
    assert.equal(dev.status, 404, 'the private dev/ workspace is not published');
  });

  it('npm init sd-daemon demo -- --yes, then npm install, npm run build and npm test, as a user with an empty cache', function () {
    const work = path.join(home, 'work');
    asUser('npm init sd-daemon demo -- --yes (empty cache)', work, 'npm', ['init', 'sd-daemon', 'demo', '--', '--yes']);
    const project = path.join(work, 'demo');
    const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies['sd-daemon-runtime'], `^${version}`, 'the runtime is taken from the registry by default');
    assert.equal(existsSync(path.join(project, 'vendor')), false, 'nothing is vendored by default');
    asUser('npm install (demo)', project, 'npm', ['install']);
    assert.ok(resolvedRuntime(project).startsWith(`${url}/sd-daemon-runtime/-/sd-daemon-runtime-${version}.tgz`), resolvedRuntime(project));
    asUser('npm run build (demo)', project, 'npm', ['run', 'build']);
    const test = asUser('npm test (demo)', project, 'npm', ['test']);
    assert.match(test, /^(?:#|ℹ) pass [1-9]/m);
    assert.match(test, /^(?:#|ℹ) fail 0$/m);
  });

  it('npm install -g yo generator-sd-daemon into a private prefix, then yo sd-daemon demo2 --yes, as the same user', function () {
    asUser('npm install -g yo generator-sd-daemon (private prefix)', home, 'npm', ['install', '-g', 'yo', 'generator-sd-daemon']);
    const installed = path.join(home, 'prefix', 'lib', 'node_modules', 'generator-sd-daemon');
    assert.equal(existsSync(path.join(installed, 'src')), false, 'the published generator has no sources');
    assert.ok(existsSync(path.join(installed, 'generators', 'app', 'index.js')));
    const work = path.join(home, 'work-yo');
    asUser('yo sd-daemon demo2 --yes', work, 'yo', ['sd-daemon', 'demo2', '--yes']);
    const project = path.join(work, 'demo2');
    asUser('npm install (demo2)', project, 'npm', ['install']);
    assert.ok(resolvedRuntime(project).startsWith(`${url}/`), resolvedRuntime(project));
    const test = asUser('npm test (demo2)', project, 'npm', ['test']);
    assert.match(test, /^(?:#|ℹ) pass [1-9]/m);
    assert.match(test, /^(?:#|ℹ) fail 0$/m);
  });
});
