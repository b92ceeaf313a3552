// Test deadlines are written for a native Node, whose bare start stays well
// under REFERENCE_MS even on a loaded 2-core machine. Where Node itself runs
// slower (an arm64 Node under qemu-user, a small board), every deadline
// stretches by how many times longer a bare `node -e 0` start takes than
// that: the behaviour is still bounded, only the clock is the machine's.
// Measured once per mocha run, on first use; never below 1.
import { spawnSync } from 'node:child_process';

const REFERENCE_MS = 250;
let factor: number | undefined;

export function timeScale(): number {
  if (factor === undefined) {
    // The fastest of three, so one start delayed by load does not stretch every deadline.
    let fastest = Infinity;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const result = spawnSync(process.execPath, ['-e', '0']);
      if (result.status !== 0)
        throw new Error(`time-scale: \`${process.execPath} -e 0\` failed (${result.status ?? result.signal}): ${result.stderr}`);
      fastest = Math.min(fastest, performance.now() - started);
    }
    factor = Math.max(1, fastest / REFERENCE_MS);
    if (factor > 1)
      console.log(
        `      (test deadlines x${factor.toFixed(2)}: a bare Node start takes ${fastest.toFixed(0)} ms here, against ${REFERENCE_MS} ms)`,
      );
  }
  return factor;
}

/** A deadline of `ms` on a native machine, stretched for this one. */
export function scaled(ms: number): number {
  return Math.round(ms * timeScale());
}
