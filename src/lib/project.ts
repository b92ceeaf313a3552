// What the generators write, file by file. Units, init scripts and the install
// script are generated (rewritten on every run); src/, test/ and README are scaffolded
// once (left alone when present); package.json is merged, the user's values
// winning.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type Generator from 'yeoman-generator';

import { storedAnswers, type Answers } from './answers.js';
import { initScriptContext, projectContext, unitContext } from './context.js';
import { generatedVersions } from './dependencies.js';
import { render, TEMPLATES } from './render.js';

/** The package root (templates/ and vendor/ live there). */
const PACKAGE_ROOT = path.resolve(TEMPLATES, '..');

/** The runtime tarball bundled with this generator (`npm run build` packs it into vendor/). */
export function bundledRuntime(): { file: string; version: string } {
  const vendor = path.join(PACKAGE_ROOT, 'vendor');
  const tarball = existsSync(vendor) ? readdirSync(vendor).find((f) => /^sd-daemon-runtime-.+\.tgz$/.test(f)) : undefined;
  if (!tarball)
    throw new Error(
      `the bundled sd-daemon-runtime is missing from ${vendor}; run \`npm run build\` in generator-sd-daemon, or pass --runtime registry`,
    );
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
  for (const [system, dir] of [
    ['sysv', 'init.d'],
    ['openrc', 'openrc'],
  ] as const) {
    if (!answers.initSystems.includes(system)) continue;
    written.push(`${dir}/${answers.name}`);
    render(generator, `project/${dir}/service`, `${dir}/${answers.name}`, scripts, { mode: 0o755 });
  }
  return written;
}

/** What one run put into the in-memory file system, by kind; paths relative to the project. */
export interface Written {
  /** Regenerated on every run: a local edit would be lost, so it is a conflict. */
  generated: string[];
  /** Ours, never edited by hand (the bundled runtime) or merged with the user's values winning (package.json): overwritten freely. */
  replaced: string[];
}

export function writeProject(generator: Generator, answers: Answers): Written {
  const versions = generatedVersions();
  let runtimeSpec = versions.runtime;
  const written: Written = { generated: [], replaced: [] };
  if (answers.runtime === 'bundled') {
    const bundled = bundledRuntime();
    const dest = `vendor/sd-daemon-runtime-${bundled.version}.tgz`;
    generator.fs.copy(bundled.file, generator.destinationPath(dest));
    written.replaced.push(dest);
    runtimeSpec = `file:${dest}`;
  }
  const context = projectContext(answers);
  // One template each, in TypeScript; a JavaScript project gets it with the types stripped.
  const ext = answers.language;
  const javascript = answers.language === 'js';
  render(generator, 'project/src/main.ts', `src/main.${ext}`, context, { once: true, javascript });
  render(generator, 'project/test/main.test.ts', `test/main.test.${ext}`, context, { once: true, javascript });
  render(generator, 'project/README.md', 'README.md', context, { once: true });
  render(generator, 'project/.gitignore', '.gitignore', context, { once: true });
  // The linter and formatter's settings (the same file this repository's biome.json extends), scaffolded once.
  if (!generator.fs.exists(generator.destinationPath('biome.json'))) {
    generator.fs.copy(path.join(TEMPLATES, 'project', 'biome.json'), generator.destinationPath('biome.json'));
  }
  if (answers.language === 'ts') {
    render(generator, 'project/tsconfig.json', 'tsconfig.json', context, { once: true });
    render(generator, 'project/test/tsconfig.json', 'test/tsconfig.json', context, { once: true });
  }
  if (context.systemd) {
    for (const script of ['install-units', 'uninstall-units', 'unit-record']) {
      render(generator, `project/scripts/${script}.mjs`, `scripts/${script}.mjs`, context);
      written.generated.push(`scripts/${script}.mjs`);
    }
  }
  written.generated.push(...writeUnits(generator, answers));

  const ts = answers.language === 'ts';
  // A JavaScript project keeps no devDependencies, so with --runtime bundled it installs offline: npx fetches Biome.
  const biome = ts ? 'biome' : `npx --yes @biomejs/biome@${versions.biome}`;
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
      ...(context.systemd
        ? { 'install-units': 'node scripts/install-units.mjs', 'uninstall-units': 'node scripts/uninstall-units.mjs' }
        : {}),
      // check: the linter and the formatter, warnings (an unused import) included (`format` applies the layout).
      lint: `${biome} check --error-on-warnings .`,
      format: `${biome} format --write .`,
    },
    dependencies: { 'sd-daemon-runtime': runtimeSpec },
    devDependencies: ts ? { typescript: versions.typescript, '@types/node': versions.typesNode, '@biomejs/biome': versions.biome } : {},
  };
  const file = generator.destinationPath('package.json');
  const existing = generator.fs.exists(file) ? (JSON.parse(generator.fs.read(file)!) as Record<string, unknown>) : {};
  generator.fs.writeJSON(file, mergeUserFirst(existing, ours));
  written.replaced.push('package.json');
  return written;
}

