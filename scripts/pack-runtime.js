// Packs runtime/ into vendor/sd-daemon-runtime-<version>.tgz: the copy of the
// runtime that generated projects install (offline, no registry needed).
// Older tarballs are removed so exactly one is bundled.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vendor = join(root, 'vendor');
mkdirSync(vendor, { recursive: true });
for (const file of readdirSync(vendor)) {
  if (/^sd-daemon-runtime-.*\.tgz$/.test(file)) rmSync(join(vendor, file));
}
const out = execFileSync('npm', ['pack', '--json', '--pack-destination', vendor], { cwd: join(root, 'runtime'), encoding: 'utf8' });
const [packed] = JSON.parse(out);
console.log(`pack-runtime: vendor/${packed.filename} (${packed.entryCount} files, ${packed.size} bytes)`);
