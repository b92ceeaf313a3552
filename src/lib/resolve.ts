// Where each answer comes from, first hit wins: the command line, then
// .yo-rc.json (a flagless re-run reproduces the last run), then a prompt
// (only on a terminal, and never with --yes), then the default.
import type Generator from 'yeoman-generator';

import { helpText, OPTIONS, parseAnswers, type Answers, type AnswerSpec } from './answers.js';
import { type CommandLine, camel, parseCommandLine, knownFlags, yoWords } from './cli.js';
import { InputError } from './escape.js';

type Raw = string | boolean | number | undefined;

/** yeoman keeps `--fd-store` as options['fd-store'] and, for some versions, options.fdStore. */
function fromCommandLine(options: Record<string, unknown>, spec: AnswerSpec): Raw {
  const value = options[spec.flag] ?? options[camel(spec.flag)];
  return value === undefined || value === null ? undefined : (value as Raw);
}

export interface ResolveOptions {
  /** Ask for what is neither on the command line nor stored. */
  interactive: boolean;
  /** The project's stored answers (its .yo-rc.json), read before anything is written. */
  stored: Record<string, unknown>;
}

/** The question that asks for an answer, its default given the answers before it: a list of the choices, or a line checked as it is typed. */
function question(spec: AnswerSpec, earlier: Partial<Answers>): Record<string, unknown> {
  const fallback = spec.default(earlier);
  if (spec.type === 'choice') {
    const choices = Object.entries(spec.choices!).map(([value, meaning]) => ({ value, name: meaning ? `${value}: ${meaning}` : value }));
    return { type: 'select', name: spec.key, message: spec.prompt, choices, default: fallback };
  }
  const validate = (input: string): string | true => {
    try {
      spec.parse(input, earlier);
      return true;
    } catch (error) {
      return error instanceof InputError ? atPrompt(error) : String(error);
    }
  };
  return { type: 'input', name: spec.key, message: spec.prompt, default: fallback === undefined ? undefined : String(fallback), validate };
}

/** What a prompt shows under its question: the reason alone, as a sentence (the option's name belongs to the command line). */
export function atPrompt(error: InputError): string {
  const detail = /^(is|contains|starts|ends|has|must) /.test(error.detail) ? `this answer ${error.detail}` : error.detail;
  return detail.charAt(0).toUpperCase() + detail.slice(1);
}

export async function resolveAnswers(generator: Generator, { interactive, stored: storedRaw }: ResolveOptions): Promise<Answers> {
  const options = generator.options as Record<string, unknown>;
  const stored = storedRaw as Record<string, Raw>;
  const chosen = new Map<string, Raw>();
  for (const spec of OPTIONS) {
    let value = fromCommandLine(options, spec) ?? stored[spec.key];
    if (value === undefined && interactive && spec.prompt !== undefined) {
      // Defaults may depend on earlier answers (the description on the name).
      const asked = (await generator.prompt([question(spec, parseAnswersSoFar(chosen))] as Parameters<Generator['prompt']>[0])) as Record<
        string,
        Raw
      >;
      value = asked[spec.key];
    }
    if (value === undefined && spec.key === 'name') {
      throw new InputError(
        'name',
        interactive ? 'is required' : 'is required: pass it as the first argument or with --name (there is no terminal to ask on)',
      );
    }
    chosen.set(spec.key, value);
  }
  return parseAnswers({}, (spec) => chosen.get(spec.key));
}

/** The answers parsed so far (for defaults that depend on them); missing ones take their defaults. */
function parseAnswersSoFar(chosen: Map<string, Raw>): Partial<Answers> {
  const earlier: Partial<Answers> = {};
  for (const spec of OPTIONS) {
    if (!chosen.has(spec.key)) break;
    const raw = chosen.get(spec.key);
    (earlier as Record<string, unknown>)[spec.key] = spec.parse(raw === undefined ? spec.default(earlier) : raw, earlier);
  }
  return earlier;
}

/**
 * Registers every answer's option with its help text (helpText: the schema's
 * help, choices and default), plus --yes and --interactive. Every one is a
 * String option, yes/no ones too: yeoman would turn --template=false into true.
 */
export function registerOptions(generator: Generator): void {
  for (const spec of OPTIONS) generator.option(spec.flag, { type: String, description: helpText(spec) });
  generator.option('yes', { type: Boolean, alias: 'y', description: 'Take the default for everything not given; ask nothing' });
  generator.option('interactive', { type: Boolean, description: 'Ask even when stdin is not a terminal' });
}

/**
 * Resolves the answers, asking only on a terminal (or with --interactive) and
 * never with --yes; an invalid value fails the run with a message naming its option.
 */
export async function answersFor(generator: Generator, command: string, stored: Record<string, unknown>): Promise<Answers> {
  const options = generator.options as Record<string, unknown>;
  const interactive = options.yes !== true && (options.interactive === true || process.stdin.isTTY === true);
  try {
    return await resolveAnswers(generator, { interactive, stored });
  } catch (error) {
    if (error instanceof InputError) throw new Error(`${command}: ${error.message}`);
    throw error;
  }
}

/**
 * Under yo, replaces what yo's own parser made of our options with a strict
 * parse of its words (see yoWords): an unknown option or a second name is
 * refused here, before anything runs. Returns the positional words. With
 * --help, nothing is refused: the help is printed instead.
 */
export function applyYoCommandLine(generator: Generator, command: string, namespaces: readonly string[]): string[] | undefined {
  const words = yoWords(namespaces);
  if (words === undefined) return undefined;
  const options = generator.options as Record<string, unknown>;
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(words, command, knownFlags(true));
  } catch (error) {
    if (options.help) return undefined;
    throw error;
  }
  for (const flag of knownFlags()) {
    for (const key of new Set([flag.name, camel(flag.name)])) {
      if (flag.name in parsed.options) options[key] = parsed.options[flag.name];
      // yo's parser may have given a flag the next word (`--yes b1`): what the strict parse did not see goes.
      else delete options[key];
    }
  }
  return parsed.args;
}
