// What the generators write, file by file. Units, init scripts and the install
// script are generated (rewritten on every run); src/, test/ and README are scaffolded
// once (left alone when present); package.json is merged, the user's values
// winning.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type Generator from 'yeoman-generator';

import type { Answers } from './answers.js';
import { initScriptContext, projectContext, unitContext } from './context.js';
import { render, TEMPLATES } from './render.js';

/** The package root (templates/ and vendor/ live there). */
const PACKAGE_ROOT = path.resolve(TEMPLATES, '..');

/** The versions generated projects get, kept in one file so a bump updates what we emit. */
export function generatedVersions(): Record<string, string> {
  return JSON.parse(readFileSync(path.join(TEMPLATES, 'versions.json'), 'utf8')) as Record<string, string>;
}

/** The runtime tarball bundled with this generator (`npm run build` packs it into vendor/). */
export function bundledRuntime(): { file: string; version: string } {
  const vendor = path.join(PACKAGE_ROOT, 'vendor');
  const tarball = existsSync(vendor) ? readdirSync(vendor).find((f) => /^sd-daemon-runtime-.+\.tgz$/.test(f)) : undefined;
  if (!tarball) throw new Error(`the bundled sd-daemon-runtime is missing from ${vendor}; run \`npm run build\` in generator-sd-daemon, or pass --runtime registry`);
  return { file: path.join(vendor, tarball), version: tarball.slice('sd-daemon-runtime-'.length, -'.tgz'.length) };
}

/** Where ExecStart= finds the project: its install path (system scope) or where it stands (user scope). */
function projectDirOf(generator: Generator, answers: Answers): string {
  return answers.scope === 'system' ? answers.installPath : generator.destinationRoot();
}

/** The service manager files, for each init system chosen: systemd units, the LSB init script, the OpenRC runscript. */
export function writeUnits(generator: Generator, answers: Answers): string[] {
  const projectDir = projectDirOf(generator, answers);
  const written: string[] = [];
  if (answers.initSystems.includes('systemd')) {
    const context = unitContext(answers, projectDir);
    written.push(`systemd/${context.serviceFile}`);
    render(generator, 'systemd/service', `systemd/${context.serviceFile}`, context);
    if (context.hasSockets) {
      written.push(`systemd/${context.socketFile}`);
      render(generator, 'systemd/socket', `systemd/${context.socketFile}`, context);
    }
  }
  const scripts = initScriptContext(answers, projectDir);
  for (const [system, dir] of [['sysv', 'init.d'], ['openrc', 'openrc']] as const) {
    if (!answers.initSystems.includes(system)) continue;
    written.push(`${dir}/${answers.name}`);
    render(generator, `project/${dir}/service`, `${dir}/${answers.name}`, scripts, { mode: 0o755 });
  }
  return written;
}

export function writeProject(generator: Generator, answers: Answers): void {
  const versions = generatedVersions();
  let runtimeSpec = `^${versions['sd-daemon-runtime']}`;
  if (answers.runtime === 'bundled') {
    const bundled = bundledRuntime();
    const dest = `vendor/sd-daemon-runtime-${bundled.version}.tgz`;
    generator.fs.copy(bundled.file, generator.destinationPath(dest));
    runtimeSpec = `file:${dest}`;
  }
  const context = projectContext(answers, runtimeSpec);
  const ext = answers.language;
  render(generator, `project/src/main.${ext}`, `src/main.${ext}`, context, { once: true });
  render(generator, `project/test/main.test.${ext}`, `test/main.test.${ext}`, context, { once: true });
  render(generator, 'project/README.md', 'README.md', context, { once: true });
  render(generator, 'project/.gitignore', '.gitignore', context, { once: true });
  if (answers.language === 'ts') {
    render(generator, 'project/tsconfig.json', 'tsconfig.json', context, { once: true });
    render(generator, 'project/test/tsconfig.json', 'test/tsconfig.json', context, { once: true });
  }
  if (context.systemd) render(generator, 'project/scripts/install-units.mjs', 'scripts/install-units.mjs', context);
  writeUnits(generator, answers);

  const ts = answers.language === 'ts';
  const ours = {
    name: answers.name,
    version: '0.1.0',
    description: answers.description,
    private: true,
    type: 'module',
    main: context.entry,
    engines: { node: '>=20.19.0' },
    scripts: {
      ...(ts ? { build: 'tsc -p tsconfig.json' } : {}),
      start: `node ${context.entry}`,
      // The shell expands the glob: node --test takes files on every Node version.
      test: ts ? 'npm run build && tsc -p test && node --test dist/test/*.test.js' : 'node --test test/*.test.js',
      ...(context.systemd ? { 'install-units': 'node scripts/install-units.mjs' } : {}),
    },
    dependencies: { 'sd-daemon-runtime': runtimeSpec },
    devDependencies: ts ? { typescript: versions.typescript!, '@types/node': versions['@types/node']! } : {},
  };
  const file = generator.destinationPath('package.json');
  const existing = generator.fs.exists(file) ? (JSON.parse(generator.fs.read(file)!) as Record<string, unknown>) : {};
  generator.fs.writeJSON(file, mergeUserFirst(existing, ours));
}

/** Fills in what the user's package.json lacks; every value already there stays. */
export function mergeUserFirst(user: Record<string, unknown>, ours: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...user };
  for (const [key, value] of Object.entries(ours)) {
    const theirs = out[key];
    if (theirs === undefined) out[key] = value;
    else if (isPlainObject(theirs) && isPlainObject(value)) out[key] = mergeUserFirst(theirs, value);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
