// `yo sd-daemon [name]`: a TypeScript (or JavaScript) daemon project wired to
// sd-daemon-runtime, with hardened systemd units and its own tests.
//
// Nothing touches the disk until every answer is valid and every file the run
// would change is known to be safe to change: the answers are read and
// checked first (initializing, prompting), the project directory is made in
// configuring, files go to Yeoman's in-memory file system and are committed
// together, and .yo-rc.json is written last (end).
import path from 'node:path';

import Generator from 'yeoman-generator';

import { nodeUnderVersionManager, parseName, type Answers } from '../lib/answers.js';
import { UsageError } from '../lib/cli.js';
import { settleConflicts, storedIn, writeProject, writeYoRc } from '../lib/project.js';
import { sandboxReach } from '../lib/reach.js';
import { TEMPLATES } from '../lib/render.js';
import { answersFor, applyYoCommandLine, registerOptions } from '../lib/resolve.js';
import { checkWritable, globalStorage, unitHint } from '../lib/runner.js';

const COMMAND = 'yo sd-daemon';

export default class SdDaemonGenerator extends Generator {
  answers!: Answers;
  /** The project directory: ./<name>, or . when it is the project already. */
  target!: string;
  hashes: Record<string, string> = {};
  warnings: string[] = [];

  constructor(args: string[], options: Generator['options']) {
    super(args, options);
    this.argument('name', { type: String, required: false, description: 'Package and unit name (or --name)' });
    registerOptions(this);
    this.sourceRoot(TEMPLATES);
    const words = applyYoCommandLine(this, COMMAND, ['sd-daemon', 'sd-daemon:app', 'generator-sd-daemon']);
    if (words !== undefined) {
      const opts = this.options as Record<string, unknown>;
      if (words.length > 1 && !opts.help)
        throw new UsageError(`${COMMAND}: one name expected, got ${words.map((w) => JSON.stringify(w)).join(' and ')}`);
      if (words[0] !== undefined) opts.name = words[0];
      else delete opts.name;
    } else if (typeof (this.args as unknown[])[0] === 'number') {
      // Yeoman's argument parser read the name as a number (010 became 10, 1e3
      // 1000): take the word as it was typed, from the words we were given.
      const coerced = String(this.args[0]);
      const words: unknown[] = typeof args === 'string' ? [args] : Array.isArray(args) ? args : [];
      const typed = words.find((arg) => typeof arg === 'string' && !arg.startsWith('-') && String(Number(arg)) === coerced);
      if (typed !== undefined) (this.options as Record<string, unknown>).name = typed;
    }
  }

  /** yo run as root drops to another user, who may not read root's home: see runner.ts. */
  override _getGlobalStorage(): ReturnType<Generator['_getGlobalStorage']> {
    return globalStorage(this, () => super._getGlobalStorage());
  }

  initializing(): void {
    const options = this.options as Record<string, unknown>;
    const given = options.name === undefined ? undefined : String(options.name);
    const here = this.destinationRoot();
    if (given === undefined) {
      this.target = here;
      return;
    }
    try {
      parseName(given);
    } catch (error) {
      throw new Error(`${COMMAND}: ${(error as Error).message}`);
    }
    options.name = given;
    // `yo sd-daemon my-daemon` works in ./my-daemon unless we are in it already.
    this.target = path.basename(here) === given ? here : path.join(here, given);
    // Said before any question is asked (checked again once the answers are known).
    checkWritable(this.target, COMMAND, given);
  }

  async prompting(): Promise<void> {
    const inTarget = storedIn(this.target);
    this.answers = await answersFor(this, COMMAND, inTarget);
    // A name answered at the prompt or stored: a new project goes into ./<name>
    // too (a re-run inside a project has its .yo-rc.json here and stays).
    const here = this.destinationRoot();
    if (this.target === here && path.basename(here) !== this.answers.name && Object.keys(inTarget).length === 0) {
      this.target = path.join(here, this.answers.name);
    }
    this.validate();
  }

  /** Every check that needs the answers, before the first write. */
  private validate(): void {
    const projectDir = this.answers.scope === 'system' ? this.answers.installPath : this.target;
    const reach = sandboxReach(this.answers, projectDir);
    if (reach.refuse.length > 0) throw new Error(`${COMMAND}: the unit could not start: ${reach.refuse.join(' ')}`);
    this.warnings = reach.warn;
    checkWritable(this.target, COMMAND, this.answers.name);
  }

  configuring(): void {
    this.destinationRoot(this.target);
  }

  writing(): void {
    const written = writeProject(this, this.answers);
    const force = (this.options as Record<string, unknown>).force === true;
    this.hashes = settleConflicts(this, written, { force, command: COMMAND, unitHint: unitHint(this.answers) });
  }

  end(): void {
    const status = writeYoRc(this.destinationRoot(), this.answers, this.hashes);
    this.log(`${status.padStart(9)} .yo-rc.json`);
    const a = this.answers;
    for (const warning of this.warnings) this.log(`\nWarning: ${warning}`);
    if (nodeUnderVersionManager(a.nodePath)) {
      this.log(
        `\nWarning: ExecStart= runs ${a.nodePath}, a node installed by a version manager. It moves on upgrades, and ProtectHome= hides it from system services. Pass --node /usr/bin/node (or another system-wide node).`,
      );
    }
    const unit = a.template ? `${a.name}@main` : a.name;
    this.log(`\n${a.name} is ready in ${this.destinationRoot()}:`);
    this.log(`  npm start                 run it in the foreground (port fallback, no systemd needed)`);
    this.log(`  npm test                  its lifecycle under sd-daemon-runtime's fake service manager`);
    if (a.initSystems.includes('systemd')) {
      this.log(`  npm run install-units -- --dry-run   what installing systemd/${unit}.* for ${a.scope} scope would do`);
      this.log(`  ${installCommand(a, this.destinationRoot())}`);
      this.log(
        `                            ${a.scope === 'system' ? `as root, from a copy at ${a.installPath} (README: Installing)` : 'installs them and reloads your user manager'}`,
      );
    }
    if (a.initSystems.includes('sysv'))
      this.log(`  init.d/${a.name}          an LSB init script (start-stop-daemon, --daemonize): see README`);
    if (a.initSystems.includes('openrc')) this.log(`  openrc/${a.name}          an OpenRC runscript (--daemonize): see README`);
  }
}

/** A POSIX shell word. */
const sh = (word: string): string => (/^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

/**
 * The one line that installs the units, as the README says. System scope: the
 * units run the copy at the install path, and only root writes
 * /etc/systemd/system; node is named by its path because sudo's PATH may lack it.
 */
export function installCommand(a: Answers, dir: string): string {
  if (a.scope === 'user') return 'npm run install-units';
  const build = a.language === 'ts' ? 'npm run build && ' : '';
  const to = sh(a.installPath);
  return `cd ${sh(dir)} && ${build}sudo mkdir -p ${to} && sudo cp -a . ${to}/ && cd ${to} && sudo "$(command -v node)" scripts/install-units.mjs`;
}
