// Can the service reach its project from inside its sandbox? A unit whose
// WorkingDirectory= or ExecStart= lies where its own sandboxing hides it
// fails before node starts (status=200/CHDIR or 203/EXEC), with nothing in
// the unit saying why. Checked when the answers are known, before anything
// is written: a path the sandbox hides is refused, a permission that is only
// wrong on this machine (the units may be installed on another) is a warning.
import { statSync } from 'node:fs';
import path from 'node:path';

import type { Answers } from './answers.js';
import { unitContext } from './context.js';

export interface Reach {
  /** The unit cannot start as generated: each entry says why and what to change. */
  refuse: string[];
  /** It may not start here: each entry says why and what to check. */
  warn: string[];
}

const under = (dir: string, root: string): boolean => dir === root || dir.startsWith(`${root}/`);

/** The existing directories from / down to `dir` (those that do not exist yet are left out). */
function existingComponents(dir: string): Array<{ dir: string; mode: number }> {
  const out: Array<{ dir: string; mode: number }> = [];
  let current = '/';
  for (const part of dir.split('/').filter(Boolean)) {
    current = path.join(current, part);
    try {
      out.push({ dir: current, mode: statSync(current).mode });
    } catch {
      break;
    }
  }
  return out;
}

/**
 * `projectDir` is where the unit runs the project from (the install path for
 * system scope, the project directory for user scope).
 */
export function sandboxReach(answers: Answers, projectDir: string): Reach {
  const reach: Reach = { refuse: [], warn: [] };
  if (!answers.initSystems.includes('systemd')) return reach;
  const unit = unitContext(answers, projectDir);
  const setting = (key: string): string | undefined => unit.hardening.find((d) => d.key === key)?.value;
  const dirOption = answers.scope === 'system' ? `--install-path ${projectDir}` : `the project directory ${projectDir}`;

  if (setting('PrivateTmp') === 'yes') {
    const tmpOf = (where: string): string | undefined => ['/tmp', '/var/tmp'].find((root) => under(where, root));
    const why = (tmp: string): string =>
      `the unit has PrivateTmp=yes (hardening ${answers.hardening}): the service gets an empty ${tmp} of its own and fails with status=200/CHDIR.`;
    const projectTmp = tmpOf(projectDir);
    if (projectTmp && answers.scope === 'system') {
      reach.refuse.push(
        `${dirOption} is under ${projectTmp}, but ${why(projectTmp)} Fix: pass --install-path outside /tmp and /var/tmp (the default is /opt/<name>), or --hardening none.`,
      );
    } else if (projectTmp) {
      // A user unit runs the project where install-units finds it (its drop-in re-points it): that script refuses a project still under /tmp.
      reach.warn.push(
        `${dirOption} is under ${projectTmp}, but ${why(projectTmp)} Fix: move the project outside /tmp and /var/tmp (e.g. under your home directory) before \`npm run install-units\` (which refuses to install it from there), or regenerate with --hardening none.`,
      );
    }
    const nodeTmp = tmpOf(answers.nodePath);
    if (nodeTmp)
      reach.refuse.push(
        `--node ${answers.nodePath} is under ${nodeTmp}, but ${why(nodeTmp)} Fix: pass --node with a node outside /tmp and /var/tmp.`,
      );
  }
  if (setting('ProtectHome') === 'yes') {
    for (const [what, where] of [[dirOption, projectDir]] as const) {
      const home = ['/home', '/root', '/run/user'].find((root) => under(where, root));
      if (home) {
        reach.refuse.push(
          `${what} is under ${home}, but the unit has ProtectHome=yes (hardening ${answers.hardening}, ${answers.scope} scope), which hides /home, /root and /run/user: the service fails with status=200/CHDIR. ` +
            'Fix: pass --install-path outside them (the default is /opt/<name>), or --hardening baseline (ProtectHome=read-only).',
        );
      }
    }
    const nodeHome = ['/home', '/root', '/run/user'].find((root) => under(answers.nodePath, root));
    if (nodeHome) {
      // A warning only: the units may be installed on a machine whose node is elsewhere (--node says where).
      reach.warn.push(
        `--node ${answers.nodePath} is under ${nodeHome}, which ProtectHome=yes hides: ExecStart= would fail with status=203/EXEC. Fix: pass --node with a system-wide node (e.g. /usr/bin/node), or --hardening baseline.`,
      );
    }
  }
  if (answers.scope === 'system' && answers.runAs !== 'root') {
    // DynamicUser= and a named user are neither root nor the owner: they get in through the "other" bits.
    const who = answers.runAs === 'dynamic' ? 'the transient user of DynamicUser=yes' : `the user ${answers.runAs}`;
    for (const { dir, mode } of existingComponents(projectDir)) {
      const need = dir === projectDir ? 0o005 : 0o001;
      if ((mode & need) !== need) {
        reach.warn.push(
          `${dir} is mode ${(mode & 0o777).toString(8)} here: ${who} cannot ${dir === projectDir ? 'read' : 'pass through'} it, so the service would fail with status=200/CHDIR. ` +
            `Where the units are installed, every directory down to ${projectDir} must be world-executable (chmod o+x) and the project world-readable (chmod -R o+rX ${projectDir}).`,
        );
        break;
      }
    }
  }
  return reach;
}
