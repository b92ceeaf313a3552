// `yo sd-daemon:unit`: writes or refreshes the systemd units of an existing
// project (one made by `yo sd-daemon`, or any project with a .yo-rc.json
// holding its answers), taking changed options on the command line, e.g.
// `yo sd-daemon:unit --hardening baseline --watchdog 30`.
import Generator from 'yeoman-generator';

import { OPTIONS, type Answers } from '../lib/answers.js';
import { InputError } from '../lib/escape.js';
import { writeUnits } from '../lib/project.js';
import { TEMPLATES } from '../lib/render.js';
import { resolveAnswers, storeAnswers } from '../lib/resolve.js';

export default class SdDaemonUnitGenerator extends Generator {
  answers!: Answers;

  constructor(args: string[], options: Generator['options']) {
    super(args, options);
    for (const spec of OPTIONS) {
      this.option(spec.flag, { type: spec.type === 'boolean' ? Boolean : String, description: spec.description });
    }
    this.option('yes', { type: Boolean, alias: 'y', description: 'Take the default for everything not given; ask nothing' });
    this.option('interactive', { type: Boolean, description: 'Ask even when stdin is not a terminal' });
    // The project's answers live in the .yo-rc.json of the generator-sd-daemon namespace.
    this.sourceRoot(TEMPLATES);
  }

  async prompting(): Promise<void> {
    const options = this.options as Record<string, unknown>;
    const interactive = options.yes !== true && (options.interactive === true || process.stdin.isTTY === true);
    try {
      this.answers = await resolveAnswers(this, { interactive });
    } catch (error) {
      if (error instanceof InputError) throw new Error(`yo sd-daemon:unit: ${error.message}`);
      throw error;
    }
  }

  configuring(): void {
    storeAnswers(this, this.answers);
  }

  writing(): void {
    for (const file of writeUnits(this, this.answers)) this.log(`unit: ${file}`);
  }
}
