// `yo sd-daemon:unit`: writes or refreshes the systemd units (and init
// scripts, with --init sysv/openrc) of an existing project (one made by `yo sd-daemon`, or any project with a .yo-rc.json
// holding its answers), taking changed options on the command line, e.g.
// `yo sd-daemon:unit --hardening baseline --watchdog 30`. Like `yo sd-daemon`,
// it checks everything before writing and writes .yo-rc.json last.
import Generator from 'yeoman-generator';

import type { Answers } from '../lib/answers.js';
import { UsageError } from '../lib/cli.js';
import { settleConflicts, storedIn, writeUnits, writeYoRc } from '../lib/project.js';
import { sandboxReach } from '../lib/reach.js';
import { TEMPLATES } from '../lib/render.js';
import { answersFor, applyYoCommandLine, registerOptions } from '../lib/resolve.js';
import { checkWritable, globalStorage, unitHint } from '../lib/runner.js';

const COMMAND = 'yo sd-daemon:unit';

export default class SdDaemonUnitGenerator extends Generator {
  answers!: Answers;
  hashes: Record<string, string> = {};
  warnings: string[] = [];

  constructor(args: string[], options: Generator['options']) {
    super(args, options);
    registerOptions(this);
    // The project's answers live in the .yo-rc.json of the generator-sd-daemon namespace.
    this.sourceRoot(TEMPLATES);
    const words = applyYoCommandLine(this, COMMAND, ['sd-daemon:unit']);
    if (words !== undefined && words.length > 0 && !(this.options as Record<string, unknown>).help) {
      throw new UsageError(
        `${COMMAND}: takes no argument, got ${words.map((w) => JSON.stringify(w)).join(' ')} (run it inside the project; --name renames)`,
      );
    }
  }

  override _getGlobalStorage(): ReturnType<Generator['_getGlobalStorage']> {
    return globalStorage(this, () => super._getGlobalStorage());
  }

  async prompting(): Promise<void> {
    this.answers = await answersFor(this, COMMAND, storedIn(this.destinationRoot()));
    const projectDir = this.answers.scope === 'system' ? this.answers.installPath : this.destinationRoot();
    const reach = sandboxReach(this.answers, projectDir);
    if (reach.refuse.length > 0) throw new Error(`${COMMAND}: the unit could not start: ${reach.refuse.join(' ')}`);
    this.warnings = reach.warn;
    checkWritable(this.destinationRoot(), COMMAND, this.answers.name);
  }

  writing(): void {
    const generated = writeUnits(this, this.answers);
    const force = (this.options as Record<string, unknown>).force === true;
    this.hashes = settleConflicts(this, { generated, replaced: [] }, { force, command: COMMAND, unitHint: unitHint(this.answers) });
    for (const file of generated) this.log(`generated: ${file}`);
  }

  end(): void {
    const status = writeYoRc(this.destinationRoot(), this.answers, this.hashes);
    this.log(`${status.padStart(9)} .yo-rc.json`);
    for (const warning of this.warnings) this.log(`\nWarning: ${warning}`);
  }
}
