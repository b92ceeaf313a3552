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

function template(name: string): HandlebarsTemplateDelegate {
  let render = compiled.get(name);
  if (!render) {
    const file = path.join(TEMPLATES, `${name}.hbs`);
    render = Handlebars.compile(readFileSync(file, 'utf8'), { strict: true, noEscape: true });
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
