// Builds what `import 'sd-daemon-runtime'` and `require('sd-daemon-runtime')`
// load, after tsc has written the .d.ts files (the public types, unchanged)
// and the per-module .js beside them.
//
// Why: a Node ES module costs what V8 spends parsing its bytes, whether or
// not its functions ever run, and each extra module file about 1.4 million
// instructions more (callgrind, bench/README.md "Floors"). So the entries a
// daemon imports are lean: the constants as literal data, DaemonizeError
// (a class must exist at import, for `instanceof` and `extends`), and for
// every function a stub that loads the implementation on its first call and
// then puts the real functions in place of the stubs (ES exports are live
// bindings: later calls go straight to the implementation).
//
// Layout of dist/ (besides tsc's per-module files and .d.ts):
//   index.js / index.cjs         the lean entries (ES module / CommonJS), generated below
//   sd-impl.js / .cjs            the implementation: everything index.ts exports
//   sd-adopt.js / .cjs           socket activation only (adopt.ts, listen-fds.ts): what
//                                listen() and friends load, so adoption does not parse the rest
//   testing.js / .cjs            the 'sd-daemon-runtime/testing' entry
//   chunk-*.js / .cjs            code several of those share (esbuild's splitting)
// sd-impl, sd-adopt and testing are built in one esbuild run with splitting,
// so every module's state (the watchdog, the notify hook, the kept notify
// socket, the addon) exists once, in one chunk, whichever entry reached it.
// The .cjs files are the same graph converted to CommonJS, for the `require`
// condition: a CommonJS daemon then never starts Node's ES-module loader. An
// ES caller and a CommonJS caller in one process get one copy each (Node's
// dual-package hazard); the runtime's users pick one.
//
// How the lean ES entry loads synchronously: require() through
// module.createRequire, which on Node >= 20.19 loads ES modules (require(esm))
// into the same module map that import() uses, so a stub called
// synchronously and a later import() of testing.js share the same chunks.
// Async functions (listen(), barrier()...) use import() instead: it costs
// less (callgrind: import() of one more module 1.6M instructions, createRequire
// plus the first require(esm) 7.3M).
import { build, transform } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const src = join(root, 'src');

// Chunks are named by content hash: drop the previous build's, or they pile up in the package.
for (const file of readdirSync(dist)) if (/^chunk-.*\.c?js$/.test(file)) rmSync(join(dist, file));

// --- What the entry exports, read from tsc's output of index.ts before it is replaced.
const barrel = await import(`${pathToFileURL(join(dist, 'index.js')).href}?enumerate=${Date.now()}`);
const adoptModules = [
  await import(pathToFileURL(join(dist, 'adopt.js')).href),
  await import(pathToFileURL(join(dist, 'listen-fds.js')).href),
];
const errorsModule = await import(pathToFileURL(join(dist, 'daemonize', 'errors.js')).href);
const shared = new Set(Object.keys(errorsModule));

// The implementation imports DaemonizeError from the lean entry, where it is
// defined: one class, whichever side throws it.
const errorsFromEntry = (entry) => ({
  name: 'daemonize-errors-from-entry',
  setup(b) {
    b.onResolve({ filter: /[/\\]errors\.js$/ }, (args) =>
      resolve(args.resolveDir, args.path) === join(src, 'daemonize', 'errors.js') ? { path: entry, external: true } : undefined,
    );
  },
});

const impl = await build({
  entryPoints: { 'sd-impl': join(src, 'index.ts'), 'sd-adopt': join(src, 'adopt-entry.ts'), testing: join(src, 'testing.ts') },
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Chunks sit beside the entries: native.ts finds the package root as the
  // parent of its own file's directory.
  chunkNames: 'chunk-[hash]',
  plugins: [errorsFromEntry('./index.js')],
  write: false,
  logLevel: 'warning',
});

// --- The lean entry's source: literals, stubs, the shared class.
const lines = [];
const stubs = { impl: [], adopt: [] };
const literal = (value) => {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const body = Array.isArray(value)
    ? `[${value.map(literal).join(', ')}]`
    : `{ ${Object.entries(value)
        .map(([k, v]) => `${JSON.stringify(k)}: ${literal(v)}`)
        .join(', ')} }`;
  return Object.isFrozen(value) ? `Object.freeze(${body})` : body;
};
for (const [name, value] of Object.entries(barrel)) {
  if (shared.has(name)) continue;
  if (typeof value === 'function') {
    if (/^class\b/.test(Function.prototype.toString.call(value))) {
      throw new Error(`bundle.js: ${name} is a class; a class must be defined where the lean entry and the implementation share it (see daemonize/errors.ts)`);
    }
    const part = adoptModules.some((m) => m[name] === value) ? 'adopt' : 'impl';
    const isAsync = value.constructor.name === 'AsyncFunction';
    const params = Array.from({ length: value.length }, (_, i) => `a${i}`);
    const args = [...params, '...more'].join(', ');
    // The stub has the real function's name and length; a caller that kept
    // the stub itself (not the live binding) still reaches the implementation.
    lines.push(
      isAsync
        ? `export async function ${name}(${args}) { return (await loadAsync_${part}()).${name}(${args}); }`
        : `export function ${name}(${args}) { return load_${part}().${name}(${args}); }`,
    );
    stubs[part].push(name);
  } else if (name === 'log') {
    // The default logger is module state: before the implementation loads,
    // `log` forwards to it; once loaded, `log` is the implementation's own.
    // One object literal with accessors: cheaper at import than defining them one by one.
    const accessors = Object.keys(value).map((key) =>
      key === 'level'
        ? 'get level() { return load_impl().log.level; }, set level(v) { load_impl().log.level = v; }'
        : `get ${key}() { return load_impl().log.${key}; }`,
    );
    lines.push(`export let log = { ${accessors.join(', ')} };`);
    stubs.impl.push('log');
  } else if (value !== null && typeof value === 'object' && !isPlainData(value)) {
    throw new Error(`bundle.js: ${name} is neither a function, plain data nor log; the lean entry cannot copy it`);
  } else {
    // Frozen tables (EXIT_CODES, ExitCode) as JSON text: V8 scans a string
    // literal and JSON.parse builds the rows for less than compiling the same
    // data as object literals (callgrind, the three exit-code tables: 1.5M
    // instructions as JSON, 2.3M as literals, 2.7M with a freezing reviver).
    const json = JSON.stringify(value);
    lines.push(
      frozenTable(value) && json.length > 200
        ? `export const ${name} = frozenTable(${JSON.stringify(json)});`
        : `export const ${name} = ${literal(value)};`,
    );
  }
}

