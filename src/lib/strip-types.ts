// TypeScript -> JavaScript for the scaffolded sources: the JavaScript
// variant of src/main and test/main is the rendered TypeScript with its type
// syntax deleted, nothing else touched. TypeScript's own emit would re-print
// every statement (blank lines gone, layout changed) and a blank-out
// approach (ts-blank-space) leaves runs of spaces where the types were; the
// user is meant to read and edit this file, so it must look hand-written.
// TypeScript parses (its AST is the reference for what is a type; loaded
// only when a JavaScript project is rendered); the deletions are computed
// here, and a type JavaScript cannot infer (`const servers: http.Server[] =
// []`, a documented function's parameters) is kept as JSDoc.
import { createRequire } from 'node:module';

import type TS from 'typescript';

/**
 * TypeScript, loaded on first use: a static ESM import of it cost 1.3-1.4 s
 * of CPU on every run (--help, TypeScript projects); require() of it on first
 * use costs about 0.35 s, for JavaScript projects only. It is CommonJS, so
 * require() loads it synchronously, as render() needs.
 */
let loaded: typeof TS | undefined;
function typescript(): typeof TS {
  loaded ??= createRequire(import.meta.url)('typescript') as typeof TS;
  return loaded;
}

/** Unsupported syntax: its JavaScript is not "the same text minus types", so the template must not use it. */
export class StripTypesError extends Error {
  constructor(file: string, source: TS.SourceFile, node: TS.Node, what: string) {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    super(
      `${file}:${line + 1}:${character + 1}: ${what} has no type-free JavaScript form; write it without (a plain object, a function) in the template`,
    );
    this.name = 'StripTypesError';
  }
}

interface Edit {
  start: number;
  end: number;
  /** Text put at `start` (a JSDoc line). */
  insert?: string;
}

/**
 * `source` (TypeScript) without its types, as JavaScript. Throws
 * StripTypesError for syntax with runtime meaning (enum, namespace,
 * parameter properties, decorators) and SyntaxError for a parse error: the
 * caller is a template that must be fixed, not an input to guess about.
 */
