// The hostile inputs the generator's answers are tried with: every way a
// free-text value could break out of the syntax it lands in (a unit file line,
// an ExecStart= argument, a shell word, a JavaScript or JSON string) or out of
// the directory it names. Built from small lists, deterministic, each input
// distinct; `MARKER` names the files a command substitution would create, so a
// test can prove none ran.

/** What a payload that runs a command would touch: tests assert these never appear. */
export const MARKER = '/tmp/sd-ga-pwned';

/** The 14 inputs test/generator/hostile.test.ts started with, kept verbatim (the corpus is a superset). */
export const CLASSIC: readonly string[] = [
  'x\nExecStartPre=/bin/touch /tmp/pwned',
  'x\r\n[Service]\nExecStart=/bin/sh',
  '[Service]',
  'ExecStartPre=/bin/true',
  '%h and %n and %%',
  '"double" \'single\'',
  'back\\slash \\n \\x41',
  '${HOME} $USER $$',
  'Dæmon ☃ 日本語',
  '../../etc/passwd',
  'trailing\\',
  ' padded ',
  'nel\u0085here',
  'tab\there',
];

export interface HostileInput {
  /** The category it belongs to (for the report and failure messages). */
  kind: string;
  value: string;
}

/** Line breaks a parser might honour: LF, CRLF, CR, NEL, LS, PS, VT, FF, NUL. */
const BREAKS = ['\n', '\r\n', '\r', '\u0085', '\u2028', '\u2029', '\v', '\f', '\0'];
/** What an injected line would try to do. */
const INJECTED = [
  `ExecStartPre=/bin/touch ${MARKER}-pre`,
  '[Service]',
  'ExecStart=/bin/sh -c id',
  'User=root',
  'Environment=LD_PRELOAD=/tmp/evil.so',
  '[Install]',
];

/** systemd's specifiers (systemd.unit(5), 252) and some it does not know. */
const SPECIFIERS = 'aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY'.split('');
const BAD_SPECIFIERS = ['%z', '%Q', '%!', '%{n}', '%', 'x%', '100%', '%%%', '%%n', '%-n', '% n'];

