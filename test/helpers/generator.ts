// Runs the generators the way yo does (yeoman-test, real files in a temp dir)
// and reads what they wrote, unit files parsed into their settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import helpers from 'yeoman-test';

import { npmEnv } from './npm.js';
import { HeadlessAdapter } from './yeoman-adapter.js';

// Every run (generate() here, helpers.run() in the test files) answers through
// HeadlessAdapter: yeoman-test's default adapter throws on Node 24 (adapter.ts).
helpers.createTestAdapter = (options) => new HeadlessAdapter(options) as unknown as ReturnType<typeof helpers.createTestAdapter>;

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APP = path.join(REPO, 'generators', 'app', 'index.js');
export const UNIT = path.join(REPO, 'generators', 'unit', 'index.js');

/**
 * A directory for running the real `yo` as root: yo drops root for an
 * unprivileged user, who needs a home and a working directory it can write
 * (<dir>/home, <dir>/work), and finds this generator in work/node_modules.
 * Returns <dir>; the caller removes it.
 */
export function yoWorkspace(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  mkdirSync(path.join(dir, 'home'));
  mkdirSync(path.join(dir, 'work', 'node_modules'), { recursive: true });
  for (const d of [dir, path.join(dir, 'home'), path.join(dir, 'work')]) chmodSync(d, 0o777);
  symlinkSync(REPO, path.join(dir, 'work', 'node_modules', 'generator-sd-daemon'));
  return dir;
}

/** A unit file: section -> [key, value] pairs in order, comments dropped. */
export type UnitFile = Map<string, Array<[string, string]>>;

export function parseUnit(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Array<[string, string]> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`not a unit file line: ${JSON.stringify(line)}`);
    current.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return sections;
}

/** Every value of `key` in `section`. */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The one value of `key` in `section`, or undefined; throws when set twice. */
export function value(unit: UnitFile, section: string, key: string): string | undefined {
  const all = values(unit, section, key);
  if (all.length > 1) throw new Error(`${key}= is set ${all.length} times in [${section}]`);
  return all[0];
}

export interface Generated {
  /** The project directory. */
  dir: string;
  /** The directory yo ran in. */
  cwd: string;
  read(file: string): string;
  exists(file: string): boolean;
  unit(file: string): UnitFile;
  json(file: string): Record<string, any>;
}

export function project(dir: string, cwd = path.dirname(dir)): Generated {
  return {
    dir,
    cwd,
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    exists: (file) => existsSync(path.join(dir, file)),
    unit: (file) => parseUnit(readFileSync(path.join(dir, file), 'utf8')),
    json: (file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, any>,
  };
}

/**
 * `yo sd-daemon <name> --yes ...options` in a fresh temp dir: yeoman-test's
 * own (removed by its next run), or `dir` when given (kept, for re-runs).
 */
export async function generate(options: Record<string, unknown> = {}, name = 'my-daemon', dir?: string): Promise<Generated> {
  const context = helpers.run(APP);
  if (dir) context.inDir(dir);
  try {
    const result = await context.withArguments(name === '' ? [] : [name]).withOptions(cli({ yes: true, skipInstall: true, ...options }));
    return project(path.join(result.cwd, name), result.cwd);
  } finally {
    leaveRunDir();
  }
}

/**
 * A JavaScript project with every init script (systemd, LSB, OpenRC) serving on 127.0.0.1:`port`, installed where it
 * is generated (`dir`/`name`): what the init-script tests run under start-stop-daemon and openrc-run. System scope
 * under /tmp, where a unit's PrivateTmp= would hide it (the generator refuses that): so no sandbox for the unit.
 */
export function generateInitScriptProject(dir: string, name: string, port: number, description: string): Promise<Generated> {
  const options = {
    runtime: 'bundled',
    init: 'systemd,sysv,openrc',
    hardening: 'none',
    language: 'js',
    sockets: `tcp:127.0.0.1:${port}`,
    installPath: path.join(dir, name),
    description,
  };
  return generate(options, name, dir);
}

/**
 * yeoman-test leaves the process in the run's directory, which its next run
 * deletes; later children would then start in a directory that is gone.
 */
export function leaveRunDir(): void {
  process.chdir(REPO);
}

/** Our options as yeoman-test takes them: its type knows only Yeoman's built-in ones. */
export function cli(options: Record<string, unknown>): Parameters<ReturnType<typeof helpers.run>['withOptions']>[0] {
  return options as Parameters<ReturnType<typeof helpers.run>['withOptions']>[0];
}

/** A temp dir of our own, which yeoman-test does not clean up between runs. */
export function keptDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'sd-gen-'));
}

/** Runs a command in `cwd` (npm with the test run's own cache: test/helpers/npm.ts), failing the test with the end of its output; returns the output. */
export function runIn(cwd: string, command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: npmEnv() });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed in ${cwd}:\n${output.slice(-4000)}`);
  return output;
}
