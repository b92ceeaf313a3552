// The three published packages move in step: generator-sd-daemon (this
// directory), create-sd-daemon (create/) and sd-daemon-runtime (runtime/)
// carry one version; create-sd-daemon depends on the generator by ^<version>;
// the runtime range generated projects get (dependencies["sd-daemon-runtime"] in
// templates/project/dependencies/package.json) is ^<version>. `node scripts/versions.js` checks that (prepublishOnly runs it)
// and exits 1 naming each mismatch; `node scripts/versions.js 1.2.3` sets
// every one of them to 1.2.3 (then run `npm install` to refresh the lock).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = {
  generator: join(root, 'package.json'),
  create: join(root, 'create', 'package.json'),
  runtime: join(root, 'runtime', 'package.json'),
  templates: join(root, 'templates', 'project', 'dependencies', 'package.json'),
};
const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const write = (file, json) => writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);

const wanted = process.argv[2];
if (wanted !== undefined) {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(wanted)) {
    console.error(`versions: ${JSON.stringify(wanted)} is not a version; pass one such as 0.2.0`);
    process.exit(1);
  }
  for (const file of [files.generator, files.create, files.runtime]) write(file, { ...read(file), version: wanted });
  const create = read(files.create);
  create.dependencies['generator-sd-daemon'] = `^${wanted}`;
  write(files.create, create);
  const templates = read(files.templates);
  templates.dependencies['sd-daemon-runtime'] = `^${wanted}`;
  write(files.templates, templates);
  console.log(`versions: all set to ${wanted}; now run npm install to refresh package-lock.json`);
  process.exit(0);
}

const version = read(files.generator).version;
const problems = [];
const expect = (what, actual, expected) => {
  if (actual !== expected) problems.push(`${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
};
const create = read(files.create);
expect('create/package.json version', create.version, version);
expect("create/package.json's dependency on generator-sd-daemon", create.dependencies?.['generator-sd-daemon'], `^${version}`);
expect('runtime/package.json version', read(files.runtime).version, version);
expect(
  "templates/project/dependencies/package.json's sd-daemon-runtime",
  read(files.templates).dependencies?.['sd-daemon-runtime'],
  `^${version}`,
);
if (problems.length > 0) {
  console.error(
    `versions: the packages are not in step with generator-sd-daemon ${version}:\n  ${problems.join('\n  ')}\nfix: node scripts/versions.js ${version}`,
  );
  process.exit(1);
}
console.log(`versions: generator-sd-daemon, create-sd-daemon and sd-daemon-runtime are all ${version}`);
