// `yo sd-daemon:unit`: writes or refreshes the systemd units (and init
// scripts, with --init sysv/openrc) of an existing project (one made by `yo sd-daemon`, or any project with a .yo-rc.json
// holding its answers), taking changed options on the command line, e.g.
// `yo sd-daemon:unit --hardening baseline --watchdog 30`.
import Generator from 'yeoman-generator';

import type { Answers } from '../lib/answers.js';
import { writeUnits } from '../lib/project.js';
import { TEMPLATES } from '../lib/render.js';
import { answersFor, registerOptions, storeAnswers } from '../lib/resolve.js';

export default class SdDaemonUnitGenerator extends Generator {
  answers!: Answers;

  constructor(args: string[], options: Generator['options']) {
    super(args, options);
    registerOptions(this);
    // The project's answers live in the .yo-rc.json of the generator-sd-daemon namespace.
    this.sourceRoot(TEMPLATES);
  }

  async prompting(): Promise<void> {
    this.answers = await answersFor(this, 'yo sd-daemon:unit');
  }

  configuring(): void {
    storeAnswers(this, this.answers);
  }

  writing(): void {
    for (const file of writeUnits(this, this.answers)) this.log(`generated: ${file}`);
  }
}
