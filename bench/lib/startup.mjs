// The start-up cases (import, sockact, daemonize) measure the same way: their
// variants timed alternately, then counted under callgrind, then one entry.
// The rounds are set here once, for all of them (bench/README.md lists them).
import { countAll } from './callgrind.mjs';
import { buildEntry } from './result.mjs';
import { alternate } from './stats.mjs';

/**
 * `variants`: [{ name, run?, count? }]: `run` as alternate() takes it (one
 * wall time), `count` as countAll() takes it (one instruction count); a
 * variant may have either or both. Everything else is buildEntry()'s (unit
 * defaults to ms).
 */
export async function startupEntry({ quick, variants, ...entry }) {
  const { samples, failures } = await alternate({
    variants: variants.filter((v) => v.run).map(({ name, run }) => ({ name, run })),
    warmup: quick ? 2 : 3,
    runs: quick ? 10 : 20,
  });
  const counts = await countAll({
    variants: variants.filter((v) => v.count).map(({ name, count }) => ({ name, count })),
    rounds: quick ? 1 : 2,
  });
  return buildEntry({ unit: 'ms', samples, failures, counts, ...entry });
}
