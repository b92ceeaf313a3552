// The command line, parsed strictly and the same way for both entry points
// (`npm init sd-daemon` and `yo sd-daemon`): every option must be one we know
// (a typo is refused, naming the nearest known option, instead of being
// ignored while the default is used), and a boolean flag never takes the next
// word as its value (`--yes b1` names the project b1).
import path from 'node:path';

import { OPTIONS } from './answers.js';

/** A command line we refuse. No `code` property: yo passes error.code to process.exit(), which takes numbers only. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Flag {
  name: string;
  /** Takes no value but `--name=value`; `--no-name` sets it false. */
  boolean: boolean;
  alias?: string;
}

/** Our own flags beyond the answers, and Yeoman's built-in generator options. */
const EXTRA_FLAGS: Flag[] = [
  { name: 'yes', boolean: true, alias: 'y' },
  { name: 'interactive', boolean: true },
  { name: 'force', boolean: true },
  { name: 'help', boolean: true, alias: 'h' },
  { name: 'skip-install', boolean: true },
  { name: 'skip-cache', boolean: true },
  { name: 'force-install', boolean: true },
  { name: 'ask-answered', boolean: true },
];

/** yo's own flags (yo/lib/cli.js, update-notifier, chalk), accepted on its command line and otherwise ignored. */
const YO_FLAGS: Flag[] = ['debug', 'local-only', 'update-notifier', 'insight', 'color', 'generators', 'environment-version', 'version'].map(
  (name) => ({
    name,
    boolean: true,
  }),
);

/** The answers' options: a yes-no answer (--template) may stand alone, so it is parsed as a flag. */
const ANSWER_FLAGS: Flag[] = OPTIONS.map((spec) => ({ name: spec.flag, boolean: spec.type === 'yes-no' }));

export function knownFlags(withYo = false): Flag[] {
  return [...ANSWER_FLAGS, ...EXTRA_FLAGS, ...(withYo ? YO_FLAGS : [])];
}

export interface CommandLine {
  /** Positional words, in order. */
  args: string[];
  /** Flag name (kebab-case) -> value: true/false for boolean flags, the word for the others. */
  options: Record<string, string | boolean>;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known flag closest to `name`, when it is close enough to be a typo. */
export function nearestFlag(name: string, flags: readonly Flag[] = knownFlags()): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const flag of flags) {
    const d = flag.name.startsWith(name) || name.startsWith(flag.name) ? 1 : distance(name, flag.name);
    if (!best || d < best.d) best = { name: flag.name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

function booleanValue(flag: string, raw: string): boolean {
  const text = raw.toLowerCase();
  if (['true', 'yes', '1', 'on', ''].includes(text)) return true;
  if (['false', 'no', '0', 'off'].includes(text)) return false;
  throw new UsageError(`--${flag} is a flag: it takes no value but --${flag}=yes or --${flag}=no (got ${JSON.stringify(raw)})`);
}

/**
 * Parses `argv` (the words after the command). `--name value` and
 * `--name=value` for valued options, `--flag`, `--no-flag` and `--flag=no`
 * for flags, `-y` and `-h`, `--` ending the options. `command` names the
 * entry point in messages ("yo sd-daemon").
 */
export function parseCommandLine(argv: readonly string[], command: string, flags: readonly Flag[] = knownFlags()): CommandLine {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byAlias = new Map(flags.filter((f) => f.alias).map((f) => [f.alias!, f]));
  const args: string[] = [];
  const options: Record<string, string | boolean> = {};
  const unknown = (word: string, name: string): UsageError => {
    const near = nearestFlag(name, flags);
    return new UsageError(
      // npm init takes a bare --help for itself: ours needs the `--` before it.
      `${command}: unknown option ${word}${near ? `; did you mean --${near}?` : ''} (\`${command}${command.startsWith('npm ') ? ' --' : ''} --help\` lists every option)`,
    );
  };
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (word === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const inline = eq < 0 ? undefined : word.slice(eq + 1);
      const flag = byName.get(name);
      if (!flag) {
        const negated = name.startsWith('no-') ? byName.get(name.slice(3)) : undefined;
        if (negated?.boolean && inline === undefined) {
          options[negated.name] = false;
          continue;
        }
        throw unknown(word.split('=')[0]!, name);
      }
      if (flag.boolean) {
        options[flag.name] = inline === undefined ? true : booleanValue(flag.name, inline);
      } else if (inline !== undefined) {
        options[flag.name] = inline;
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`${command}: --${flag.name} needs a value`);
        i += 1;
        options[flag.name] = argv[i]!;
      }
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      const flag = byAlias.get(word.slice(1));
      if (!flag) throw unknown(word, word.slice(1));
      options[flag.name] = true;
      continue;
    }
    args.push(word);
  }
  return { args, options };
}

/** camelCase of a kebab-case flag: yo and Yeoman's environment read both spellings. */
export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The words after the generator's name on yo's command line, or undefined
 * when this process is not yo. yo parses its command line without knowing
 * our options (so `--yes b1` reaches us as yes: 'b1' and the name is lost,
 * and a misspelt option arrives as just another key): we parse its words
 * again, strictly.
 */
export function yoWords(namespaces: readonly string[]): string[] | undefined {
  const script = process.argv[1] ?? '';
  const underYo = path.basename(script) === 'yo' || /[/\\]yo[/\\]lib[/\\]cli\.js$/.test(script);
  if (!underYo) return undefined;
  const words = process.argv.slice(2);
  const at = words.findIndex((w) => namespaces.includes(w));
  if (at < 0) return undefined;
  return [...words.slice(0, at), ...words.slice(at + 1)];
}