/** A frozen object or array whose rows are frozen objects of primitives: what frozenTable() rebuilds. */
function frozenTable(value) {
  const primitive = (v) => v === null || typeof v !== 'object';
  const row = (v) => primitive(v) || (Object.isFrozen(v) && !Array.isArray(v) && Object.values(v).every(primitive));
  return Object.isFrozen(value) && (Array.isArray(value) ? value.every(row) : Object.values(value).every(primitive));
}

function isPlainData(value) {
  if (value === null || typeof value !== 'object') return ['string', 'number', 'boolean', 'undefined'].includes(typeof value);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype) return false;
  return Object.values(value).every(isPlainData);
}

function loaderSource(format) {
  const out = [];
  for (const part of ['impl', 'adopt']) {
    const file = `./sd-${part}.${format === 'esm' ? 'js' : 'cjs'}`;
    const names = stubs[part];
    out.push(
      `let ${part}Module;`,
      `function install_${part}(m) {`,
      `  if (${part}Module === undefined) {`,
      `    ${part}Module = m;`,
      // esbuild's CommonJS output exports getters of these bindings: the same assignment serves both formats.
      names.map((n) => `    ${n} = m.${n};`).join('\n'),
      '  }',
      `  return ${part}Module;`,
      '}',
      `function load_${part}() { return ${part}Module ?? install_${part}(requireHere(${JSON.stringify(file)})); }`,
      format === 'esm'
        ? `async function loadAsync_${part}() { return ${part}Module ?? install_${part}(await import(${JSON.stringify(file)})); }`
        : `async function loadAsync_${part}() { return load_${part}(); }`,
    );
  }
  out.push(
    'function frozenTable(text) { const table = JSON.parse(text); if (Array.isArray(table)) for (const row of table) Object.freeze(row); return Object.freeze(table); }',
  );
  if (format === 'esm') {
    out.push(
      'let requireFunction;',
      // node:module is loaded already once the ESM loader runs; createRequire is not free, so it is made on first use.
      "function requireHere(file) { requireFunction ??= process.getBuiltinModule('node:module').createRequire(import.meta.url); return requireFunction(file); }",
    );
  } else {
    out.push('const requireHere = require;');
  }
  return out.join('\n');
}

const header = (format) =>
  [
    '// Generated by scripts/bundle.js: the lean entry of sd-daemon-runtime.',
    '// Constants are literal data; each function loads the implementation',
    `// (${format === 'esm' ? 'sd-impl.js, or sd-adopt.js for socket activation' : 'sd-impl.cjs, or sd-adopt.cjs'}) on its first call and is`,
    '// then replaced by the real one. See scripts/bundle.js for why.',
  ].join('\n');

async function leanEntry(format) {
  const source = [
    `export { ${[...shared].join(', ')} } from ${JSON.stringify(join(src, 'daemonize', 'errors.ts'))};`,
    ...lines,
    loaderSource(format),
  ].join('\n');
  const result = await build({
    stdin: { contents: source, resolveDir: src, sourcefile: 'index-entry.js', loader: 'js' },
    bundle: true,
    format,
    platform: 'node',
    target: 'node20',
    write: false,
    banner: { js: header(format) },
    external: ['./sd-impl.*', './sd-adopt.*'],
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

// The ES module files: the implementation graph and the lean entry.
for (const file of impl.outputFiles) writeFileSync(file.path, file.text);
writeFileSync(join(dist, 'index.js'), await leanEntry('esm'));

// The same graph as CommonJS: each file converted on its own, its relative
// imports pointed at the .cjs files. import.meta.url (native.ts finds the
// package root with it) becomes the file's own URL.
for (const file of impl.outputFiles) {
  const text = file.text
    .replaceAll('import.meta.url', 'require("node:url").pathToFileURL(__filename).href')
    .replaceAll(/((?:from|import)\s*\(?\s*)"\.\/([^"]+)\.js"/g, '$1"./$2.cjs"');
  const { code } = await transform(text, { format: 'cjs', platform: 'node', target: 'node20', loader: 'js' });
  writeFileSync(file.path.replace(/\.js$/, '.cjs'), code);
}
writeFileSync(join(dist, 'index.cjs'), await leanEntry('cjs'));
