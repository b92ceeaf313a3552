// The JavaScript project's src/main.js and test/main.test.js are the
// TypeScript templates with their types stripped (src/lib/strip-types.ts).
// For answer sets that switch every conditional of the templates on and off:
// the derived JavaScript parses in Node, holds the TypeScript's statements one
// for one (interfaces and type aliases aside) and every one of its comments,
// and reads as written by hand (no space runs, no `export {}`, no `as`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import ts from 'typescript';

import { parseAnswers } from '../../generators/lib/answers.js';
import { projectContext } from '../../generators/lib/context.js';
import { renderText } from '../../generators/lib/render.js';
import { stripTypes, StripTypesError } from '../../generators/lib/strip-types.js';

const ANSWER_SETS: Array<[string, Record<string, string>]> = [
  ['the defaults (notify, tcp socket, watchdog)', { name: 'd1', language: 'js' }],
  [
    'Type=forking with init.d and OpenRC (--daemonize)',
    { name: 'f1', language: 'js', type: 'forking', initSystems: 'systemd,sysv,openrc' },
  ],
  [
    'tcp + unix + udp sockets, fd store, user scope',
    { name: 's1', language: 'js', scope: 'user', sockets: 'tcp:127.0.0.1:8080,unix:/run/gp/http.sock,udp:127.0.0.1:9001', fdStore: '4' },
  ],
  ['Type=simple, no socket, no watchdog', { name: 'n1', language: 'js', type: 'simple', sockets: 'none', watchdogSec: '0' }],
  [
    'init.d only, a description with quotes and ${}',
    { name: 'v1', language: 'js', initSystems: 'sysv', description: 'It\'s "quoted" ${x} `t`' },
  ],
];
const TEMPLATES = ['project/src/main.ts', 'project/test/main.test.ts'];

/** Every statement, depth first, by kind: the shape two variants of one program share. */
function statements(text: string, kind: ts.ScriptKind): string[] {
  const sf = ts.createSourceFile(kind === ts.ScriptKind.TS ? 'x.ts' : 'x.js', text, ts.ScriptTarget.Latest, true, kind);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    // Types only: no JavaScript counterpart (an `import type` goes whole, like an interface).
    if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (ts.isImportDeclaration(node) && node.importClause?.isTypeOnly) return;
    if (ts.isStatement(node)) out.push(`${ts.SyntaxKind[node.kind]}@${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line}`);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The comments, in order, by the scanner (so none inside a string counts). */
function comments(text: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  const out: string[] = [];
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.SingleLineCommentTrivia || token === ts.SyntaxKind.MultiLineCommentTrivia) out.push(scanner.getTokenText());
    // A template literal's middle: re-scan so `${...}` parts are read as code.
    if (token === ts.SyntaxKind.CloseBraceToken) scanner.reScanTemplateToken(false);
  }
  return out;
}

/** A comment's words, without its JSDoc types and comment markers: what the reader reads. */
function prose(comment: string): string {
  return comment
    .replace(/@type \{.*?\}|@param \{.*?\} \S+/g, '')
    .replace(/^\/\*\*?|\*\/$|^\s*\* ?/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the JavaScript templates are the TypeScript ones with the types stripped', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'strip-types-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [title, raw] of ANSWER_SETS) {
    for (const name of TEMPLATES) {
      it(`${name}, ${title}`, () => {
        const context = projectContext(parseAnswers(raw));
        // The TypeScript this JavaScript was derived from: the same template, the same context.
        const typescript = renderText(name, context);
        const javascript = renderText(name, context, { javascript: true });

        // Node parses it, as a module.
        const file = path.join(dir, `${raw.name}-${path.basename(name)}.mjs`);
        writeFileSync(file, javascript);
        const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
        assert.equal(check.status, 0, check.stderr);

        // Statement for statement, each on its line less the lines the types took.
        const tsStatements = statements(typescript, ts.ScriptKind.TS).map((s) => s.replace(/@\d+$/, ''));
        const jsStatements = statements(javascript, ts.ScriptKind.JS).map((s) => s.replace(/@\d+$/, ''));
        assert.deepEqual(jsStatements, tsStatements);

        // Every comment kept, in order; the only thing added is JSDoc @type and @param.
        assert.deepEqual(
          comments(javascript)
            .map(prose)
            .filter((c) => c !== ''),
          comments(typescript).map(prose),
        );
        for (const tag of javascript.match(/@\w+/g) ?? []) assert.match(tag, /^@(type|param)$/);

        // Reads as hand-written.
        const lines = javascript.split('\n');
        const tsLines = new Set(typescript.split('\n'));
        assert.deepEqual(
          lines.filter((l) => /\S {2,}/.test(l) && !tsLines.has(l)),
          [],
          'a run of spaces the TypeScript did not have',
        );
        assert.deepEqual(
          lines.filter((l) => / $/.test(l)),
          [],
          'trailing spaces',
        );
        assert.ok(!/\n\n\n/.test(javascript), 'two blank lines in a row');
        const code = javascript.replace(/\/\*[^]*?\*\/|\/\/.*$/gm, ''); // JSDoc spells types on purpose
        assert.ok(
          !/export \{\}|\bas const\b|\binterface\b|: (string|number|boolean|void)\b/.test(code),
          'TypeScript left in the JavaScript',
        );
        // The blank lines are the TypeScript's (less the one after a removed interface).
        const blanks = (text: string): number => text.split('\n').filter((l) => l === '').length;
        assert.ok(
          blanks(typescript) - blanks(javascript) <= 1 && blanks(javascript) <= blanks(typescript),
          `blank lines: ${blanks(typescript)} in TypeScript, ${blanks(javascript)} in JavaScript`,
        );
      });
    }
  }
});

