// Reliability: hostile generator answers (the corpus and fields in
// test/helpers/hostile-answers.ts), parsed: every case is refused with an
// InputError naming its option or accepted as the literal, and what the
// generator's fast path emits from an accepted case (units, JavaScript, JSON)
// carries the literal and nothing more.
import assert from 'node:assert/strict';
import vm from 'node:vm';

import { projectContext } from '../../generators/lib/context.js';
import { InputError } from '../../generators/lib/escape.js';
import { parseUnit, type UnitFile } from '../helpers/generator.js';
import {
  describeHostileAnswers,
  FIELDS,
  js,
  KEY_OF,
  literalListen,
  literalNumber,
  noProblems,
  repro,
  shape,
  twin,
  UNREPRESENTABLE,
  units,
} from '../helpers/hostile-answers.js';
import { CORPUS } from '../helpers/hostile-corpus.js';

describeHostileAnswers(
  'parsing',
  (suite) => {
    const { cases, accepted, tally } = suite;

    it(`the corpus: ${CORPUS.length} distinct inputs x ${FIELDS.length} option fields, every option that takes a value`, function () {
      assert.ok(CORPUS.length >= 300);
      assert.equal(new Set(CORPUS.map((i) => i.value)).size, CORPUS.length, 'inputs are distinct');
      for (const flag of KEY_OF.keys())
        assert.ok(
          FIELDS.some((f) => f.flag === flag),
          `--${flag} is tried`,
        );
    });

    describe('each answer is refused naming its option, or accepted whole', function () {
      for (const field of FIELDS) {
        it(`--${field.flag} (${field.id})`, function () {
          const problems: string[] = [];
          for (const c of cases.filter((c) => c.field === field)) {
            if (c.error !== undefined) {
              if (!(c.error instanceof InputError))
                problems.push(
                  `${repro(c)}: crashed instead of refusing: ${String((c.error as Error)?.stack ?? c.error)
                    .split('\n')
                    .slice(0, 2)
                    .join(' ')}`,
                );
              else if (c.error.field !== field.flag || !c.error.message.startsWith(`--${field.flag}: `))
                problems.push(`${repro(c)}: refused naming --${c.error.field}: ${c.error.message}`);
              continue;
            }
            const a = c.answers!;
            const given = field.set(c.input.value);
            const [key, value] = Object.entries(given)[0]!;
            if (UNREPRESENTABLE.test(value)) {
              problems.push(
                `${repro(c)}: accepted although it holds ${js(UNREPRESENTABLE.exec(value)![0])} (parsed: ${js(JSON.stringify((a as unknown as Record<string, unknown>)[key]))})`,
              );
              continue;
            }
            // The parsed answer is the literal (separator spaces aside for lists and numbers).
            const parsed = (a as unknown as Record<string, unknown>)[key];
            if (key === 'sockets') {
              const want = literalListen(value);
              const got = a.sockets.map((s) =>
                s.kind === 'unix' ? `${s.path} (Stream)` : `${s.host || '[::]'}:${s.port} (${s.kind === 'tcp' ? 'Stream' : 'Datagram'})`,
              );
              if (JSON.stringify(want) !== JSON.stringify(got))
                problems.push(`${repro(c)}: accepted as ${JSON.stringify(got)}, not the literal ${JSON.stringify(want)}`);
            } else if (typeof parsed === 'number') {
              if (parsed !== literalNumber(value))
                problems.push(`${repro(c)}: accepted as ${parsed}, which is not what ${js(value)} literally says`);
            } else if (typeof parsed === 'string' && parsed !== value) {
              problems.push(`${repro(c)}: accepted as ${js(parsed)}`);
            }
          }
          noProblems(problems, `answers to --${field.flag} went wrong`);
        });
      }
    });

    describe('fast path: what is emitted carries the literal and nothing more', function () {
      it('unit files: the same sections and keys as the twin with harmless values (nothing injected), for every accepted case', function () {
        const problems: string[] = [];
        for (const c of accepted) {
          for (const scope of ['system', 'user'] as const) {
            const mine = units(c.answers!, scope);
            const theirs = units(twin(c, c.answers!.name), scope);
            for (const kind of ['service', 'socket'] as const) {
              const text = mine[kind];
              if (text === undefined) continue;
              let parsed: UnitFile;
              try {
                parsed = parseUnit(text);
              } catch (error) {
                problems.push(`${repro(c)}: ${scope} ${kind} is not a unit file: ${(error as Error).message}`);
                tally.escapes++;
                continue;
              }
              if (shape(parsed) !== shape(parseUnit(theirs[kind]!))) {
                problems.push(`${repro(c)}: ${scope} ${kind} has another shape than its twin's:\n${shape(parsed)}`);
                tally.escapes++;
              }
            }
          }
        }
        noProblems(problems, 'unit files differ in shape from their twin');
      });

      it('JavaScript and JSON: the description, socket name, fallback addresses and install path evaluate to the literal', function () {
        const problems: string[] = [];
        const sandbox = vm.createContext({});
        const evaluate = (source: string): unknown => vm.runInContext(`(${source})`, sandbox, { timeout: 10_000 });
        for (const c of accepted) {
          const a = c.answers!;
          const p = projectContext(a);
          const checks: Array<[string, unknown, unknown]> = [
            ['descriptionJs', evaluate(p.descriptionJs), a.description],
            ['socketNameJs', evaluate(p.socketNameJs), a.socketName],
            ['installPathJs', evaluate(p.installPathJs), a.installPath],
            ['execStartTailJs', typeof evaluate(p.execStartTailJs), 'string'],
          ];
          p.sockets.forEach((s, i) => {
            const spec = a.sockets[i]!;
            const want =
              spec.kind === 'unix'
                ? { path: spec.path }
                : { port: spec.port, ...(spec.host ? { host: spec.host.replace(/^\[(.*)\]$/, '$1') } : {}) };
            checks.push([`sockets[${i}].fallbackJs`, JSON.stringify(evaluate(s.fallbackJs)), JSON.stringify(want)]);
          });
          for (const [what, got, want] of checks) if (got !== want) problems.push(`${repro(c)}: ${what} evaluates to ${js(String(got))}`);
        }
        noProblems(problems, 'literals changed on their way into JavaScript or JSON');
      });
    });
  },
  () => {},
);
