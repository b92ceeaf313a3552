// What both generators need around a run that is not about the answers: where
// yo, run as root, leaves us, and whether the project directory can be written.
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

import type Generator from 'yeoman-generator';

import type { Answers } from './answers.js';
import { unitFiles } from './context.js';

/**
 * yo run as root switches to another user (root-check: SUDO_UID, or uid 1000)
 * but keeps HOME=/root, which that user cannot read: Yeoman's global config
 * (~/.yo-rc-global.json, which this generator never uses) then fails with
 * EACCES before the generator starts. Without a readable home, an empty one in
 * the temporary directory stands in.
 */
export function globalStorage<T>(generator: Generator, normal: () => T): T {
  try {
    accessSync(homedir(), constants.R_OK | constants.X_OK);
    return normal();
  } catch {
    return generator.createStorage(path.join(tmpdir(), `.yo-rc-global-${process.getuid?.() ?? 'x'}.json`)) as unknown as T;
  }
}

/** True when yo has dropped root's privileges for this process (it does so whenever it is run as root). */
export function droppedRoot(): boolean {
  return (
    process.getuid?.() !== 0 &&
    (process.env.USER === 'root' || process.env.LOGNAME === 'root' || homedir() === '/root' || process.env.SUDO_UID !== undefined)
  );
}

/**
 * Refuses, in one line and before anything is made, a project directory this
 * process cannot create or write (the nearest existing ancestor is checked
 * when it does not exist yet).
 */
export function checkWritable(dir: string, command: string, name: string): void {
  let probe = dir;
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  try {
    accessSync(probe, constants.W_OK | constants.X_OK);
  } catch {
    const uid = process.getuid?.();
    if (droppedRoot()) {
      throw new Error(
        `${command}: yo does not run generators as root: it switched to uid ${uid}, which cannot write ${probe}. As root, run \`npm init sd-daemon ${name} -- --yes\` instead (the same generator, without yo), or run yo as an ordinary user.`,
      );
    }
    throw new Error(
      `${command}: cannot write ${probe} as uid ${uid}: run it in a directory you can write, or pass a name to make ./<name> where you can`,
    );
  }
}

/** The command that keeps local changes to the service out of the generated file. */
export function unitHint(answers: Answers): string {
  return `systemctl${answers.scope === 'user' ? ' --user' : ''} edit ${unitFiles(answers).serviceFile}`;
}
