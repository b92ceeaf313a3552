// Hostile answers: for every free-text field, inputs that try to inject a
// directive, open a section, expand a specifier or a variable, break quoting,
// or climb out of a directory. Each is refused with a message naming the
// option, or written so that systemd reads back exactly the literal value:
// checked by loading the emitted units into a real systemd user manager and
// reading the settings back with `systemctl --user show`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { InputError } from '../../generators/lib/escape.js';
import { parseAnswers, type Answers } from '../../generators/lib/answers.js';
import { unitContext } from '../../generators/lib/context.js';
import { renderText } from '../../generators/lib/render.js';
import { useUserManager } from '../helpers/units.js';
import { CLASSIC } from '../helpers/hostile-corpus.js';
import { generate } from '../helpers/generator.js';

/** The classic 14; test/reliability/generator-answers-*.test.ts run the whole corpus they belong to. */
const HOSTILE = CLASSIC;

/** The option under test, how to set it, and what systemd reads back for an accepted value. */
interface Field {
  flag: string;
  set: (value: string) => Record<string, string>;
  readBack?: { unit: 'service' | 'socket'; property: string; expect: (value: string, answers: Answers) => string };
}

const FIELDS: Field[] = [
  { flag: 'description', set: (v) => ({ description: v }), readBack: { unit: 'service', property: 'Description', expect: (v) => v } },
  { flag: 'install-path', set: (v) => ({ installPath: v }), readBack: { unit: 'service', property: 'WorkingDirectory', expect: (v) => v } },
  {
    flag: 'install-path',
    set: (v) => ({ installPath: `/opt/${v}` }),
    readBack: { unit: 'service', property: 'WorkingDirectory', expect: (v) => `/opt/${v}` },
  },
  { flag: 'node', set: (v) => ({ nodePath: `/usr/bin/${v}` }) },
  {
    flag: 'sockets',
    set: (v) => ({ sockets: `unix:/run/${v}` }),
    readBack: { unit: 'socket', property: 'Listen', expect: (v) => `/run/${v} (Stream)` },
  },
  { flag: 'sockets', set: (v) => ({ sockets: `tcp:${v}` }) },
  { flag: 'run-as', set: (v) => ({ runAs: v }) },
  { flag: 'socket-name', set: (v) => ({ socketName: v }) },
  { flag: 'name', set: (v) => ({ name: v }) },
];

interface Case {
  field: Field;
  input: string;
  answers?: Answers;
  error?: InputError;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const field of FIELDS) {
    for (const input of HOSTILE) {
      try {
        const answers = parseAnswers({ name: 'hostile', nodePath: process.execPath, ...field.set(input) });
        out.push({ field, input, answers });
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        out.push({ field, input, error });
      }
    }
  }
  return out;
}

describe('hostile answers', function () {
  this.timeout(60_000);
  const all = cases();

  describe('refused with the option named', function () {
    for (const c of all.filter((c) => c.error)) {
      it(`--${c.field.flag} ${JSON.stringify(c.input)}: ${c.error!.message}`, function () {
        assert.equal(c.error!.field, c.field.flag);
        assert.ok(c.error!.message.startsWith(`--${c.field.flag}: `));
      });
    }
  });

  it('no input with a line break or a control character is ever accepted', function () {
    for (const c of all.filter((c) => /[\x00-\x1f\x7f\u0080-\u009f]/.test(c.input))) {
      assert.ok(c.error, `--${c.field.flag} ${JSON.stringify(c.input)} was accepted`);
    }
  });

  describe('accepted values reach a real systemd as the exact literal', function () {
    const m = useUserManager();
    const accepted = all.filter((c) => c.answers && c.field.readBack);

    it(`(${accepted.length} accepted values to read back)`, function () {
      assert.ok(accepted.length >= 8, 'the suite checks a meaningful number of accepted values');
    });

    accepted.forEach((c, index) => {
      it(`--${c.field.flag} ${JSON.stringify(c.input)}`, async function () {
        const name = `hostile${index}`;
        const answers: Answers = { ...c.answers!, name, scope: 'user' };
        const context = unitContext(answers, answers.installPath);
        await m().writeUnit(context.serviceFile, renderText('systemd/service', context));
        if (context.hasSockets) await m().writeUnit(context.socketFile, renderText('systemd/socket', context));
        await m().daemonReload();
        const readBack = c.field.readBack!;
        const unit = readBack.unit === 'service' ? context.serviceFile : context.socketFile;
        const shown = await m().systemctl('show', `--property=${readBack.property},LoadState,LoadError`, unit);
        assert.equal(shown.code, 0, shown.stderr);
        const props = Object.fromEntries(
          shown.stdout
            .trim()
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        );
        assert.equal(props.LoadState, 'loaded', `${unit}: ${props.LoadError}`);
        assert.equal(props[readBack.property], readBack.expect(c.input, answers));
        // Nothing else was smuggled in: no ExecStartPre= of any kind.
        const pre = await m().systemctl('show', '--property=ExecStartPre', '--value', context.serviceFile);
        assert.equal(pre.stdout.trim(), '');
      });
    });
  });

  it('a hostile description stays a literal in package.json, README and the JavaScript source', async function () {
    const description = `"}); process.exit(1); ({"a": "\` + '\\' + ${'${HOME}'} </script> %h`;
    const p = await generate({ description, language: 'js' });
    assert.equal(p.json('package.json').description, description);
    assert.match(p.read('README.md'), /process\.exit\(1\)/);
    const check = spawnSync(process.execPath, ['--check', `${p.dir}/src/main.js`], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });
});
