/**
 * The layers of DESIGN.md, checked on the imports of every file under src/ (static `import … from`,
 * `export … from`, `import x = require()`, `import('…')` in code and in types, and `require('…')`):
 *
 *   tensor ← autograd ← nn ← models (src/nn/models) ← experiments ← cli
 *                    ↖ data, optim (beside autograd: tensor and autograd only, nothing of nn)
 *   the init analysis (src/experiments/init-analysis.ts, eqs. 4–9) uses tensor, autograd and nn only:
 *   experiments, cli and the browser wing (the lab's FReLU view) may import it
 *
 * src/node (the platform wing: files, downloads, environment) may be used by experiments and cli
 * and may use everything below experiments; src/util may use only src/util; nothing imports
 * src/cli or the package entry src/index.ts. The core — tensor, autograd, nn with models, optim,
 * data, the init analysis (src/experiments/init-analysis*), src/util/stats.ts and
 * src/util/format.ts, and every file those reach — imports no Node module (node:…, or a bare
 * builtin), nothing in src/node, and reads no `process`
 * global, so that it runs in a browser as it runs in Node.
 *
 * The one deliberate upward edge — src/tensor/tensor.ts's method shortcuts (t.add(), t.backward())
 * into autograd — is allowed by exact file pair, so the circle cannot grow unnoticed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ── the rules, by directory ─────────────────────────────────────────────────────────────────

type Layer = 'tensor' | 'autograd' | 'io' | 'data' | 'optim' | 'nn' | 'models' | 'registry' | 'analysis' | 'experiments' | 'cli' | 'node' | 'util' | 'exports' | 'browser' | 'entry';

/** Where each file belongs: the first prefix that matches (more specific prefixes first). */
const LAYER_OF: readonly (readonly [string, Layer])[] = [
  ['src/tensor/', 'tensor'],
  ['src/autograd/', 'autograd'],
  ['src/io/', 'io'], // weights as bytes (safetensors): the core's, no files
  ['src/data/', 'data'],
  ['src/optim/', 'optim'],
  ['src/nn/models/', 'models'],
  ['src/nn/', 'nn'],
  ['src/ops.ts', 'registry'], // ALL_OPS: the math ops and the network ops
  ['src/experiments/init-analysis.ts', 'analysis'], // eqs. 4–9 measured: part of the core, the lab page draws it too
  ['src/experiments/', 'experiments'],
  ['src/cli/', 'cli'],
  ['src/node/', 'node'],
  ['src/util/', 'util'],
  ['src/core.ts', 'exports'], // the names both entries export
  ['src/browser/', 'browser'], // the browser wing: its entry, gpu.js loader, Node-only stubs, the lab page
  ['src/index.ts', 'entry'],
];

const BELOW_EXPERIMENTS: readonly Layer[] = ['tensor', 'autograd', 'io', 'data', 'optim', 'nn', 'models', 'registry', 'util'];

/** What a file of each layer may import (its own layer included where listed). */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  tensor: ['tensor', 'util'],
  autograd: ['tensor', 'autograd', 'util'],
  io: ['tensor', 'io', 'util'],
  data: ['tensor', 'autograd', 'data', 'util'],
  optim: ['tensor', 'autograd', 'optim', 'util'],
  nn: ['tensor', 'autograd', 'nn', 'util'],
  models: ['tensor', 'autograd', 'nn', 'models', 'util'],
  registry: ['tensor', 'autograd', 'nn'],
  analysis: ['tensor', 'autograd', 'nn', 'util'],
  node: [...BELOW_EXPERIMENTS, 'node'],
  experiments: [...BELOW_EXPERIMENTS, 'analysis', 'node', 'experiments'],
  cli: [...BELOW_EXPERIMENTS, 'analysis', 'node', 'experiments', 'cli'],
  util: ['util'],
  exports: [...BELOW_EXPERIMENTS],
  browser: [...BELOW_EXPERIMENTS, 'analysis', 'exports', 'browser'],
  entry: [...BELOW_EXPERIMENTS, 'analysis', 'exports', 'node', 'experiments'],
};

/** The deliberate upward edges, as exact (importer, imported) pairs. */
const ALLOWED_UPWARD: readonly (readonly [string, string])[] = [
  ['src/tensor/tensor.ts', 'src/autograd/math.ts'], // t.add(), t.matmul(), … call the ops
  ['src/tensor/tensor.ts', 'src/autograd/engine.ts'], // t.backward()
  ['src/tensor/tensor.ts', 'src/autograd/graph.ts'], // the type of t.node (type-only)
];

/** The core: these and every src file they import, directly or not. */
const isCoreRoot = (file: string): boolean =>
  ['src/tensor/', 'src/autograd/', 'src/nn/', 'src/optim/', 'src/data/', 'src/experiments/init-analysis'].some((p) => file.startsWith(p)) ||
  file === 'src/core.ts' ||
  file === 'src/util/stats.ts' ||
  file === 'src/util/format.ts';

