// The versions generated projects get, kept in templates/project/dependencies/package.json: a package.json so the
// ecosystem's update tools (Renovate, Dependabot, npm-check-updates) bump them like any other dependency.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { TEMPLATES } from './render.js';

export const DEPENDENCIES_FILE = path.join(TEMPLATES, 'project', 'dependencies', 'package.json');

/** The ranges a generated project's package.json gets, by the package that uses each. */
export interface GeneratedVersions {
  /** dependencies["sd-daemon-runtime"], e.g. "^0.1.0" (the bundled tarball replaces it with --runtime bundled). */
  runtime: string;
  typescript: string;
  typesNode: string;
  /** The linter and formatter (one binary; exact, so every machine formats alike). */
  biome: string;
}

export function generatedVersions(file = DEPENDENCIES_FILE): GeneratedVersions {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the generated projects' versions from ${file} (${(error as Error).message}); restore it from git`);
  }
  const pick = (section: 'dependencies' | 'devDependencies', name: string): string => {
    const table = (json as Record<string, unknown> | null)?.[section];
    const value = typeof table === 'object' && table !== null ? (table as Record<string, unknown>)[name] : undefined;
    if (typeof value !== 'string' || value === '') {
      throw new Error(
        `${file} has no ${section}[${JSON.stringify(name)}]: add the version range generated projects get, e.g. "${name}": "^1.0.0"`,
      );
    }
    return value;
  };
  return {
    runtime: pick('dependencies', 'sd-daemon-runtime'),
    typescript: pick('devDependencies', 'typescript'),
    typesNode: pick('devDependencies', '@types/node'),
    biome: pick('devDependencies', '@biomejs/biome'),
  };
}
