// Small statistics and the alternating runner every case uses.

/** The median of a list of numbers (mean of the two middle ones for an even count). */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** { median, min, max } of a list, the shape results.json uses for every range. */
export function summarize(values) {
  if (!values || values.length === 0) return null;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * The ratios ours_i / anchor_i of runs made side by side in the same round,
 * summarized. Pairing, rather than dividing two medians, cancels the slow
 * drifts of a shared machine: both members of a pair saw the same load.
 */
export function pairedRatio(ours, anchor) {
  if (!ours || !anchor || ours.length !== anchor.length || ours.length === 0) return null;
  return summarize(ours.map((value, i) => value / anchor[i]));
}

/** A measured run that did not do its job (lost data, bad exit): the case fails, it is not fast. */
export class BenchFailure extends Error {}

/**
 * Runs every variant once per round, `warmup` rounds discarded, then `runs`
 * counted rounds. The order within a round alternates (A B, B A, ...) so
 * neither variant always runs right after the other. Each variant's `run()`
 * returns one sample (a number) or throws BenchFailure.
 *
 * Returns { samples: { [name]: number[] }, failures: { [name]: message } };
 * a variant that failed once is not run again, and its samples are dropped.
 */
export async function alternate({ variants, warmup, runs, onRound }) {
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  const failures = {};
  for (let round = 0; round < warmup + runs; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      if (failures[variant.name]) continue;
      try {
        const value = await variant.run({ round, warmup: round < warmup });
        if (round >= warmup) samples[variant.name].push(value);
      } catch (error) {
        failures[variant.name] = error instanceof BenchFailure ? error.message : `${error.stack ?? error}`;
        samples[variant.name] = [];
      }
    }
    onRound?.(round);
  }
  return { samples, failures };
}

/** Formats a number with a sensible number of significant digits for the table. */
export function fmt(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return Number(value.toPrecision(digits)).toString();
}

/** "median (min-max)" for a range object. */
export function fmtRange(range, digits = 3) {
  if (!range) return '-';
  return `${fmt(range.median, digits)} (${fmt(range.min, digits)}-${fmt(range.max, digits)})`;
}
