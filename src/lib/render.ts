// The one way files are written: a Handlebars template (strict: a missing
// context field is an error; noEscape: no HTML escaping, the context is
// already escaped for each file's syntax) rendered into this.fs, so Yeoman's
// conflict detection sees every write.
import { constants as fsConstants, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Handlebars from 'handlebars';

import { stripTypes } from './strip-types.js';

/** templates/ at the package root (generators/lib/ is two levels below it). */
export const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

const compiled = new Map<string, HandlebarsTemplateDelegate>();

let width: number | undefined;
/** The formatter's line width for generated projects: their biome.json (templates/project/biome.json) says it. */
function lineWidth(): number {
  if (width !== undefined) return width;
  const file = path.join(TEMPLATES, 'project', 'biome.json');
  const read = (JSON.parse(readFileSync(file, 'utf8')) as { formatter?: { lineWidth?: unknown } }).formatter?.lineWidth;
  if (typeof read !== 'number') throw new Error(`${file} has no formatter.lineWidth: restore it from git`);
  width = read;
  return width;
}

/** East Asian wide and fullwidth characters and emoji: two columns each, as Biome measures a line (unicode width). */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;

/** The columns a line takes: a wide character 2, a combining mark 0, any other character 1. */
function columns(line: string): number {
  let n = 0;
  for (const c of line) n += /\p{Mn}/u.test(c) ? 0 : WIDE.test(c) ? 2 : 1;
  return n;
}

// Helpers that lay out the statements whose length depends on the answers as
// the generated project's formatter (Biome) lays them out, so every variant
// passes its `biome check` (test/generator/format.test.ts); the rest of each
// template is written in the formatter's layout.
const handlebars = Handlebars.create();

/**
 * `{{#imports 'module'}}a b{{/imports}}`: the import statement of the names
 * in the block (whitespace-separated; an {{#if}} that leaves a name out
 * leaves a blank): on one line when it fits the line width, else one name a
 * line with a trailing comma. Which names a template imports stays in the
 * template, next to their uses.
 */
handlebars.registerHelper('imports', function (this: unknown, module: unknown, options: Handlebars.HelperOptions): string {
  if (typeof module !== 'string') throw new Error("{{#imports}} takes the module name, e.g. {{#imports 'node:fs'}}");
  const names = options.fn(this).split(/\s+/).filter(Boolean);
  const from = `from '${module}';`;
  const line = `import { ${names.join(', ')} } ${from}`;
  return columns(line) <= lineWidth() ? `${line}\n` : `import {\n${names.map((name) => `  ${name},\n`).join('')}} ${from}\n`;
});

/**
 * `{{#constant 'NAME'}}'{{name}}'{{/constant}}`: a top-level `const NAME =
 * <literal>;` whose literal holds an answer (a name, a description, a path):
 * on one line when it fits, else the literal on the next line, indented.
 */
handlebars.registerHelper('constant', function (this: unknown, name: unknown, options: Handlebars.HelperOptions): string {
  if (typeof name !== 'string') throw new Error("{{#constant}} takes the constant's name, e.g. {{#constant 'NAME'}}");
  const literal = options.fn(this).trim();
  const line = `const ${name} = ${literal};`;
  return columns(line) <= lineWidth() ? line : `const ${name} =\n  ${literal};`;
});

function template(name: string): HandlebarsTemplateDelegate {
  let render = compiled.get(name);
  if (!render) {
    const file = path.join(TEMPLATES, `${name}.hbs`);
    render = handlebars.compile(readFileSync(file, 'utf8'), { strict: true, noEscape: true });
    compiled.set(name, render);
  }
  return render;
}

/**
 * Renders templates/<name>.hbs with `context` (no file involved: for tests
 * and previews). `javascript`: the template is TypeScript and the JavaScript
 * variant is wanted, its types stripped after rendering (the Handlebars
 * source is not TypeScript a parser could read; each rendering is).
 */
export function renderText(name: string, context: object, { javascript = false }: { javascript?: boolean } = {}): string {
  const text = template(name)(context);
  return javascript ? stripTypes(text, `templates/${name}.hbs (rendered)`) : text;
}

/** The part of a Yeoman generator render() needs. */
export interface Writer {
  destinationRoot(): string;
  fs: { write(file: string, contents: string, options?: { stat?: Stats }): void; exists(file: string): boolean };
}

export interface RenderOptions {
  /** Scaffolded once: left alone when it exists. */
  once?: boolean;
  /** Permission bits (0o755 for a script); the file's mode is set on commit. */
  mode?: number;
  /** The template is TypeScript: write its JavaScript variant (see renderText). */
  javascript?: boolean;
}

/**
 * Renders templates/<name>.hbs to <destination root>/<dest>. `once` files
 * (scaffolded: src/main.ts, README) are left alone when they exist; the
 * others are regenerated on every run. Refuses any destination outside the
 * destination root.
 */
export function render(writer: Writer, name: string, dest: string, context: object, options: RenderOptions = {}): boolean {
  const root = writer.destinationRoot();
  const file = path.resolve(root, dest);
  if (path.relative(root, file).startsWith('..') || path.isAbsolute(path.relative(root, file))) {
    throw new Error(`refusing to write ${file}: outside the project at ${root}`);
  }
  if (options.once && writer.fs.exists(file)) return false;
  // mem-fs-editor writes stat.mode on commit; Yeoman's conflicter compares it
  // with the whole st_mode on disk, so the file type bits go in too.
  const stat = options.mode === undefined ? undefined : ({ mode: fsConstants.S_IFREG | options.mode } as Stats);
  writer.fs.write(file, renderText(name, context, { javascript: options.javascript ?? false }), stat ? { stat } : undefined);
  return true;
}
