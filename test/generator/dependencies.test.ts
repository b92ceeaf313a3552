// The versions generated projects get live in templates/project/dependencies/package.json, a package.json that
// Renovate, Dependabot and npm-check-updates read; the generator reads it by name and says which entry is missing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { generatedVersions } from '../../src/lib/dependencies.js';
import { TEMPLATES } from '../../src/lib/render.js';
import { generate } from '../helpers/generator.js';

describe('the versions generated projects get', function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sd-deps-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('are read from the shipped package.json, and written into a generated package.json', async function () {
    const versions = generatedVersions();
    for (const value of Object.values(versions)) assert.match(value, /^[~^]?\d+\.\d+\.\d+/);
    const ts = await generate({ runtime: 'registry' });
    const written = JSON.parse(ts.read('package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    assert.equal(written.dependencies['sd-daemon-runtime'], versions.runtime);
    assert.deepEqual(written.devDependencies, {
      typescript: versions.typescript,
      '@types/node': versions.typesNode,
      '@biomejs/biome': versions.biome,
    });
    const js = await generate({ runtime: 'registry', language: 'js' });
    const jsPackage = JSON.parse(js.read('package.json')) as { devDependencies: Record<string, string>; scripts: Record<string, string> };
    assert.deepEqual(jsPackage.devDependencies, {}, 'a JavaScript project keeps no devDependencies (it installs offline)');
    assert.equal(jsPackage.scripts.lint, `npx --yes @biomejs/biome@${versions.biome} check --error-on-warnings .`);
    // The one lint setup: the file this repository's biome.json extends.
    assert.equal(js.read('biome.json'), readFileSync(path.join(TEMPLATES, 'project', 'biome.json'), 'utf8'));
  });

  it('name the missing entry, and the file, when one is absent', function () {
    const file = path.join(dir, 'package.json');
    writeFileSync(file, JSON.stringify({ dependencies: { 'sd-daemon-runtime': '^1.0.0' }, devDependencies: { '@types/node': '^20.0.0' } }));
    assert.throws(
      () => generatedVersions(file),
      (error: Error) => {
        assert.equal(
          error.message,
          `${file} has no devDependencies["typescript"]: add the version range generated projects get, e.g. "typescript": "^1.0.0"`,
        );
        return true;
      },
    );
    assert.throws(
      () => generatedVersions(path.join(dir, 'absent.json')),
      /cannot read the generated projects' versions from .*absent\.json \(ENOENT.*restore it from git/,
    );
  });
});
