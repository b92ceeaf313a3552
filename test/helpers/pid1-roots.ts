// Debian OS trees for other systemd versions, built once by debootstrap and
// kept between test runs on the same machine (about 2-5 min each to build):
// <cache>/<suite> is a tree only once <cache>/<suite>.complete exists, written
// after debootstrap succeeded; anything else there is a leftover and rebuilt.
// A lock (flock(1)) keeps two runs from building the same suite at once.
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { run } from './pid1-container.js';

export const ROOT_CACHE = process.env.SD_DAEMON_TEST_ROOTS ?? '/var/cache/sd-daemon-test-roots';

/** What each tree needs: a booting systemd, a bus for systemctl, curl to knock on sockets, ps. */
const INCLUDE = 'systemd,systemd-sysv,dbus,curl,procps';

/** The Debian mirror apt uses here (deb822 .sources or sources.list), else deb.debian.org. */
export function debianMirror(): string {
  if (process.env.SD_DAEMON_TEST_MIRROR) return process.env.SD_DAEMON_TEST_MIRROR;
  const texts: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  try {
    for (const name of readdirSync(dir))
      if (name.endsWith('.sources') || name.endsWith('.list')) texts.push(readFileSync(path.join(dir, name), 'utf8'));
  } catch {
    // no such directory
  }
  try {
    texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  } catch {
    // no such file
  }
  for (const text of texts) {
    // The main archive, not the security one (which has no installer suites).
    const deb822 = /^URIs:\s*(\S+)/gm;
    for (const match of text.matchAll(deb822)) if (!match[1]!.includes('security')) return match[1]!;
    for (const match of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm)) if (!match[1]!.includes('security')) return match[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/** The tree of `suite` (bullseye, trixie, ...), built now when missing or incomplete. */
export async function debianRoot(suite: string): Promise<{ dir: string; builtSeconds: number | null }> {
  const dir = path.join(ROOT_CACHE, suite);
  const marker = `${dir}.complete`;
  if (existsSync(marker) && existsSync(path.join(dir, 'usr', 'lib', 'systemd', 'systemd'))) return { dir, builtSeconds: null };
  mkdirSync(ROOT_CACHE, { recursive: true });
  const mirror = debianMirror();
  const started = process.hrtime.bigint();
  // Under the lock, check again (another run may just have finished it), then
  // build into .partial and move it into place: a tree is never half there.
  const script = `set -e
[ -f "$1.complete" ] && [ -x "$1/usr/lib/systemd/systemd" ] && exit 0
rm -rf "$1" "$1.partial" "$1.complete"
debootstrap --variant=minbase --include=${INCLUDE} "$2" "$1.partial" "$3" > "$1.debootstrap.log" 2>&1 || { tail -n 30 "$1.debootstrap.log" >&2; [ -f "$1.partial/debootstrap/debootstrap.log" ] && tail -n 30 "$1.partial/debootstrap/debootstrap.log" >&2; exit 1; }
mv "$1.partial" "$1"
echo "debootstrap --variant=minbase --include=${INCLUDE} $2 $3" > "$1.complete"
`;
  const result = await run('flock', ['-w', '1800', `${dir}.lock`, 'sh', '-c', script, 'sh', dir, suite, mirror], { timeoutMs: 2400_000 });
  if (result.code !== 0) {
    throw new Error(
      `debootstrap of Debian ${suite} from ${mirror} into ${dir} failed (exit ${result.code ?? result.signal}); ` +
        `check the network and the mirror (SD_DAEMON_TEST_MIRROR overrides it):\n${result.stdout}${result.stderr}`,
    );
  }
  return { dir, builtSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
