// Escaping for each syntax the generator writes into. Templates never escape:
// the context holds values already made safe for where they land. A value
// that cannot be represented exactly is rejected here, with the field's name
// and the offending character, rather than changed.

/** An input the generator refuses, naming the field (the option) it came from. */
export class InputError extends Error {
  /** The message without the option's name: what a prompt shows under its question. */
  readonly detail: string;

  constructor(
    readonly field: string,
    message: string,
    /** Names the value when it did not come from the option itself (a derived default). */
    label = `--${field}`,
  ) {
    super(`${label}: ${message}`);
    this.name = 'InputError';
    this.detail = message;
  }
}

/** Describes a character for an error message: 'U+000A (newline)'. */
export function describeChar(char: string): string {
  const code = char.codePointAt(0)!;
  const names: Record<number, string> = { 0: 'NUL', 9: 'tab', 10: 'newline', 13: 'carriage return', 127: 'DEL' };
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return names[code] ? `${hex} (${names[code]})` : char.length && code >= 0x20 && code !== 0x7f ? `'${char}' (${hex})` : hex;
}

/**
 * Rejects control characters (C0, DEL, C1), which no line-based syntax here
 * can carry, and lone UTF-16 surrogates, which have no UTF-8 form (they would
 * be written as U+FFFD, a different value).
 */
export function rejectControl(field: string, value: string): void {
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      throw new InputError(field, `contains the control character ${describeChar(char)}`);
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      throw new InputError(
        field,
        `contains a lone UTF-16 surrogate (U+${code.toString(16).toUpperCase()}), which is not a character and has no UTF-8 form`,
      );
    }
  }
}

/** Strips ASCII spaces only: other whitespace is part of the value, and refused where it cannot go. */
export function trimSpaces(value: string): string {
  return value.replace(/^ +| +$/g, '');
}

/**
 * A free-text value for a unit file setting that takes specifiers but no C
 * escapes (Description=, Documentation=): '%' doubled; control characters,
 * surrounding whitespace (systemd strips it) and a trailing backslash (a line
 * continuation) refused.
 */
export function unitText(field: string, value: string): string {
  rejectControl(field, value);
  if (value !== value.trim()) throw new InputError(field, 'starts or ends with whitespace, which systemd would drop');
  if (value.endsWith('\\')) throw new InputError(field, "ends with '\\', which systemd reads as a line continuation");
  return value.replaceAll('%', '%%');
}

/**
 * An absolute, normalised path for a unit file setting (WorkingDirectory=,
 * ListenStream=, ReadWritePaths=): no '..' or '.' segments, no doubled or
 * trailing '/', no whitespace (list settings split on it), no quotes or
 * backslashes (some settings unquote), '%' doubled.
 */
export function unitPath(field: string, value: string): string {
  rejectControl(field, value);
  if (!value.startsWith('/')) throw new InputError(field, `${JSON.stringify(value)} is not an absolute path`);
  if (value.length > 1 && value.endsWith('/')) throw new InputError(field, `${JSON.stringify(value)} ends with '/'`);
  // The kernel's limits (NAME_MAX, PATH_MAX): systemd refuses longer paths when it loads the unit.
  if (Buffer.byteLength(value) > 4095) throw new InputError(field, `is ${Buffer.byteLength(value)} bytes long; a path holds at most 4095`);
  const long = value.split('/').find((segment) => Buffer.byteLength(segment) > 255);
  if (long !== undefined) throw new InputError(field, `has a component of ${Buffer.byteLength(long)} bytes; a file name holds at most 255`);
  for (const segment of value.split('/').slice(1)) {
    if (segment === '..' || segment === '.' || (segment === '' && value !== '/')) {
      throw new InputError(field, `${JSON.stringify(value)} is not normalised (it has an empty, '.' or '..' segment)`);
    }
  }
  const bad = [...value].find((c) => /\s|["'\\]/u.test(c));
  if (bad !== undefined)
    throw new InputError(field, `${JSON.stringify(value)} contains ${describeChar(bad)}, which is not allowed in paths here`);
  return value.replaceAll('%', '%%');
}

/**
 * One ExecStart= argument in systemd's own quoting: double quotes, with '\'
 * and '"' backslash-escaped (systemd unescapes C escapes inside quotes), '%'
 * doubled (specifiers) and '$' doubled (environment expansion).
 */
export function execArg(field: string, value: string): string {
  rejectControl(field, value);
  const escaped = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%').replaceAll('$', '$$$$');
  return `"${escaped}"`;
}

/**
 * One ExecStart= argument whose '%' specifiers are meant (%t, %i): quoted and
 * escaped as execArg() does, except that '%' is left alone. Only for values
 * the generator builds from checked parts; user input goes through execArg().
 */
export function execArgSpecifiers(field: string, value: string): string {
  rejectControl(field, value);
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('$', '$$$$')}"`;
}

/** A word for a POSIX shell, in single quotes. */
export function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Words for a shell to split again (a variable that is `eval`ed, such as
 * OpenRC's command_args): each word bare when it holds only characters no
 * shell treats specially, else single-quoted.
 */
export function shellList(words: readonly string[]): string {
  return words.map((word) => (/^[\w./@%+=:,-]+$/.test(word) ? word : shellWord(word))).join(' ');
}

/**
 * A JavaScript string literal for generated source code, quoted as the
 * generated project's formatter (Biome, quoteStyle single) quotes it:
 * single quotes, unless the text holds more of them than double quotes.
 */
export function jsString(value: string): string {
  const text = JSON.stringify(value).slice(1, -1).replaceAll('\\"', '"');
  const quote = text.split("'").length > text.split('"').length ? '"' : "'";
  return `${quote}${text.replaceAll(quote, `\\${quote}`)}${quote}`;
}
