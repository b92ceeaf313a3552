// The version of this machine's systemd, for tests that run generated units
// under it (the user manager of test/e2e, the reliability suite). The
// generator targets systemd 239 by default, where user units get no sandbox
// (user managers have PrivateUsers= only from 245); a test that proves the
// sandbox under the real manager generates for the manager it runs.
import { execFileSync } from 'node:child_process';

let version: string | undefined;

/** "252" for systemd 252 (what `systemctl --version` says first). */
export function hostSystemdVersion(): string {
  if (version === undefined) {
    const first = execFileSync('systemctl', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
    const match = /^systemd (\d+)/.exec(first);
    if (!match) throw new Error(`systemctl --version printed no "systemd N" line: ${JSON.stringify(first)}`);
    version = match[1]!;
  }
  return version;
}
