// sd_booted(3): whether this system was booted with systemd as its init.
// systemd creates /run/systemd/system/ early at boot, and only when it runs
// as PID 1; a container or chroot without systemd, or a host running another
// init, has no such directory (a user manager alone never creates it).

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { statSync } = process.getBuiltinModule('node:fs');

/** Where systemd as PID 1 leaves its mark, as sd_booted() checks it. */
export const BOOTED_MARKER = '/run/systemd/system/';

/**
 * True when /run/systemd/system/ is a directory, as sd_booted() decides.
 * Never throws: a missing path, a file in its place, or a path that cannot
 * be examined (EACCES, ELOOP) all mean false. libsystemd returns those as
 * negative errors, which its callers' `sd_booted() > 0` reads as false too.
 */
export function booted(): boolean {
  try {
    // The trailing slash resolves a symlink and demands a directory, as in
    // libsystemd's laccess("/run/systemd/system/"), where a file there is
    // ENOTDIR (an error it returns, and false here).
    return statSync(BOOTED_MARKER, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}
