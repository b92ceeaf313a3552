// Bundles the compiled entry points (dist/index.js, dist/testing.js) so that
// importing the runtime reads one file instead of a dozen: with ES modules
// every file costs a resolve, a read and a compile, several milliseconds in
// all, which is most of what `import 'sd-daemon-runtime'` would add to a
// daemon's start-up. Code both entries use goes into shared chunks, so the
// two keep one copy of each module's state (the watchdog, the notify hook).
// tsc still writes the .d.ts files and the per-module .js beside them.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'dist');

// Chunks are named by content hash: drop the previous build's, or they pile up in the package.
for (const file of readdirSync(dist)) if (/^chunk-.*\.js$/.test(file)) rmSync(join(dist, file));

await build({
  entryPoints: [join(dist, 'index.js'), join(dist, 'testing.js')],
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Chunks sit beside the entries: native.ts finds the package root as the
  // parent of its own file's directory.
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});