/** Modules of the Node wing that the core may not import. */
const NODE_WING = (file: string): boolean => file.startsWith('src/node/');

/** npm packages that exist for Node only; they belong in src/node. */
const NODE_ONLY_PACKAGES = ['tar'];

// ── reading imports ─────────────────────────────────────────────────────────────────────────

interface Import {
  /** As written: './shape.js', 'node:fs', 'gpu.js'. */
  specifier: string;
  line: number;
  kind: 'import' | 'export' | 'dynamic import' | 'type import' | 'require';
}

/** Every module a source text imports, found on its syntax tree (comments and strings are not imports). */
function importsOf(fileName: string, text: string): Import[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Import[] = [];
  const add = (node: ts.Node, literal: ts.Node | undefined, kind: Import['kind']): void => {
    if (literal && ts.isStringLiteralLike(literal)) {
      found.push({ specifier: literal.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, kind });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ? 'type import' : 'import');
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, 'export');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression, 'require');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, 'type import');
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], 'dynamic import');
    else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') add(node, node.arguments[0], 'require');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Lines where a source text reads the `process` global (process.env, process.stdout, typeof process …). */
function processReads(fileName: string, text: string): number[] {
  return globalReads(fileName, text, ['process']);
}

/** The browser's globals: the core reads none of them (they belong in src/browser). */
const BROWSER_GLOBALS = ['window', 'document', 'navigator', 'self', 'location', 'OffscreenCanvas', 'HTMLCanvasElement', 'importScripts', 'Worker', 'localStorage', 'fetch'];

/** Lines where a source text reads one of the global `names` (as an identifier, not a property or a declaration). */
function globalReads(fileName: string, text: string, names: readonly string[]): number[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  // A name the file declares itself (`const window = …` in a pooling kernel) is not the global.
  const declared = new Set<string>();
  const collect = (node: ts.Node): void => {
    if ((ts.isVariableDeclaration(node) || ts.isParameter(node)) && ts.isIdentifier(node.name) && names.includes(node.name.text) && node.name.text !== 'process') declared.add(node.name.text);
    ts.forEachChild(node, collect);
  };
  collect(source);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && names.includes(node.text) && !declared.has(node.text)) {
      const parent = node.parent;
      const isMemberName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      const viaGlobal = ts.isPropertyAccessExpression(parent) && parent.name === node && ts.isIdentifier(parent.expression) && parent.expression.text === 'globalThis';
      if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent) || ts.isTypeReferenceNode(parent)) return;
      const isDeclaredName = (ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isPropertySignature(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent) || ts.isFunctionDeclaration(parent)) && parent.name === node;
      if (viaGlobal || (!isMemberName && !isDeclaredName)) lines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lines;
}

const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.isFile() && e.name.endsWith('.ts') ? [path] : [];
  });
}

const FILES = sourceFiles('src').sort();
const FILE_SET = new Set(FILES);

/** The src file a relative specifier names ('./shape.js' → 'src/tensor/shape.ts'), or null when there is none. */
function resolveRelative(from: string, specifier: string): string | null {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => FILE_SET.has(c)) ?? null;
}

interface Edge extends Import {
  from: string;
  /** The src file imported, for relative specifiers. */
  to: string | null;
}

const EDGES: Edge[] = FILES.flatMap((from) =>
  importsOf(from, readFileSync(join(ROOT, from), 'utf8')).map((imp) => ({
    ...imp,
    from,
    to: imp.specifier.startsWith('.') ? resolveRelative(from, imp.specifier) : null,
  })),
);

const layerOf = (file: string): Layer | undefined => LAYER_OF.find(([prefix]) => file === prefix || (prefix.endsWith('/') && file.startsWith(prefix)))?.[1];
const where = (e: Edge): string => `${e.from}:${e.line} ${e.kind}s '${e.specifier}'${e.to && e.to !== e.specifier ? ` (${e.to})` : ''}`;

function report(violations: string[], rule: string): void {
  assert.ok(violations.length === 0, `${violations.length} violation${violations.length === 1 ? '' : 's'} of "${rule}":\n  ${violations.join('\n  ')}`);
}

// ── the checks ─────────────────────────────────────────────────────────────────────────────

