// Exit status names as systemd knows them, so a daemon can exit with a code
// that `systemctl status` explains ("status=78/CONFIG") and tests can read one
// back ("226/NAMESPACE" means the sandbox failed before node ever ran).
//
// The table follows systemd's src/shared/exit-status.{h,c} (read at
// systemd/systemd commit 00f37365f9f8) and prints the way `systemd-analyze
// exit-status` does. That snapshot numbers LANDLOCK_CONFIG 246, but it comes
// from a pull request still open (#39174); on main, 246 is MEMORY_THP (PR
// #39085, merged for v260), so that is the one listed here. daemon(7) recommends
// the LSB codes for a daemon's own failures; the BSD sysexits(3) codes are
// also recognised by systemd, and 200 and up belong to the service manager.

/** systemd's class names, as its exit_status_class() and `systemd-analyze exit-status` print them. */
export type ExitCodeClass = 'libc' | 'LSB' | 'BSD' | 'systemd';

// [name, code] for the codes systemd did not invent.
const LIBC = [
  ['SUCCESS', 0],
  ['FAILURE', 1],
] as const;

// LSB "start" verb codes (LSB Core, iniscrptact). Not the "status" verb's, which differ.
const LSB = [
  ['INVALIDARGUMENT', 2],
  ['NOTIMPLEMENTED', 3],
  ['NOPERMISSION', 4],
  ['NOTINSTALLED', 5],
  ['NOTCONFIGURED', 6],
  ['NOTRUNNING', 7],
] as const;

// BSD sysexits.h (EX_*), also in glibc.
const BSD = [
  ['USAGE', 64],
  ['DATAERR', 65],
  ['NOINPUT', 66],
  ['NOUSER', 67],
  ['NOHOST', 68],
  ['UNAVAILABLE', 69],
  ['SOFTWARE', 70],
  ['OSERR', 71],
  ['OSFILE', 72],
  ['CANTCREAT', 73],
  ['IOERR', 74],
  ['TEMPFAIL', 75],
  ['PROTOCOL', 76],
  ['NOPERM', 77],
  ['CONFIG', 78],
] as const;

// [name, code, the systemd version that introduced the code]. Versions up to
// 241 as recorded by lukeshu's sd_daemon (Go); later ones from systemd's NEWS
// and the pull requests that added them. Codes systemd never reuses:
// 223 (TCPWRAP, v8-v211) and 234 (MAKE_STARTER, v214-v234).
const SYSTEMD = [
  ['CHDIR', 200, 8],
  ['NICE', 201, 8],
  ['FDS', 202, 8],
  ['EXEC', 203, 8],
  ['MEMORY', 204, 8],
  ['LIMITS', 205, 8],
  ['OOM_ADJUST', 206, 8],
  ['SIGNAL_MASK', 207, 8],
  ['STDIN', 208, 8],
  ['STDOUT', 209, 8],
  ['CHROOT', 210, 8],
  ['IOPRIO', 211, 8],
  ['TIMERSLACK', 212, 8],
  ['SECUREBITS', 213, 8],
  ['SETSCHEDULER', 214, 8],
  ['CPUAFFINITY', 215, 8],
  ['GROUP', 216, 8],
  ['USER', 217, 8],
  ['CAPABILITIES', 218, 8],
  ['CGROUP', 219, 8],
  ['SETSID', 220, 8],
  ['CONFIRM', 221, 8],
  ['STDERR', 222, 8],
  ['PAM', 224, 8],
  ['NETWORK', 225, 33],
  ['NAMESPACE', 226, 38],
  ['NO_NEW_PRIVILEGES', 227, 187],
  ['SECCOMP', 228, 187],
  ['SELINUX_CONTEXT', 229, 209],
  ['PERSONALITY', 230, 209],
  // The C constant is EXIT_APPARMOR_PROFILE; systemd prints and parses "APPARMOR".
  ['APPARMOR', 231, 210],
  ['ADDRESS_FAMILIES', 232, 211],
  ['RUNTIME_DIRECTORY', 233, 211],
  ['CHOWN', 235, 214],
  // 236 was BUS_ENDPOINT in v217-v229; SMACK_PROCESS_LABEL moved here from 237.
  ['SMACK_PROCESS_LABEL', 236, 230],
  ['KEYRING', 237, 233],
  ['STATE_DIRECTORY', 238, 235],
  ['CACHE_DIRECTORY', 239, 235],
  ['LOGS_DIRECTORY', 240, 235],
  ['CONFIGURATION_DIRECTORY', 241, 235],
  ['NUMA_POLICY', 242, 243], // NUMAPolicy=
  ['CREDENTIALS', 243, 247], // LoadCredential=, SetCredential=
  // man systemd.exec lists BPF as 245; the source (and systemd 252's own table) say 244.
  ['BPF', 244, 250], // RestrictFileSystems=
  ['KSM', 245, 254], // MemoryKSM=
  ['MEMORY_THP', 246, 260], // MemoryTHP=
  // Propagates an abnormal or signal exit as one status, as bash does. Added
  // between July and November 2019, so in v243 or v244; which one is not
  // established, hence no version.
  ['EXCEPTION', 255],
] as const;

