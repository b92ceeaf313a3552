// Turns a case's samples into its results.json entry.
import { instructionEntry } from './callgrind.mjs';
import { pairedRatio, summarize } from './stats.mjs';

/**
 * `id` and `title` may be left out: the harness takes them from the case.
 * samples/failures: what alternate() returned. `ours` and `anchor` name the
 * two main variants (anchor may be null); `extras` lists secondary anchors:
 * { name, variant, target? }. For an extra, `ratio` is ours/extra (a target
 * against it, like ">= 0.9x process.stderr.write", applies to that) and
 * `vsAnchor` is extra/anchor (how it compares with the main anchor: "sd-notify
 * import costs 1.13x node -e 0"). An extra with `compare: false` is another
 * measurement of ours, shown as its own row with no ratio.
 *
 * `target` is the highest acceptable median ratio ours/anchor (null: none).
 * `met` is true when every target holds, false when one does not or any
 * measured variant failed (lost data is a failure, not a speed), null when
 * the case has no target.
 *
 * `counts`: what countAll() returned (null or absent: not counted), made into
 * the entry's `instructions` against the same ours, anchor, anchorName and
 * target as the wall times, unless `countedAgainst` ({ anchor, anchorName,
 * target, extras }) names others: every case counts its variants the same
 * way, so the block is built here once. Its extras default to the wall
 * extras that were counted. `how`: how the processes were counted, kept in
 * results.json. (`instructions`: an entry's block built by the caller.)
 */
export function buildEntry({
  id,
  title,
  unit,
  samples,
  failures,
  ours,
  anchor,
  anchorName,
  extras = [],
  target = null,
  notes = [],
  info = {},
  counts = null,
  countedAgainst = {},
  how,
  instructions = null,
}) {
  instructions ??=
    counts &&
    instructionEntry({
      ...counts,
      ours,
      anchor,
      anchorName,
      target,
      extras: extras.filter((x) => x.compare !== false && counts.counts[x.variant]).map(({ name, variant }) => ({ name, variant })),
      ...countedAgainst,
      how,
    });
  const failed = [];
  for (const name of [ours, anchor, ...extras.map((e) => e.variant)]) {
    if (name && failures[name]) failed.push(`${name}: ${failures[name]}`);
  }
  const oursSamples = samples[ours] ?? [];
  const anchorSamples = anchor ? (samples[anchor] ?? []) : null;
  const ratio = anchor ? pairedRatio(oursSamples, anchorSamples) : null;
  const extra = extras.map(({ name, variant, target: extraTarget = null, compare = true }) => {
    const values = samples[variant] ?? [];
    const row = {
      name,
      value: summarize(values),
      // compare: false is a second measurement of ours (scaffold's npm test), not an anchor.
      ratio: compare ? pairedRatio(oursSamples, values) : null,
      vsAnchor: compare && anchor ? pairedRatio(values, anchorSamples) : null,
      ...(compare ? {} : { ours: true }),
      target: extraTarget,
      met: null,
    };
    if (failures[variant]) row.failed = failures[variant];
    if (extraTarget !== null) row.met = !failures[variant] && !failures[ours] && row.ratio !== null && row.ratio.median <= extraTarget;
    return row;
  });

  let met = null;
  const targets = [target, ...extra.map((e) => e.target)].filter((t) => t !== null);
  if (targets.length > 0) {
    met = failed.length === 0 && (target === null || (ratio !== null && ratio.median <= target)) && extra.every((e) => e.met !== false);
  } else if (failed.length > 0) {
    met = false;
  }
  // With an instruction count, the target is judged on the instruction
  // ratio (it does not depend on the machine's load); the wall-time verdict
  // stays as `wallMet`, the check that both agree.
  let wallMet;
  if (instructions) {
    wallMet = met;
    if (instructions.failed) failed.push(...instructions.failed);
    met =
      instructions.met === null
        ? failed.length
          ? false
          : met
        : failed.length === 0 && instructions.met && extra.every((e) => e.met !== false);
  }
  return {
    id,
    title,
    unit,
    ours: summarize(oursSamples),
    anchor: anchor ? summarize(anchorSamples) : null,
    anchorName: anchorName ?? null,
    ratio,
    target,
    met,
    ...(instructions ? { wallMet, instructions } : {}),
    runs: oursSamples.length,
    extra,
    ...(failed.length ? { failed } : {}),
    ...(notes.length ? { notes } : {}),
    ...(Object.keys(info).length ? { info } : {}),
  };
}