describe('stripTypes', () => {
  it('deletes type syntax and nothing else', () => {
    const source = [
      "import { a, type B, c } from 'm';",
      "import type { D } from 'n';",
      '',
      'interface Shape { x: number }',
      '',
      '// kept',
      'const list: B[] = [];',
      'let n: number;',
      'function f(x: string, y?: D, ...rest: number[]): Promise<void> {',
      '  const s = (x as unknown as string).length + y!.z;',
      '  return new Promise<void>((resolve) => resolve(rest[0]! as never));',
      '}',
      'const o = { n: n as number, list } satisfies object;',
      'class K<T> implements D { private readonly v: T | undefined; m(): void {} }',
      '',
    ].join('\n');
    assert.equal(
      stripTypes(source),
      [
        "import { a, c } from 'm';",
        '',
        '// kept',
        "/** @type {import('m').B[]} */",
        'const list = [];',
        'let n;',
        'function f(x, y, ...rest) {',
        '  const s = x.length + y.z;',
        '  return new Promise((resolve) => resolve(rest[0]));',
        '}',
        'const o = { n, list };',
        'class K { v; m() {} }',
        '',
      ].join('\n'),
    );
  });

  it("keeps the types JavaScript cannot see as JSDoc: @type on a declaration, @param in a function's doc comment", () => {
    const source = [
      "import { type Options } from 'm';",
      'interface Local { a: number }',
      '/** Says hello. */',
      'function hello(to: Options, times: number = 1, local?: Local, extra?: Map<string, Options>): void {}',
      'function bare(to: Options): void {}',
      'const all: Options[] = [];',
      'let one: Local | undefined;',
    ].join('\n');
    assert.equal(
      stripTypes(source),
      [
        '/**',
        ' * Says hello.',
        " * @param {import('m').Options} to",
        " * @param {Map<string, import('m').Options>} [extra]",
        ' */',
        'function hello(to, times = 1, local, extra) {}',
        'function bare(to) {}',
        "/** @type {import('m').Options[]} */",
        'const all = [];',
        'let one;',
      ].join('\n'),
    );
  });

  it('refuses syntax whose JavaScript is not the same text without types, naming where', () => {
    assert.throws(
      () => stripTypes('const a = 1;\nenum E { A }\n', 'x.ts'),
      (error: Error) => error instanceof StripTypesError && /^x\.ts:2:1: an enum /.test(error.message),
    );
    assert.throws(
      () => stripTypes('class A { constructor(private x: number) {} }', 'y.ts'),
      /^StripTypesError: y\.ts:1:23: a parameter property/,
    );
    assert.throws(() => stripTypes('namespace N {}', 'z.ts'), /z\.ts:1:1: a namespace/);
  });

  it('refuses a parse error with its position', () => {
    assert.throws(
      () => stripTypes('const a = ;\n', 'broken.ts'),
      (error: Error) => error instanceof SyntaxError && /^broken\.ts:1:11: Expression expected/.test(error.message),
    );
  });
});
