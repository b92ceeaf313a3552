#!/usr/bin/env node
// `npm init sd-daemon [name] -- [options]` runs this: the same generator as
// `yo sd-daemon`, through yeoman-environment, so no global yo is needed.
import { createRequire } from 'node:module';
import path from 'node:path';

import { createEnv } from 'yeoman-environment';

const require = createRequire(import.meta.url);
const generatorRoot = path.dirname(require.resolve('generator-sd-daemon/package.json'));

const env = createEnv();
env.register(path.join(generatorRoot, 'generators', 'app', 'index.js'), { namespace: 'sd-daemon:app' });
try {
  await env.run(['sd-daemon:app', ...process.argv.slice(2)]);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
