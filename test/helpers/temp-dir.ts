// A scratch directory for a test file or a describe block, the one way tests
// here make one: created when the suite is defined, removed after its tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new directory under the system temp dir (short, so socket paths fit sun_path's 107 bytes), removed by an `after` hook. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