export function stripTypes(source: string, file = 'input.ts'): string {
  const ts = typescript();
  /** Keyword types a JavaScript reader infers from the value or does not need spelled out. */
  const OBVIOUS = new Set([
    ts.SyntaxKind.StringKeyword,
    ts.SyntaxKind.NumberKeyword,
    ts.SyntaxKind.BooleanKeyword,
    ts.SyntaxKind.UnknownKeyword,
    ts.SyntaxKind.AnyKeyword,
  ]);
  /** Class member modifiers JavaScript has no use for. */
  const TS_ONLY_MODIFIERS = new Set([
    ts.SyntaxKind.PublicKeyword,
    ts.SyntaxKind.PrivateKeyword,
    ts.SyntaxKind.ProtectedKeyword,
    ts.SyntaxKind.ReadonlyKeyword,
    ts.SyntaxKind.OverrideKeyword,
  ]);
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  // The parser's own errors (internal, but stable for years): the public ways to them run a whole emit or a Program.
  // test/generator/strip-types.test.ts proves a parse error is still reported with TypeScript pinned.
  const diagnostics = (sf as unknown as { parseDiagnostics: TS.Diagnostic[] }).parseDiagnostics;
  if (diagnostics.length > 0) {
    const d = diagnostics[0]!;
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    throw new SyntaxError(`${file}:${line + 1}:${character + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  const edits: Edit[] = [];
  const del = (start: number, end: number): void => {
    edits.push({ start, end });
  };
  /** The type-only names: imported with `type`, or declared here as interface/type; JSDoc must spell them otherwise. */
  const typeImports = new Map<string, string>();
  const localTypes = new Set<string>();

  /** From the `:` before `type` to its end: `name: T` -> `name`. */
  const annotation = (type: TS.TypeNode): void => {
    let colon = type.getFullStart() - 1;
    while (colon >= 0 && source[colon] !== ':') colon--;
    // Back over whitespace between the name (or `)`, `?`) and the colon, if any.
    let start = colon;
    while (start > 0 && /[ \t]/.test(source[start - 1]!)) start--;
    del(start, type.end);
  };
  /** `<...>` type parameters or arguments: from the `<` before `list` to the `>` after it. */
  const angle = (list: TS.NodeArray<TS.Node>): void => {
    const open = source.lastIndexOf('<', list.pos);
    const close = source.indexOf('>', list.end);
    del(open, close + 1);
  };
  /** A whole statement, with its JSDoc. */
  const statement = (node: TS.Node): void => del(node.getStart(sf, true), node.end);

  const visit = (node: TS.Node): void => {
    if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) {
      localTypes.add(node.name.text);
      statement(node);
      return;
    }
    if (ts.isEnumDeclaration(node)) throw new StripTypesError(file, sf, node, 'an enum');
    if (ts.isModuleDeclaration(node)) throw new StripTypesError(file, sf, node, 'a namespace');
    if (ts.isDecorator(node)) throw new StripTypesError(file, sf, node, 'a decorator');
    if (ts.isParameter(node) && ts.getModifiers(node)?.some((m) => TS_ONLY_MODIFIERS.has(m.kind))) {
      throw new StripTypesError(file, sf, node, 'a parameter property');
    }
    if (ts.isExportDeclaration(node) && node.isTypeOnly) {
      statement(node);
      return;
    }
    if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isNonNullExpression(node)) {
      del(node.expression.end, node.end);
      unparenthesize(node);
      shorthand(node);
    } else if (ts.isTypeAssertionExpression(node)) {
      throw new StripTypesError(file, sf, node, 'an angle-bracket type assertion (<T>x)');
    }
    if ((ts.isParameter(node) || ts.isPropertyDeclaration(node)) && node.questionToken) del(node.questionToken.pos, node.questionToken.end);
    if (ts.isVariableStatement(node)) jsdocType(node);
    if (ts.isFunctionDeclaration(node)) jsdocParams(node);
    if (
      (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isPropertyDeclaration(node) || ts.isFunctionLike(node)) &&
      node.type
    ) {
      annotation(node.type);
    }
    if ((ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node)) && node.exclamationToken)
      del(node.exclamationToken.pos, node.exclamationToken.end);
    if (ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ImplementsKeyword) {
      del(node.getFullStart(), node.end);
      return;
    }
    for (const modifier of ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : []) {
      if (modifier.kind === ts.SyntaxKind.DeclareKeyword || modifier.kind === ts.SyntaxKind.AbstractKeyword) {
        throw new StripTypesError(file, sf, modifier, `\`${modifier.getText(sf)}\``);
      }
      if (TS_ONLY_MODIFIERS.has(modifier.kind) && !ts.isParameter(node))
        del(modifier.getStart(sf), modifier.end + /^\s*/.exec(source.slice(modifier.end))![0].length);
    }
    if ('typeArguments' in node && node.typeArguments) angle(node.typeArguments as TS.NodeArray<TS.Node>);
    if ('typeParameters' in node && node.typeParameters) angle(node.typeParameters as TS.NodeArray<TS.Node>);
    // Children: types themselves need no visit (their whole range goes).
    ts.forEachChild(node, (child) => {
      if (!ts.isTypeNode(child) || ts.isExpressionWithTypeArguments(child)) visit(child);
    });
  };

  /** `import { a, type B }`: B goes with its comma; an import of types only goes whole. */
  const importDeclaration = (node: TS.ImportDeclaration): void => {
    const clause = node.importClause;
    const module = (node.moduleSpecifier as TS.StringLiteral).text;
    if (!clause) return;
    const bindings = clause.namedBindings;
    const specifiers = bindings && ts.isNamedImports(bindings) ? bindings.elements : undefined;
    if (clause.isTypeOnly) {
      for (const s of specifiers ?? []) typeImports.set(s.name.text, `import('${module}').${(s.propertyName ?? s.name).text}`);
      statement(node);
      return;
    }
    if (!specifiers) return;
    const types = specifiers.filter((s) => s.isTypeOnly);
    for (const s of types) typeImports.set(s.name.text, `import('${module}').${(s.propertyName ?? s.name).text}`);
    if (types.length === 0) return;
    if (types.length === specifiers.length && !clause.name) {
      statement(node);
      return;
    }
    specifiers.forEach((s, i) => {
      if (!s.isTypeOnly) return;
      const next = specifiers[i + 1];
      if (next) {
        del(s.getStart(sf), next.getStart(sf));
      } else if (specifiers.hasTrailingComma) {
        del(s.getStart(sf), source.indexOf(',', s.end) + 1);
      } else {
        // The last one, no trailing comma: take the comma before it instead (`a, type B }` -> `a }`).
        const previous = specifiers[i - 1];
        del(previous ? previous.end : s.getStart(sf), s.end);
      }
    });
  };

  /**
   * `(error as Error).message` -> `error.message`, not `(error).message`; and
   * `(await x) as T` in a position taking any expression -> `await x`.
   */
  const unparenthesize = (node: TS.AsExpression | TS.SatisfiesExpression | TS.NonNullExpression): void => {
    const parent = node.parent;
    if (ts.isParenthesizedExpression(parent) && ts.isLeftHandSideExpression(skipTypes(node.expression))) {
      del(parent.getStart(sf), parent.getStart(sf) + 1);
      del(parent.end - 1, parent.end);
    }
    const inner = node.expression;
    const anyExpression =
      (ts.isVariableDeclaration(parent) && parent.initializer === node) ||
      (ts.isPropertyAssignment(parent) && parent.initializer === node) ||
      ts.isReturnStatement(parent) ||
      ts.isArrayLiteralExpression(parent) ||
      (ts.isCallExpression(parent) && parent.arguments.includes(node as TS.Expression));
    if (anyExpression && ts.isParenthesizedExpression(inner) && !ts.isBinaryExpression(inner.expression)) {
      del(inner.getStart(sf), inner.getStart(sf) + 1);
      del(inner.end - 1, inner.end);
    }
  };
  /** `{ level: level as Priority }` -> `{ level }`, as it would have been written in JavaScript. */
  const shorthand = (node: TS.Expression): void => {
    const parent = node.parent;
    const value = skipTypes(node);
    if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name) && ts.isIdentifier(value) && value.text === parent.name.text) {
      del(parent.name.getStart(sf), value.getStart(sf));
    }
  };
  const skipTypes = (e: TS.Expression): TS.Expression =>
    ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) ? skipTypes(e.expression) : e;

  /**
   * A type as JSDoc spells it in the JavaScript: type-imported names as
   * import('module').Name; undefined when it is an obvious keyword type or
   * names a type declared in this file (that declaration is gone).
   */
  const jsdoc = (type: TS.TypeNode | undefined): string | undefined => {
    if (!type || OBVIOUS.has(type.kind)) return undefined;
    let local = false;
    let text = '';
    const print = (n: TS.Node): void => {
      if (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName)) {
        const name = n.typeName.text;
        if (localTypes.has(name) || declaredLater(name)) local = true;
        text += source.slice(n.getFullStart(), n.typeName.getStart(sf)) + (typeImports.get(name) ?? name);
        n.getChildren(sf).slice(1).forEach(print); // <type arguments>, spelled the same way
        return;
      }
      if (n.getChildCount(sf) === 0) {
        text += source.slice(n.getFullStart(), n.end);
        return;
      }
      n.getChildren(sf).forEach(print);
    };
    print(type);
    return local ? undefined : text.trim();
  };
  const indentAt = (position: number): string => source.slice(source.lastIndexOf('\n', position - 1) + 1, position);

  /**
   * `const servers: http.Server[] = []` -> `/** @type {http.Server[]} *\/`
   * above `const servers = []`: JavaScript would infer any[].
   */
  const jsdocType = (node: TS.VariableStatement): void => {
    const list = node.declarationList.declarations;
    const type = list.length === 1 ? jsdoc(list[0]!.type) : undefined;
    if (!type) return;
    const start = node.getStart(sf);
    edits.push({ start, end: start, insert: `/** @type {${type}} */\n${indentAt(start)}` });
  };

  /**
   * A function that has a doc comment gets @param lines in it for its
   * parameters of a type JavaScript cannot see (`/** Starts it. *\/` over
   * `start(under: Manager, env: Env = {})` -> `@param {Manager} under`,
   * `@param {Env} [env]`); one without a doc comment is left without.
   */
  const jsdocParams = (node: TS.FunctionDeclaration): void => {
    const docs = (node as unknown as { jsDoc?: TS.JSDoc[] }).jsDoc;
    const doc = docs?.[docs.length - 1];
    if (!doc || doc.tags?.length) return;
    const params = node.parameters.flatMap((p) => {
      const type = jsdoc(p.type);
      if (!type || !ts.isIdentifier(p.name)) return [];
      const optional = p.questionToken || p.initializer;
      return [`@param {${type}} ${optional ? `[${p.name.text}]` : p.name.text}`];
    });
    if (params.length === 0) return;
    const start = doc.getStart(sf);
    const indent = indentAt(start);
    const text = source.slice(start, doc.end);
    const oneLine = /^\/\*\*\s*(.*?)\s*\*\/$/.exec(text);
    const body = oneLine
      ? [` * ${oneLine[1]}`]
      : text
          .split('\n')
          .slice(1, -1)
          .map((line) => line.trimStart())
          .map((line) => ` ${line}`);
    const lines = ['/**', ...body, ...params.map((line) => ` * ${line}`), ' */'];
    edits.push({ start, end: doc.end, insert: lines.join(`\n${indent}`) });
  };
  const declaredLater = (name: string): boolean =>
    sf.statements.some((s) => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === name);

  // Imports first: JSDoc spells a type-imported name as import('module').Name.
  sf.statements.filter(ts.isImportDeclaration).forEach(importDeclaration);
  sf.statements.forEach((s) => {
    if (!ts.isImportDeclaration(s)) visit(s);
  });
  return apply(source, edits);
}