function build(): HostileInput[] {
  const out: HostileInput[] = [];
  const add = (kind: string, ...values: string[]): void => {
    for (const value of values) out.push({ kind, value });
  };

  add('classic', ...CLASSIC);

  // A line break, then a directive or a section header.
  for (const br of BREAKS) for (const line of INJECTED) add('break+directive', `x${br}${line}`);
  add(
    'break+directive',
    `\n${INJECTED[0]}`,
    `x\n\n[Service]\nExecStartPre=/bin/true\n`,
    'x\\\nExecStartPre=/bin/true',
    `/srv/x\nExecStartPre=/bin/true`,
  );
  add('break', '\n', '\r', 'a\rb', 'x\r', '\0', 'a\0b', `x\0ExecStartPre=/bin/true`, '\u0085', '\u2028', '\u2029', 'a\u2028b');

  // Section headers and directive look-alikes on one line.
  add(
    'section',
    '[Unit]',
    '[Install]',
    '[Socket]',
    '[X-Evil]',
    '[Service',
    'Service]',
    'x [Service] y',
    '[Service]ExecStartPre=/bin/true',
    '#[Service]',
  );
  add(
    'directive',
    'X=1',
    '=',
    'a=b=c',
    'Description=',
    'ExecStart=',
    'User=root',
    ';comment',
    '#comment',
    '# ExecStartPre=/bin/true',
    'Description=x ExecStartPre=/bin/true',
  );

  // Tabs and other whitespace.
  add(
    'whitespace',
    '\t',
    '\tleading',
    'trailing\t',
    'in\tside',
    'a\t\tb',
    ' ',
    '  ',
    'two  spaces',
    'a b',
    '\u00a0nbsp',
    'nbsp\u00a0',
    'in\u00a0side',
    'ideographic\u3000space',
    'zw\u200bsp',
    '\ufeffbom',
  );

  // % specifiers: every one systemd knows, alone and inside a path, and invalid ones.
  for (const s of SPECIFIERS) add('specifier', `%${s}`);
  add('specifier', '/srv/%n', '/srv/%i/%h', '%n%n%n', 'a%%b', '%%', '%%%%');
  add('bad-specifier', ...BAD_SPECIFIERS);

  // Quotes.
  add(
    'quote',
    '"',
    "'",
    '""',
    "''",
    '"quoted"',
    "'single'",
    'a"b',
    "it's",
    '"unbalanced',
    "unbalanced'",
    '"a" "b"',
    '\'"\'"',
    '“curly”',
    '‘curly’',
  );

  // Backslash escapes (C escapes systemd might decode, a line continuation).
  add(
    'backslash',
    '\\',
    '\\\\',
    'a\\',
    'a\\\\',
    '\\n',
    '\\t',
    '\\r',
    '\\0',
    '\\x41',
    '\\101',
    '\\u00e9',
    '\\U0001F600',
    '\\;',
    '\\"',
    "\\'",
    '\\$',
    '\\%',
    '\\ ',
    'a\\b',
    'c:\\windows',
    '\\\\server\\share',
  );

  // Variables.
  add(
    'variable',
    '${HOME}',
    '$HOME',
    '$USER',
    '$$',
    '$',
    '${MAINPID}',
    '$MAINPID',
    '${PATH:-x}',
    '${X:=y}',
    '$1',
    '$@',
    '$*',
    '$?',
    '$0',
    '$#',
    '$!',
    '$-',
    '${#}',
    '$IFS',
    '${IFS}',
    '$((1+1))',
    'a$b',
    '$$$$',
  );

  // Command substitution and backquotes, each naming its own marker.
  let n = 0;
  const mark = (): string => `${MARKER}-${++n}`;
  add(
    'command',
    `$(touch ${mark()})`,
    `$(touch\${IFS}${mark()})`,
    `x$(touch${'${IFS}'}${mark()})y`,
    `\`touch ${mark()}\``,
    `\`touch\${IFS}${mark()}\``,
    `x\`touch${'${IFS}'}${mark()}\`y`,
    `$( id )`,
    `$(id)`,
    '`id`',
    `$(touch ${mark()}) $(touch ${mark()})`,
    `"$(touch ${mark()})"`,
    `'$(touch ${mark()})'`,
    `\\$(touch ${mark()})`,
    `<(touch ${mark()})`,
    `>(touch ${mark()})`,
  );

  // Shell operators.
  add(
    'operator',
    ';',
    'a;b',
    `;touch ${mark()}`,
    `x;touch${'${IFS}'}${mark()}`,
    '; rm -rf /',
    ';rm',
    `a && touch ${mark()}`,
    `a&&touch${'${IFS}'}${mark()}`,
    '&&',
    '||',
    `a||touch${'${IFS}'}${mark()}`,
    '|',
    `a|touch${'${IFS}'}${mark()}`,
    '&',
    'a&',
    '>',
    `>${mark()}`,
    `x>${mark()}`,
    '<',
    '<<EOF',
    '2>&1',
    '#',
    'a#b',
    '!',
    '!!',
    '(a)',
    '{a,b}',
    '~',
    '~root',
    '^',
  );

  // Globs.
  add('glob', '*', '?', '**', '[a-z]', '[!a]', '/srv/*', '/srv/?', '/srv/[a-z]*', '/*', '/etc/*', 'a*b', '*.service', '@(x)', '!(x)');

  // Leading dashes (options) and ExecStart= prefixes.
  add(
    'dash',
    '-',
    '--',
    '-x',
    '--help',
    '--daemonize',
    '-rf',
    '--pid-file=/etc/passwd',
    '--require=/tmp/evil.js',
    '-e',
    '-/bin/true',
    '@/bin/sh',
    '+/bin/sh',
    '!/bin/sh',
    '!!/bin/sh',
    ':/bin/sh',
    '-.slice',
  );

  // Non-ASCII.
  add(
    'unicode',
    'Dæmon',
    '☃',
    '日本語',
    '🚀 rocket',
    'é',
    'e\u0301',
    'שלום',
    '\u202eevil',
    'ＦＵＬＬ＄（ｉｄ）',
    'оpt',
    'İ',
    'ß',
    '\ufffd',
    '\ud800',
    'a\udc00b',
    'Ω≈ç√∫',
    '𝕳𝖊𝖑𝖑𝖔',
    '٣',
    '９',
  );

  // Paths: relative, climbing, absolute, odd.
  add(
    'path',
    '..',
    '.',
    './x',
    '../x',
    '../../../../../../tmp/x',
    '/etc/passwd',
    '/',
    '//',
    '///etc',
    '/./x',
    '/x/.',
    '/x/..',
    '/x/../y',
    '/tmp/../../etc/shadow',
    '/x//y',
    '/x/',
    '/proc/self/fd/0',
    '/dev/null',
    '/run/systemd/notify',
    'file:///etc/passwd',
    '~/x',
    'x/../../y',
    'a/b',
    '/srv/with space',
    '/srv/.hidden',
    '/srv/...',
    '/srv/-dash',
    '/srv/x.service',
  );

  // Lengths: at and past every limit.
  add(
    'long',
    'a'.repeat(199),
    'a'.repeat(200),
    'a'.repeat(201),
    'a'.repeat(4096),
    'a'.repeat(65536),
    '%'.repeat(200),
    '%n'.repeat(100),
    '$'.repeat(200),
    'é'.repeat(200),
    '日'.repeat(201),
    `/${'a'.repeat(255)}`,
    `/${'a'.repeat(256)}`,
    `/${'a/'.repeat(2000)}a`,
    `/run/${'a'.repeat(102)}`,
    `/run/${'a'.repeat(103)}`,
    `/run/${'é'.repeat(51)}`,
    `/run/${'é'.repeat(52)}`,
    'x'.repeat(214),
    'x'.repeat(200),
    `${'a'.repeat(100)}\nExecStartPre=/bin/true`,
  );

  // Values that look like the things the enum and number options take.
  add(
    'lookalike',
    'notify\nExecStartPre=/bin/true',
    'system ',
    ' user',
    'NOTIFY',
    'on-failure;always',
    'strict,none',
    'ts\u0000',
    '10\n',
    '\t10\t',
    '010',
    '1e3',
    '0x10',
    '-1',
    '+5',
    '1.5',
    '3601',
    '99999999999999999999',
    'off\n',
    'yes\n',
    'YES',
    'On',
    'none\n',
    'systemd,sysv\n',
    'systemd,,sysv',
    'tcp:127.0.0.1:8080\nExecStartPre=/bin/true',
  );

  // Socket look-alikes, so the sockets field meets its own syntax.
  add(
    'socket',
    'localhost',
    '999.999.999.999',
    '1.2.3',
    '...',
    '0',
    '65536',
    '[::1]',
    '[::1',
    'a-b.c',
    'unix:',
    'unix:relative',
    'tcp:',
    'udp:9',
    'vsock:1:2',
    '@abstract',
    '127.0.0.1:8080',
    '127.0.0.1:80,unix:/run/x',
  );

  // Names that mean something to systemd or npm.
  add(
    'unit-name',
    'x.service',
    'x@y',
    'x@',
    'init.scope',
    'node_modules',
    'favicon.ico',
    'a..b',
    'x-',
    '0day',
    'a_b',
    '_x',
    'CAPS',
    'dbus',
    'root',
    'nobody',
    'www-data',
    'a'.repeat(31),
    'a'.repeat(32),
  );

  return out;
}

export const CORPUS: readonly HostileInput[] = build();
