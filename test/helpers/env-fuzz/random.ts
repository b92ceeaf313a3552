// The fuzzer's randomness: one seeded stream per case, and the generators of
// the hostile values the variables get.

// ---------------------------------------------------------------------------
// Seeded randomness: mulberry32, one independent stream per case, so a single
// case is reproduced from (seed, index) alone.

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly #next: () => number;
  constructor(seed: number, index: number) {
    this.#next = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    for (let i = 0; i < 4; i++) this.#next();
  }
  float(): number {
    return this.#next();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.#next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }
  /** One of several generators, by weight. */
  weighted<T>(table: ReadonlyArray<readonly [number, () => T]>): T {
    const total = table.reduce((sum, [w]) => sum + w, 0);
    let r = this.#next() * total;
    for (const [w, make] of table) {
      if ((r -= w) < 0) return make();
    }
    return table[table.length - 1]![1]();
  }
}

// ---------------------------------------------------------------------------
// Value generators. Strings may hold placeholders the child fills in:
// {pid} {pidhex} {ppid} {pid+1} {stderr} {stdout} {stderr-ino+1} {pidfdid} {pidfdid+1}.

export const EDGE_NUMBERS = [
  '0',
  '-0',
  '00',
  '-1',
  '1',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '18446744073709551615',
  '18446744073709551616',
  `1${'0'.repeat(400)}`,
  '9'.repeat(40),
  'NaN',
  'Infinity',
  '-Infinity',
  '+Infinity',
  '1e3',
  '1E3',
  '0x10',
  '0X10',
  '0o7',
  '0b1',
  '1_000',
  '1,000',
  '\u0661\u0662\u0663',
  '\uff11\uff12',
  ' ',
  '\t',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '\u00bd',
  '-9007199254740993',
];

/** The ways a number can be written that a strict decimal parser must refuse (and a few it must accept). */
export function numericForms(base: string, hex: string): string[] {
  return [
    `0${base}`,
    `00${base}`,
    `+${base}`,
    `-${base}`,
    ` ${base}`,
    `${base} `,
    `\t${base}`,
    `${base}\n`,
    `${base}.0`,
    `${base}e0`,
    `${base}E0`,
    `0x${hex}`,
    `0X${hex}`,
    `${base}0`,
    `${base}x`,
    `${base}:`,
    `${base}\u00a0`,
    `\u200b${base}`,
  ];
}

export const CHAR_CLASSES: ReadonlyArray<readonly [number, (r: Rng) => string]> = [
  [30, (r) => String.fromCharCode(r.int(0x21, 0x7e))],
  [8, (r) => r.pick([' ', ':', '@', '/', '=', '.', '-', '\\', '%', '$', '"', "'"])],
  [10, (r) => String.fromCharCode(r.int(0x30, 0x39))],
  [6, (r) => String.fromCharCode(r.pick([r.int(1, 0x1f), 0x7f]))],
  [6, (r) => String.fromCharCode(r.int(0x80, 0xff))],
  [5, (r) => String.fromCharCode(r.int(0x4e00, 0x9fff))],
  [4, (r) => String.fromCodePoint(r.int(0x1f300, 0x1faff))],
  [2, (r) => String.fromCharCode(r.pick([0x2028, 0x2029, 0x200b, 0xfeff, 0xfffd, 0x202e]))],
];

/** NUL-free garbage: any valid code point mix (a process environment cannot hold NUL). */
export function garbage(r: Rng, maxLength = 24, exclude = ''): string {
  const length = r.int(0, maxLength);
  let out = '';
  while ([...out].length < length) {
    const ch = r.weighted(CHAR_CLASSES.map(([w, make]) => [w, () => make(r)] as const));
    if (!exclude.includes(ch)) out += ch;
  }
  return out;
}

export function fdName(r: Rng): string {
  return r.weighted<string>([
    [30, () => r.pick(['web', 'http', 'conn', 'unknown', 'stored', 'dns', 'a', 'connection', 'varlink'])],
    [10, () => ''],
    [6, () => 'n'.repeat(r.pick([254, 255, 256, 300]))],
    [6, () => r.pick([' sp ace ', 'tab\there', '\u0001ctl', 'del\u007f', 'new\nline', 'eq=ual', '@abs', '/path', 'a.b-c_d'])],
    [6, () => r.pick(['w\u00e9b', '\u65e5\u672c', '\u{1f642}', '\u00a0', '\u202eevil'])],
    [8, () => garbage(r, 12, ':')],
  ]);
}