test('the import reader finds imports in code and types, and none in comments or strings', () => {
  const text = [
    "/** import * as g from 'gradlab'; */",
    "// import { x } from './commented.js';",
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export { c } from './c.js';",
    "export * from './d.js';",
    "const e = await import('./e.js');",
    "type F = import('./f.js').F;",
    "import g = require('g');",
    "const h = require('node:h');",
    "const s = \"import { no } from './no.js'\";",
    'if (process.env.X) console.log(process.stdout, globalThis.process);',
    'const o = { process: 1 }; o.process;',
  ].join('\n');
  assert.equal(
    importsOf('x.ts', text).map((i) => `${i.line} ${i.kind} ${i.specifier}`),
    ['3 import ./a.js', '4 type import ../b.js', '5 export ./c.js', '6 export ./d.js', '7 dynamic import ./e.js', '8 type import ./f.js', '9 require g', '10 require node:h'],
  );
  assert.equal(processReads('x.ts', text), [12, 12, 12]);
  assert.ok(EDGES.length > 150, `only ${EDGES.length} imports found under src/`);
});

test('every relative import names a file under src/ (an unresolved one would escape the checks below)', () => {
  report(EDGES.filter((e) => e.specifier.startsWith('.') && e.to === null).map((e) => `${where(e)}: no such file under src/`), 'relative imports resolve');
});

test('every file under src/ belongs to a layer', () => {
  report(FILES.filter((f) => layerOf(f) === undefined).map((f) => `${f}: no layer (add its folder to LAYER_OF in test/layers.test.ts)`), 'every file has a layer');
});

test('imports point down: tensor ← autograd ← nn ← models ← experiments ← cli; data and optim beside autograd, knowing nothing of nn', () => {
  const allowed = new Set(ALLOWED_UPWARD.map(([a, b]) => `${a} → ${b}`));
  const violations = EDGES.flatMap((e) => {
    const from = layerOf(e.from);
    const to = e.to === null ? undefined : layerOf(e.to);
    if (from === undefined || to === undefined || e.to === null || MAY_IMPORT[from].includes(to) || allowed.has(`${e.from} → ${e.to}`)) return [];
    if (to === 'cli' || to === 'entry') return []; // the next test's rule
    return [`${where(e)}: ${from} may import only ${MAY_IMPORT[from].join(', ')}; ${e.to} is ${to}`];
  });
  report(violations, 'imports point down the layers');
});

test('nothing imports src/cli (but src/cli) or the package entry src/index.ts', () => {
  const violations = EDGES.filter((e) => e.to !== null && ((e.to.startsWith('src/cli/') && !e.from.startsWith('src/cli/')) || e.to === 'src/index.ts')).map(
    (e) => `${where(e)}: ${e.to === 'src/index.ts' ? 'the entry is for users, not for gradlab itself' : 'the cli sits on top'}`,
  );
  report(violations, 'nothing imports src/cli or src/index.ts');
});

test('the allowed upward edges still exist (a stale entry is removed, not kept)', () => {
  const present = new Set(EDGES.map((e) => `${e.from} → ${e.to}`));
  report(ALLOWED_UPWARD.filter(([a, b]) => !present.has(`${a} → ${b}`)).map(([a, b]) => `${a} → ${b} is allowed but no longer imported`), 'the allow-list is exact');
});

test('the core imports nothing of Node (node:…, src/node), reads no process global and no browser global', () => {
  // The core is its roots plus every src file they reach: what the core imports is core too.
  const reachedFrom = new Map<string, string>(FILES.filter(isCoreRoot).map((f) => [f, f]));
  for (let queue = [...reachedFrom.keys()]; queue.length > 0; ) {
    const file = queue.pop() ?? '';
    for (const e of EDGES) {
      if (e.from !== file || e.to === null || reachedFrom.has(e.to) || NODE_WING(e.to)) continue;
      reachedFrom.set(e.to, reachedFrom.get(file) ?? file);
      queue.push(e.to);
    }
  }
  const why = (file: string): string => (isCoreRoot(file) ? 'core' : `core, as ${reachedFrom.get(file)} reaches it`);
  const violations: string[] = [];
  for (const e of EDGES) {
    if (!reachedFrom.has(e.from)) continue;
    if (isBuiltin(e.specifier)) violations.push(`${where(e)}: a Node module in the ${why(e.from)}`);
    else if (e.to !== null && NODE_WING(e.to)) violations.push(`${where(e)}: the Node wing, imported by the ${why(e.from)}`);
  }
  for (const file of reachedFrom.keys()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const line of processReads(file, text)) violations.push(`${file}:${line} reads the process global in the ${why(file)}`);
    for (const line of globalReads(file, text, BROWSER_GLOBALS)) violations.push(`${file}:${line} reads a browser global (${BROWSER_GLOBALS.join(', ')}) in the ${why(file)}; that belongs in src/browser`);
  }
  report(violations, 'the core imports nothing of Node and reads no process or browser global');
});

test('packages for Node only (tar) are imported only in src/node', () => {
  const violations = EDGES.filter((e) => NODE_ONLY_PACKAGES.includes(e.specifier) && layerOf(e.from) !== 'node').map((e) => `${where(e)}: a Node-only package outside src/node`);
  report(violations, 'Node-only packages live in src/node');
});

test.run();