// [name, code, first version, last version] for names older systemd releases
// printed and current ones do not: `systemctl status` on such a release (or a
// log line kept from one) shows them. Current systemd leaves 223 and 234
// unnamed (_EXIT_RESERVED, "don't reuse") and gives 236 and 237 new names.
// The first version of 237/SMACK_PROCESS_LABEL is not established, hence none.
const RETIRED = [
  ['TCPWRAP', 223, 8, 211],
  ['MAKE_STARTER', 234, 214, 234], // kdbus
  ['BUS_ENDPOINT', 236, 217, 229], // kdbus
  ['SMACK_PROCESS_LABEL', 237, undefined, 229], // moved to 236 in v230
] as const;

type Entry = (typeof LIBC)[number] | (typeof LSB)[number] | (typeof BSD)[number] | (typeof SYSTEMD)[number];
export type ExitCodeName = Entry[0];

/**
 * Every named exit status: `ExitCode.CONFIG` is 78, `ExitCode.NAMESPACE` 226.
 * `ExitCode.OK` (0) is sysexits.h's EX_OK, an alias of SUCCESS that systemd
 * never prints.
 */
export const ExitCode = Object.freeze({
  ...Object.fromEntries([...LIBC, ...LSB, ...BSD, ...SYSTEMD].map(([name, code]) => [name, code])),
  OK: 0,
}) as { readonly [E in Entry as E[0]]: E[1] } & { readonly OK: 0 };

export interface ExitCodeInfo {
  code: number;
  name: ExitCodeName;
  class: ExitCodeClass;
  /** For systemd's own codes: the systemd version that introduced the code, where established. */
  since?: number;
}

/** A name that older systemd releases printed for `code`, and current ones do not. */
export interface RetiredExitCodeInfo {
  code: number;
  name: (typeof RETIRED)[number][0];
  class: 'systemd';
  /** The first systemd version that printed it, where established. */
  since?: number;
  /** The last systemd version that printed it. */
  until: number;
}

function entries(list: readonly (readonly [ExitCodeName, number, number?])[], cls: ExitCodeClass): ExitCodeInfo[] {
  return list.map(([name, code, since]) =>
    Object.freeze(since === undefined ? { code, name, class: cls } : { code, name, class: cls, since }),
  );
}

/** The whole table, in code order. */
export const EXIT_CODES: readonly ExitCodeInfo[] = Object.freeze(
  [...entries(LIBC, 'libc'), ...entries(LSB, 'LSB'), ...entries(BSD, 'BSD'), ...entries(SYSTEMD, 'systemd')].sort(
    (a, b) => a.code - b.code,
  ),
);

/** The retired names, in code order: what `systemctl status` printed on older releases. */
export const RETIRED_EXIT_CODES: readonly RetiredExitCodeInfo[] = Object.freeze(
  RETIRED.map(([name, code, since, until]) =>
    Object.freeze(
      since === undefined ? { code, name, class: 'systemd' as const, until } : { code, name, class: 'systemd' as const, since, until },
    ),
  ),
);

// Indexed by code, as systemd's exit_status_mappings[256] is.
const BY_CODE: (ExitCodeInfo | undefined)[] = new Array(256).fill(undefined);
for (const info of EXIT_CODES) BY_CODE[info.code] = info;
const BY_NAME = new Map<string, ExitCodeInfo>(EXIT_CODES.map((info) => [info.name, info]));

/** Everything known about `code`, or undefined for an unnamed or impossible status. */
export function exitCodeInfo(code: number): ExitCodeInfo | undefined {
  return Number.isInteger(code) ? BY_CODE[code] : undefined;
}

/** The name systemd prints after the slash ("NAMESPACE" for 226), or undefined. */
export function exitCodeName(code: number): ExitCodeName | undefined {
  return exitCodeInfo(code)?.name;
}

/** Which table the code belongs to ('libc' for 0 and 1), or undefined when unnamed. */
export function exitCodeClass(code: number): ExitCodeClass | undefined {
  return exitCodeInfo(code)?.class;
}

/**
 * The status as systemctl shows it: "226/NAMESPACE", or just "42" when the
 * code has no name. Throws RangeError for anything that is not an exit
 * status (an integer 0-255).
 */
export function describeExitCode(code: number): string {
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new RangeError(`describeExitCode: an exit status is an integer from 0 to 255, got ${code}`);
  }
  const name = BY_CODE[code]?.name;
  return name === undefined ? String(code) : `${code}/${name}`;
}

/**
 * Reads an exit status the way SuccessExitStatus= does: a name ("CONFIG")
 * or a number from 0 to 255. Undefined for anything else.
 */
export function parseExitCode(text: string): number | undefined {
  const known = BY_NAME.get(text);
  if (known) return known.code;
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const code = Number(text);
  return code <= 255 ? code : undefined;
}

/**
 * The code behind any name a user may meet: the current names (as
 * parseExitCode), the BSD ones with sysexits.h's EX_ prefix ("EX_CONFIG"),
 * EX_OK and OK for 0, and the retired names older systemd printed
 * ("MAKE_STARTER" is 234). Undefined for anything else. Not for validating
 * unit files: SuccessExitStatus= accepts only what parseExitCode does.
 */
export function exitCodeByName(name: string): number | undefined {
  if (name === 'OK' || name === 'EX_OK') return 0;
  const current = BY_NAME.get(name);
  if (current) return current.code;
  if (name.startsWith('EX_')) {
    const bsd = BY_NAME.get(name.slice(3));
    return bsd?.class === 'BSD' ? bsd.code : undefined;
  }
  return RETIRED_EXIT_CODES.find((info) => info.name === name)?.code;
}
