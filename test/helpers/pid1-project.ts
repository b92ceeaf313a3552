// Generated system-scope projects, built on the host (npm install, the runtime
// from the tarball the generator bundles; npm run build) and then bound into
// a container at the install path their units name (--install-path, default
// /opt/<name>), where their own scripts/install-units.mjs installs them.
import { chmodSync, mkdtempSync } from 'node:fs';
import path from 'node:path';

import { generate, leaveRunDir, runIn, type Generated } from './generator.js';

export interface ProjectSpec {
  name: string;
  /** Generator options besides --yes, as yeoman-test takes them (camelCase). */
  options: Record<string, unknown>;
}

export interface BuiltProject extends Generated {
  name: string;
  /** Where the units expect it, and where the container sees it. */
  installPath: string;
}

/** Generates `spec` under `parent` (made readable for DynamicUser=), installs its dependencies offline and builds it. */
export async function buildProject(spec: ProjectSpec, parent: string): Promise<BuiltProject> {
  const installPath = `/opt/${spec.name}`;
  // A directory per project: yeoman-test empties the directory it runs in.
  const dir = mkdtempSync(path.join(parent, `${spec.name}-`));
  const p = await generate({ runtime: 'bundled', scope: 'system', installPath, ...spec.options }, spec.name, dir);
  leaveRunDir();
  // The runtime comes from the tarball the generator bundles; typescript and
  // @types/node through the test run's npm cache (runIn).
  runIn(p.dir, 'npm', ['install']);
  runIn(p.dir, 'npm', ['run', 'build']);
  // Services run as a transient user: everything must be world-readable.
  chmodSync(parent, 0o755);
  chmodSync(dir, 0o755);
  runIn(p.dir, 'chmod', ['-R', 'a+rX', p.dir]);
  return { ...p, name: spec.name, installPath: path.posix.normalize(installPath) };
}