/**
 * Applies the deletions (and JSDoc insertions). Newlines and each line's
 * indentation are never deleted, so every line stays a line; one left with
 * nothing but whitespace goes whole, and when that puts two blank lines
 * together (an interface between blank lines) one of them goes too.
 */
function apply(source: string, edits: Edit[]): string {
  const deleted = new Uint8Array(source.length);
  const inserts = new Map<number, string>();
  for (const e of edits) {
    deleted.fill(1, e.start, e.end);
    if (e.insert) inserts.set(e.start, (inserts.get(e.start) ?? '') + e.insert);
  }
  const lines: Array<{ text: string; emptied: boolean }> = [];
  let offset = 0;
  for (const line of source.split('\n')) {
    const indent = line.length - line.trimStart().length;
    let text = line.slice(0, indent);
    for (let i = indent; i < line.length; i++) {
      text += (inserts.get(offset + i) ?? '') + (deleted[offset + i] ? '' : line[i]);
    }
    lines.push({ text: text.trimEnd(), emptied: line.trim() !== '' && text.trim() === '' });
    offset += line.length + 1;
  }
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.emptied) {
      kept.push(lines[i]!.text);
      continue;
    }
    let end = i;
    while (end < lines.length && lines[end]!.emptied) end++;
    const blankBefore = kept.length === 0 || kept[kept.length - 1] === '';
    const blankAfter = end < lines.length && lines[end]!.text === '';
    i = blankBefore && blankAfter ? end : end - 1;
  }
  return kept.join('\n');
}
