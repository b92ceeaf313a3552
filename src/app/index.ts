// `yo sd-daemon [name]`: a TypeScript (or JavaScript) daemon project wired to
// sd-daemon-runtime, with hardened systemd units and its own tests.
import path from 'node:path';

import Generator from 'yeoman-generator';

import { nodeUnderVersionManager, parseName, type Answers } from '../lib/answers.js';
import { writeProject } from '../lib/project.js';
import { TEMPLATES } from '../lib/render.js';
import { answersFor, registerOptions, storeAnswers } from '../lib/resolve.js';

export default class SdDaemonGenerator extends Generator {
  answers!: Answers;

  constructor(args: string[], options: Generator['options']) {
    super(args, options);
    this.argument('name', { type: String, required: false, description: 'Package and unit name (or --name)' });
    registerOptions(this);
    this.sourceRoot(TEMPLATES);
  }

  initializing(): void {
    // `yo sd-daemon my-daemon` works in ./my-daemon unless we are in it
    // already; the name is checked first, so no directory is made for a bad one.
    const options = this.options as Record<string, unknown>;
    const self = this as unknown as { args?: unknown[]; _args?: unknown[] };
    if (typeof self.args?.[0] === 'number') {
      // The argument parser read the name as a number (010 became 10, 1e3
      // 1000): take the word as it was typed instead.
      const coerced = String(self.args[0]);
      const typed = self._args?.find((arg) => typeof arg === 'string' && !arg.startsWith('-') && String(Number(arg)) === coerced);
      if (typed !== undefined) options.name = typed;
    }
    const given = options.name as string | undefined;
    if (given === undefined) return;
    try {
      parseName(given);
    } catch (error) {
      throw new Error(`yo sd-daemon: ${(error as Error).message}`);
    }
    if (path.basename(this.destinationRoot()) !== given) this.destinationRoot(this.destinationPath(given));
  }

  async prompting(): Promise<void> {
    this.answers = await answersFor(this, 'yo sd-daemon');
  }

  configuring(): void {
    // A name answered at the prompt: a new project goes into ./<name> too
    // (a re-run inside a project has its .yo-rc.json here and stays).
    const name = this.answers.name;
    if (path.basename(this.destinationRoot()) !== name && !this.fs.exists(this.destinationPath('.yo-rc.json'))) {
      this.destinationRoot(this.destinationPath(name));
    }
    storeAnswers(this, this.answers);
  }

  writing(): void {
    writeProject(this, this.answers);
  }

  end(): void {
    const a = this.answers;
    if (nodeUnderVersionManager(a.nodePath)) {
      this.log(
        `\nWarning: ExecStart= runs ${a.nodePath}, a node installed by a version manager. It moves on upgrades, and ProtectHome= hides it from system services. Pass --node /usr/bin/node (or another system-wide node).`,
      );
    }
    const unit = a.template ? `${a.name}@main` : a.name;
    this.log(`\n${a.name} is ready in ${this.destinationRoot()}:`);
    this.log(`  npm start                 run it in the foreground (port fallback, no systemd needed)`);
    this.log(`  npm test                  its lifecycle under sd-daemon-runtime's fake service manager`);
    if (a.initSystems.includes('systemd')) this.log(`  npm run install-units     install systemd/${unit}.* for ${a.scope} scope`);
    if (a.initSystems.includes('sysv')) this.log(`  init.d/${a.name}          an LSB init script (start-stop-daemon, --daemonize): see README`);
    if (a.initSystems.includes('openrc')) this.log(`  openrc/${a.name}          an OpenRC runscript (--daemonize): see README`);
  }
}