/** Our namespace in .yo-rc.json: the answers, and the hash of every generated file as last written. */
const NAMESPACE = 'generator-sd-daemon';

function readYoRc(dir: string): Record<string, unknown> {
  const file = path.join(dir, '.yo-rc.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
}

/** The answers stored in `dir`/.yo-rc.json ({} when there are none), read from disk before anything is written. */
export function storedIn(dir: string): Record<string, unknown> {
  const ours = readYoRc(dir)[NAMESPACE];
  return typeof ours === 'object' && ours !== null ? (ours as Record<string, unknown>) : {};
}

const sha256 = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

/** A run that would overwrite local edits: refused before anything is written. */
export class ConflictError extends Error {
  constructor(
    readonly files: string[],
    command: string,
    unitHint: string,
    /** Of `files`, those with no recorded hash (written by hand, or before this generator recorded what it wrote). */
    unrecorded: string[] = [],
  ) {
    const edited = files.filter((f) => !unrecorded.includes(f));
    const parts = [
      ...(edited.length > 0 ? [`edited since generated: ${edited.join(', ')}`] : []),
      ...(unrecorded.length > 0 ? [`not known to be as generated (no record in .yo-rc.json): ${unrecorded.join(', ')}`] : []),
    ];
    super(
      `${command}: refusing to overwrite ${files.length === 1 ? 'a file' : `${files.length} files`} ${parts.join('; ')}. Nothing was written. ` +
        `Keep local changes to a unit in a drop-in (\`${unitHint}\`) and re-run with --force to regenerate, or move your edits elsewhere first.`,
    );
    this.name = 'ConflictError';
  }
}

/**
 * Decides, before Yeoman's conflicter runs (which would ask, and without a
 * terminal stop half-way), what happens to each file that would change on
 * disk: a generated file that still has the content this generator last wrote
 * (its hash in .yo-rc.json) is replaced; one edited since (or never recorded)
 * is a conflict, and any conflict refuses the whole run unless `force`.
 * Returns the hashes to record once the files are written.
 */
export function settleConflicts(
  generator: Generator,
  written: Written,
  { force, command, unitHint }: { force: boolean; command: string; unitHint: string },
): Record<string, string> {
  const recorded = (storedIn(generator.destinationRoot()).generatedFiles ?? {}) as Record<string, string>;
  const store = (generator.env as unknown as { sharedFs: { get(file: string): { contents: Buffer | null; conflicter?: string } } })
    .sharedFs;
  const hashes: Record<string, string> = {};
  const conflicts: string[] = [];
  const replace: string[] = [];
  for (const [kind, files] of [
    ['generated', written.generated],
    ['replaced', written.replaced],
  ] as const) {
    for (const file of files) {
      const full = generator.destinationPath(file);
      const next = store.get(full).contents ?? Buffer.alloc(0);
      if (kind === 'generated') hashes[file] = sha256(next);
      if (!existsSync(full)) continue;
      const onDisk = readFileSync(full);
      if (onDisk.equals(next)) continue;
      if (kind === 'replaced' || force || recorded[file] === sha256(onDisk)) replace.push(full);
      else conflicts.push(file);
    }
  }
  if (conflicts.length > 0)
    throw new ConflictError(
      conflicts,
      command,
      unitHint,
      conflicts.filter((f) => recorded[f] === undefined),
    );
  // Settled here: Yeoman's conflicter writes these without asking.
  for (const full of replace) store.get(full).conflicter = 'force';
  return hashes;
}

/**
 * Writes .yo-rc.json last, once every other file is on disk: the answers (a
 * flagless re-run reproduces them) and the hashes of the generated files.
 * Written here rather than through Yeoman's config, which commits it first
 * and marks it "force" whatever happens next. Returns what was done.
 */
export function writeYoRc(dir: string, answers: Answers, hashes: Record<string, string>): 'create' | 'identical' | 'update' {
  const file = path.join(dir, '.yo-rc.json');
  const all = readYoRc(dir);
  const previous = storedIn(dir);
  const generatedFiles = { ...((previous.generatedFiles ?? {}) as Record<string, string>), ...hashes };
  all[NAMESPACE] = { ...storedAnswers(answers), generatedFiles };
  const text = `${JSON.stringify(all, null, 2)}\n`;
  const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (before === text) return 'identical';
  writeFileSync(file, text);
  return before === null ? 'create' : 'update';
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
