#!/usr/bin/env node
// `npm init sd-daemon [name] -- [options]` runs this: the same generator as
// `yo sd-daemon`, through yeoman-environment, so no global yo is needed (and
// root may run it: yo refuses root). The command line is parsed here, with
// the generator's own table, strictly: an unknown option is refused before
// anything runs, --help prints the generator's help, and flags never take the
// next word as their value.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createEnv } from 'yeoman-environment';

const COMMAND = 'npm init sd-daemon';
const require = createRequire(import.meta.url);
const generatorRoot = path.dirname(require.resolve('generator-sd-daemon/package.json'));
const { parseCommandLine, camel, UsageError } = await import(pathToFileURL(path.join(generatorRoot, 'generators', 'lib', 'cli.js')).href);

let line;
try {
  line = parseCommandLine(process.argv.slice(2), COMMAND);
  if (line.args.length > 1 && !line.options.help) {
    throw new UsageError(`${COMMAND}: one name expected, got ${line.args.map((w) => JSON.stringify(w)).join(' and ')}`);
  }
} catch (error) {
  console.error(error.message);
  process.exit(2);
}

// Both spellings: the generator reads --skip-install as 'skip-install', the environment as skipInstall.
const options = {};
for (const [flag, value] of Object.entries(line.options)) options[flag] = options[camel(flag)] = value;
// The name goes in as an option, not a word: Yeoman's argument parser would read 010 as the number 10.
if (line.args[0] !== undefined) options.name = line.args[0];

const env = createEnv();
env.register(path.join(generatorRoot, 'generators', 'app', 'index.js'), { namespace: 'sd-daemon' });
try {
  await env.run(['sd-daemon'], options);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
