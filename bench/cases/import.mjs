// import: what loading the runtime adds to a process's start-up, measured
// as whole processes (spawn to exit): `node -e "import('<runtime>')"` against
// `node -e 0`. The addon must not load until something needs it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { countAll, counted, instructionEntry, NODE_FLAGS } from '../lib/callgrind.mjs';
import { BENCH, NODE, RUNTIME, timedRun } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate } from '../lib/stats.mjs';

const nodeE = (code) => () => timedRun(NODE, ['-e', code]).ms;
const importOf = (file) => `import(${JSON.stringify(pathToFileURL(file).href)})`;

export default function importCases({ quick }) {
  return [
    {
      id: 'import',
      title: 'import cost, whole process',
      async run() {
        const modules = path.join(BENCH, 'node_modules');
        const variants = [
          // The package's main entry, as `import 'sd-daemon-runtime'` resolves it.
          { name: 'ours', run: nodeE(importOf(RUNTIME)) },
          { name: 'node', run: nodeE('0') },
          // sd-notify is CommonJS: required, as its users do.
          { name: 'sd-notify', run: nodeE(`require(${JSON.stringify(path.join(modules, 'sd-notify'))})`) },
        ];
        const extras = [{ name: 'npm sd-notify (require)', variant: 'sd-notify' }];
        // The floor for any ES module: the first import() starts Node's ESM loader.
        variants.push({ name: 'empty-esm', run: nodeE(importOf(path.join(BENCH, 'cases', 'empty.mjs'))) });
        extras.push({ name: 'import() of an empty ES module (floor)', variant: 'empty-esm' });
        const sdDaemon = path.join(modules, 'sd-daemon', 'index.js');
        if (existsSync(sdDaemon)) {
          variants.push({ name: 'sd-daemon', run: nodeE(importOf(sdDaemon)) });
          extras.push({ name: 'npm sd-daemon (import)', variant: 'sd-daemon' });
        }
        const { samples, failures } = await alternate({ variants, warmup: quick ? 2 : 3, runs: quick ? 10 : 20 });
        // Instructions: the floor is what any ES package pays, Node's ESM
        // loader reading one module; ours is judged against that (<= 1.02).
        const countE = (code) => () => counted(NODE, [...NODE_FLAGS, '-e', code]);
        const counts = await countAll({
          variants: [
            { name: 'ours', count: countE(importOf(RUNTIME)) },
            { name: 'empty-esm', count: countE(importOf(path.join(BENCH, 'cases', 'empty.mjs'))) },
            { name: 'node', count: countE('0') },
          ],
          rounds: quick ? 1 : 2,
        });
        const instructions = instructionEntry({
          ...counts,
          ours: 'ours',
          anchor: 'empty-esm',
          anchorName: 'import() of an empty ES module (floor)',
          target: 1.02,
          extras: [{ name: 'node -e 0', variant: 'node' }],
          how: `valgrind --tool=callgrind node ${NODE_FLAGS.join(' ')} -e "import('<module>')", whole process`,
        });
        return buildEntry({
          id: 'import',
          title: 'import cost, whole process',
          unit: 'ms',
          samples,
          failures,
          ours: 'ours',
          anchor: 'node',
          anchorName: 'node -e 0',
          extras,
          target: 1.08,
          instructions,
        });
      },
    },
  ];
}
