// Builds (or finds in the cache) the debootstrap trees the PID-1 tests boot,
// all at once: run before mocha so the downloads overlap instead of queueing
// behind each test file. `npx tsx test/pid1/build-roots.ts bullseye trixie`
import { ROOT_CACHE, debianMirror, debianRoot } from '../helpers/pid1-roots.js';

const suites = process.argv.slice(2);
if (suites.length === 0) {
  console.error('usage: tsx test/pid1/build-roots.ts SUITE... (e.g. bullseye trixie)');
  process.exit(2);
}
console.log(`pid1 roots: ${suites.join(', ')} under ${ROOT_CACHE}, from ${debianMirror()}`);
const results = await Promise.allSettled(suites.map(async (suite) => ({ suite, ...(await debianRoot(suite)) })));
let failed = false;
for (const result of results) {
  if (result.status === 'fulfilled') {
    const { suite, dir, builtSeconds } = result.value;
    console.log(`pid1 roots: ${suite}: ${dir} ${builtSeconds === null ? '(cached)' : `(built in ${builtSeconds.toFixed(0)} s)`}`);
  } else {
    failed = true;
    console.error(`pid1 roots: ${(result.reason as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
