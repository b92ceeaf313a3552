// Every npm install a test runs goes through here. The test run has one npm
// cache of its own (.tmp/npm-cache in the repository), filled by the first
// install that needs a package and reused after that with --prefer-offline:
// no test depends on what happens to be in the user's cache, and a fresh
// machine with an empty cache gets the same results as this one (the first
// run fetches typescript and @types/node once). A test that proves something
// installs *offline* passes an empty cache of its own instead (emptyCache()).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The test run's own npm cache. */
export const TEST_CACHE = path.join(REPO, '.tmp', 'npm-cache');

/**
 * The environment for npm in a test: the test cache (or `cache`), preferring
 * what is cached over the registry, no audit, no fund, no update check.
 */
export function npmEnv(cache = TEST_CACHE): NodeJS.ProcessEnv {
  mkdirSync(cache, { recursive: true });
  return {
    ...process.env,
    npm_config_cache: cache,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** A new, empty npm cache under .tmp/ (for tests that prove an offline install). */
export function emptyCache(): string {
  mkdirSync(path.join(REPO, '.tmp'), { recursive: true });
  return mkdtempSync(path.join(REPO, '.tmp', 'empty-cache-'));
}

/**
 * `npm <args>` in `cwd` with npmEnv(), failing the test with the end of its
 * output; returns the output.
 */
export function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv = npmEnv()): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `npm ${args.join(' ')} failed in ${cwd}:\n${output.slice(-4000)}`);
  return output;
}
