// One rule for tests that need something a machine may lack (root, unshare,
// systemd's binaries, a kernel feature): skip loudly where it is missing, but
// fail under CI=true, where a skipped proof would pass for a real one.
export function requireOrSkip(context: Mocha.Context, ok: boolean, why: string): void {
  if (ok) return;
  if (process.env.CI === 'true') throw new Error(`CI=true and a prerequisite is missing: ${why}`);
  console.warn(`\n  !!! SKIPPING: ${why}\n`);
  context.skip();
}
