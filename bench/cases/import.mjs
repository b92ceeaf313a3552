// import: what loading the runtime adds to a process's start-up, measured
// as whole processes (spawn to exit): `node -e "import('<runtime>')"` against
// `node -e 0`. The addon must not load until something needs it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { counted, NODE_FLAGS } from '../lib/callgrind.mjs';
import { BENCH, NODE, RUNTIME, timedRun } from '../lib/proc.mjs';
import { startupEntry } from '../lib/startup.mjs';

const nodeE = (code) => () => timedRun(NODE, ['-e', code]).ms;
const countE = (code) => () => counted(NODE, [...NODE_FLAGS, '-e', code]);
/** A variant timed and counted: `node -e <code>`. */
const both = (name, code) => ({ name, run: nodeE(code), count: countE(code) });
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
          both('ours', importOf(RUNTIME)),
          both('node', '0'),
          // sd-notify is CommonJS: required, as its users do.
          { name: 'sd-notify', run: nodeE(`require(${JSON.stringify(path.join(modules, 'sd-notify'))})`) },
        ];
        const extras = [{ name: 'npm sd-notify (require)', variant: 'sd-notify' }];
        // The floor for any ES module: the first import() starts Node's ESM loader.
        // Instructions are judged against it (<= 1.02): what any ES package pays.
        variants.push(both('empty-esm', importOf(path.join(BENCH, 'cases', 'empty.mjs'))));
        extras.push({ name: 'import() of an empty ES module (floor)', variant: 'empty-esm' });
        const sdDaemon = path.join(modules, 'sd-daemon', 'index.js');
        if (existsSync(sdDaemon)) {
          variants.push({ name: 'sd-daemon', run: nodeE(importOf(sdDaemon)) });
          extras.push({ name: 'npm sd-daemon (import)', variant: 'sd-daemon' });
        }
        return startupEntry({
          quick,
          variants,
          ours: 'ours',
          anchor: 'node',
          anchorName: 'node -e 0',
          extras,
          target: 1.08,
          countedAgainst: {
            anchor: 'empty-esm',
            anchorName: 'import() of an empty ES module (floor)',
            target: 1.02,
            extras: [{ name: 'node -e 0', variant: 'node' }],
          },
          how: `valgrind --tool=callgrind node ${NODE_FLAGS.join(' ')} -e "import('<module>')", whole process`,
        });
      },
    },
  ];
}
