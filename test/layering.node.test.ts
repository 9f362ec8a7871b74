// Enforces the layering of src/ (see the design): which folder may import which, and that the
// pure layers (engine, protocol) never reach for host APIs. Parses with Vite's TypeScript
// parser, so comments and strings never count, and type-only imports count like any other.
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAst } from 'vite'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

interface Violation {
  file: string
  line: number
  message: string
}

/** Host globals the pure layers must not touch: time, scheduling, DOM, storage, messaging. */
const FORBIDDEN_IN_PURE = new Set([
  'window', 'document', 'indexedDB', 'postMessage', 'setTimeout', 'setInterval', 'navigator',
  'BroadcastChannel', 'MessageChannel', 'localStorage',
  'self', 'globalThis', 'clearTimeout', 'clearInterval', 'setImmediate', 'requestAnimationFrame',
  'performance', 'process', 'location', 'fetch', 'Worker', 'SharedWorker', 'MessagePort',
  'IDBKeyRange', 'sessionStorage',
])

type Node = { type: string; start: number; end: number; [key: string]: unknown }

/** Folder of a src-relative path ('engine/x.ts' → 'engine'); top-level files map to ''. */
function layerOf(srcPath: string): string {
  const parts = srcPath.split('/')
  return parts.length > 1 ? parts[0]! : ''
}

/** May a file in `from` (src-relative) import `target`, a src-relative path without extension? */
function allowedTarget(from: string, target: string): string | undefined {
  const layer = layerOf(from)
  const to = layerOf(target)
  switch (layer) {
    case 'protocol':
      return to === 'protocol' ? undefined : 'protocol may import only protocol'
    case 'engine':
      return to === 'engine' || to === 'protocol' || target === 'storage/types'
        ? undefined : 'engine may import only engine, protocol and storage/types'
    case 'storage':
      return to === 'storage' || to === 'protocol' ? undefined : 'storage may import only storage and protocol'
    case 'transport':
      return to === 'transport' || to === 'protocol' ? undefined : 'transport may import only transport and protocol'
    case 'client':
      return to === 'engine' || to === 'storage' || to === 'hosts'
        ? 'client must not import engine, storage or hosts' : undefined
    case 'remote':
      // [remote] The edge to RabbitMQ: the engine reaches it only through the host's wiring.
      return to === 'remote' || to === 'protocol' ? undefined : 'remote may import only remote and protocol'
    case 'jobs':
      // Job queues are client-side: built on the client API, never on the engine.
      return to === 'jobs' || to === 'client' || to === 'protocol' || to === 'transport'
        ? undefined : 'jobs may import only jobs, client, protocol and transport'
    default:
      return undefined
  }
}

/** May a file import the bare (package) specifier `spec`? */
function allowedPackage(from: string, spec: string): string | undefined {
  if (spec.startsWith('node:')) return 'src runs in browsers: no node: imports'
  const layer = layerOf(from)
  const isIdb = spec === 'idb' || spec.startsWith('idb/')
  if (layer === 'storage') {
    if (isIdb && !from.startsWith('storage/indexeddb/')) return 'only storage/indexeddb may import idb'
    return isIdb ? undefined : 'storage may import no package except idb (in storage/indexeddb)'
  }
  if (layer === 'remote') return spec === '@stomp/stompjs' ? undefined : 'remote may import no package but @stomp/stompjs'
  if (layer === 'protocol' || layer === 'engine' || layer === 'transport' || layer === 'jobs') {
    return `${layer} may import no package`
  }
  return undefined
}

function specifiersOf(ast: Node): Array<{ spec: string | undefined; at: number }> {
  const found: Array<{ spec: string | undefined; at: number }> = []
  walk(ast, (node) => {
    let source: unknown
    if (node.type === 'ImportDeclaration' || node.type === 'ExportAllDeclaration' ||
        node.type === 'ExportNamedDeclaration' || node.type === 'ImportExpression' ||
        node.type === 'TSImportType') {
      source = node.source
    } else if (node.type === 'TSExternalModuleReference') {
      source = node.expression
    } else {
      return
    }
    if (source === null || source === undefined) return
    const literal = source as Node & { value?: unknown }
    found.push({
      spec: literal.type === 'Literal' && typeof literal.value === 'string' ? literal.value : undefined,
      at: node.start,
    })
  })
  return found
}

/** Keys under which an Identifier is a name, not a reference to a (global) binding. */
function isNameNotReference(parent: Node | undefined, key: string): boolean {
  if (!parent) return false
  switch (parent.type) {
    case 'MemberExpression':
      return key === 'property' && !parent.computed
    case 'Property':
    case 'PropertyDefinition':
    case 'MethodDefinition':
    case 'AccessorProperty':
    case 'TSPropertySignature':
    case 'TSMethodSignature':
    case 'TSAbstractPropertyDefinition':
    case 'TSAbstractMethodDefinition':
    case 'TSAbstractAccessorProperty':
    case 'ImportAttribute':
      return key === 'key' && !parent.computed
    case 'TSQualifiedName':
      return key === 'right'
    case 'TSImportType':
      return key === 'qualifier'
    case 'ImportSpecifier':
      return key === 'imported'
    case 'ExportSpecifier':
      return key === 'exported'
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return key === 'label'
    case 'TSEnumMember':
      return key === 'id'
    case 'MetaProperty':
      return true
    default:
      return false
  }
}

/**
 * Names the file binds itself (variables, functions, classes, parameters, imports, types):
 * a local `process()` or `location` is not the host global. No scope analysis: a name bound
 * anywhere in the file is exempt everywhere in it, which errs towards fewer false alarms.
 */
function declaredNames(ast: Node): Set<string> {
  const names = new Set<string>()
  const bind = (pattern: unknown): void => {
    const node = pattern as (Node & { name?: string }) | null | undefined
    if (!node || typeof node !== 'object') return
    switch (node.type) {
      case 'Identifier': names.add(node.name!); break
      case 'ObjectPattern': for (const p of node.properties as Node[]) bind(p.type === 'RestElement' ? p.argument : p.value); break
      case 'ArrayPattern': for (const e of node.elements as Node[]) bind(e); break
      case 'RestElement': bind(node.argument); break
      case 'AssignmentPattern': bind(node.left); break
      case 'TSParameterProperty': bind(node.parameter); break
    }
  }
  walk(ast, (node) => {
    switch (node.type) {
      case 'VariableDeclarator': bind(node.id); break
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        bind(node.id)
        for (const param of node.params as Node[]) bind(param)
        break
      case 'ClassDeclaration':
      case 'ClassExpression':
      case 'TSTypeAliasDeclaration':
      case 'TSInterfaceDeclaration':
      case 'TSEnumDeclaration':
        bind(node.id)
        break
      case 'CatchClause': bind(node.param); break
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        bind(node.local)
        break
    }
  })
  return names
}

function walk(node: Node, visit: (node: Node, parent: Node | undefined, key: string) => void,
  parent?: Node, key = ''): void {
  visit(node, parent, key)
  for (const [childKey, value] of Object.entries(node)) {
    if (Array.isArray(value)) {
      for (const item of value) {
        if (item && typeof item === 'object' && typeof item.type === 'string') walk(item, visit, node, childKey)
      }
    } else if (value && typeof value === 'object' && typeof (value as Node).type === 'string') {
      walk(value as Node, visit, node, childKey)
    }
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/** All layering violations in one file; `file` is relative to src/ with '/' separators. */
function checkSource(file: string, text: string): Violation[] {
  const violations: Violation[] = []
  const report = (at: number, message: string) => violations.push({ file, line: lineAt(text, at), message })
  let ast: Node
  try {
    ast = parseAst(text, { lang: file.endsWith('.tsx') ? 'tsx' : 'ts' }) as unknown as Node
  } catch (error) {
    return [{ file, line: 1, message: `cannot parse: ${(error as Error).message}` }]
  }

  for (const { spec, at } of specifiersOf(ast)) {
    if (spec === undefined) {
      report(at, 'import with a non-literal specifier (cannot check its layer)')
    } else if (spec.startsWith('.')) {
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.(d\.ts|[cm]?[jt]sx?)$/, '')
      if (target.startsWith('..')) {
        report(at, `'${spec}' leaves src/`)
        continue
      }
      const problem = allowedTarget(file, target)
      if (problem) report(at, `${problem}: '${spec}'`)
    } else {
      const problem = allowedPackage(file, spec)
      if (problem) report(at, `${problem}: '${spec}'`)
    }
  }

  const layer = layerOf(file)
  if (layer === 'engine' || layer === 'protocol') {
    const declared = declaredNames(ast)
    walk(ast, (node, parent, key) => {
      if (node.type === 'Identifier' || node.type === 'JSXIdentifier') {
        const name = node.name as string
        if (FORBIDDEN_IN_PURE.has(name) && !declared.has(name) && !isNameNotReference(parent, key)) {
          report(node.start, `${layer} must not use the host global '${name}' (inject it instead)`)
        }
      }
      // Wall-clock time: the engine takes time from its injected Clock.
      if (node.type === 'MemberExpression' && !node.computed) {
        const object = node.object as Node & { name?: string }
        const property = node.property as Node & { name?: string }
        if (object.type === 'Identifier' && object.name === 'Date' && property.name === 'now') {
          report(node.start, `${layer} must not read the wall clock (Date.now): use the Clock`)
        }
      }
      if (node.type === 'NewExpression' && (node.callee as Node & { name?: string }).name === 'Date' &&
          (node.arguments as unknown[]).length === 0) {
        report(node.start, `${layer} must not read the wall clock (new Date()): use the Clock`)
      }
    })
  }
  return violations
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(path))
    else if (/\.(m|c)?tsx?$/.test(entry.name)) out.push(path)
  }
  return out
}

/**
 * The engine files a file imports by value (what runs at import time and what a reader must
 * follow): `import type`, and imports whose every specifier is `type`, do not count.
 */
function valueImportsOf(file: string, text: string): string[] {
  const ast = parseAst(text, { lang: 'ts' }) as unknown as Node
  const targets: string[] = []
  for (const node of ast.body as Node[]) {
    if (node.type !== 'ImportDeclaration' && node.type !== 'ExportNamedDeclaration' && node.type !== 'ExportAllDeclaration') continue
    const source = node.source as (Node & { value?: unknown }) | null
    if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) continue
    if (node.importKind === 'type' || node.exportKind === 'type') continue
    const specifiers = (node.specifiers ?? []) as Node[]
    if (specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type')) continue
    targets.push(posix.normalize(posix.join(posix.dirname(file), source.value)).replace(/\.(d\.ts|[cm]?[jt]sx?)$/, ''))
  }
  return targets
}

/** Every import cycle in a graph of files (each cycle once, as a path that returns to its start). */
function cyclesIn(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file)
  return cycles
}

describe('layering of src/', () => {
  it('no value-level import cycle in src/engine/: every dependency between engine modules goes one way', () => {
    const graph = new Map<string, string[]>()
    for (const path of sourceFiles(join(SRC, 'engine'))) {
      const file = relative(SRC, path).split('\\').join('/')
      graph.set(file.replace(/\.ts$/, ''), valueImportsOf(file, readFileSync(path, 'utf8')))
    }
    expect(graph.size).toBeGreaterThan(10)
    const cycles = cyclesIn(graph).map((cycle) => cycle.join(' → '))
    expect(cycles, cycles.join('\n')).toEqual([])
  })

  it('every file respects the import rules and the pure layers use no host globals', () => {
    const files = sourceFiles(SRC)
    expect(files.length).toBeGreaterThan(0)
    const violations = files.flatMap((path) =>
      checkSource(relative(SRC, path).split('\\').join('/'), readFileSync(path, 'utf8')))
    const lines = violations.map((v) => `src/${v.file}:${v.line}: ${v.message}`)
    expect(lines, lines.join('\n')).toEqual([])
  })
})

describe('layering checker (self-test)', () => {
  it('finds value-level cycles and ignores type-only imports', () => {
    const graph = (files: Record<string, string>) =>
      new Map(Object.entries(files).map(([file, text]) => [file.replace(/\.ts$/, ''), valueImportsOf(file, text)]))
    expect(cyclesIn(graph({
      'engine/a.ts': "import { b } from './b.js'",
      'engine/b.ts': "import { c } from './c.js'",
      'engine/c.ts': "import { a } from './a.js'",
    }))).toEqual([['engine/a', 'engine/b', 'engine/c', 'engine/a']])
    expect(cyclesIn(graph({
      'engine/a.ts': "import { b } from './b.js'",
      'engine/b.ts': "import type { A } from './a.js'\nimport { type A2 } from './a.js'\nexport type { A3 } from './a.js'",
    }))).toEqual([])
    expect(cyclesIn(graph({ 'engine/a.ts': "export { b } from './b.js'", 'engine/b.ts': "export * from './a.js'" }))).toHaveLength(1)
  })


  const messages = (file: string, text: string) => checkSource(file, text).map((v) => `${v.line}: ${v.message}`)

  it('accepts allowed imports, comments, strings and property names', () => {
    expect(messages('engine/broker.ts', [
      "import type { Storage } from '../storage/types.js'",
      "import { PROTOCOL_VERSION } from '../protocol/version.js'",
      "import { Queue } from './queue.js'",
      '// setTimeout and window are fine in a comment',
      "/* document.cookie */ const label = 'uses indexedDB and postMessage in a string'",
      'const o = { window: 1, navigator: 2 }',
      'class Port { postMessage(): void {} }',
      'declare const port: { postMessage(m: unknown): void }',
      'port.postMessage(label)',
      'const when = new Date(0)',
    ].join('\n'))).toEqual([])
    expect(messages('client/connection.ts', "import { a } from '../transport/link.js'\nimport 'idb'")).toEqual([])
    expect(messages('storage/indexeddb/db.ts', "import { openDB } from 'idb'")).toEqual([])
    expect(messages('hosts/shared.ts', "import { Broker } from '../engine/broker.js'")).toEqual([])
  })

  it('catches forbidden imports', () => {
    expect(messages('protocol/frames.ts', "import type { X } from '../engine/x.js'")).toEqual([
      "1: protocol may import only protocol: '../engine/x.js'",
    ])
    expect(messages('engine/q.ts', "\nexport * from '../storage/memory.js'")).toEqual([
      "2: engine may import only engine, protocol and storage/types: '../storage/memory.js'",
    ])
    expect(messages('engine/q.ts', "type T = import('../client/index.js').T")).toHaveLength(1)
    expect(messages('engine/q.ts', "const m = await import('../hosts/x.js')")).toHaveLength(1)
    expect(messages('engine/q.ts', "import { x } from 'comlink'")).toHaveLength(1)
    expect(messages('storage/memory.ts', "import { openDB } from 'idb'")).toEqual([
      "1: only storage/indexeddb may import idb: 'idb'",
    ])
    expect(messages('transport/bc.ts', "import { Broker } from '../engine/broker.js'")).toHaveLength(1)
    expect(messages('client/c.ts', "import type { Broker } from '../engine/broker.js'")).toHaveLength(1)
    expect(messages('client/c.ts', "import { memory } from '../storage/memory.js'")).toHaveLength(1)
    expect(messages('client/c.ts', "import { host } from '../hosts/inprocess.js'")).toHaveLength(1)
    expect(messages('client/c.ts', "import { readFile } from 'node:fs'")).toHaveLength(1)
    expect(messages('index.ts', "import x from '../test/x.js'")).toHaveLength(1)
    expect(messages('jobs/q.ts', "import { Broker } from '../engine/broker.js'")).toHaveLength(1)
    expect(messages('jobs/q.ts', "import { electBroker } from '../hosts/elected.js'")).toHaveLength(1)
    expect(messages('jobs/q.ts', "import { Queue } from '../client/queue.js'")).toEqual([])
    expect(messages('engine/q.ts', "import { Remotes } from '../remote/index.js'")).toHaveLength(1)
    expect(messages('remote/shovel.ts', "import { Broker } from '../engine/broker.js'")).toHaveLength(1)
    expect(messages('remote/shovel.ts', "import { openDB } from 'idb'")).toHaveLength(1)
    expect(messages('remote/shovel.ts', "import { Client } from '@stomp/stompjs'\nimport type { ShovelSpec } from '../protocol/remote.js'")).toEqual([])
  })

  it('catches host globals in engine and protocol', () => {
    const bad = [
      'const t = setTimeout(() => {}, 1)',
      'window.addEventListener("x", () => {})',
      'const db = indexedDB.open("x")',
      'postMessage({})',
      'const bc = new BroadcastChannel("x")',
      'const now = Date.now()',
      'const ua = navigator.userAgent',
      'const g = globalThis.setInterval',
      'let c: MessageChannel | undefined',
      'const fn = () => document',
    ].join('\n')
    const found = messages('engine/dispatch.ts', bad)
    for (const line of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      expect(found.some((m) => m.startsWith(`${line}:`)), `line ${line} of the bad sample: ${found.join('; ')}`).toBe(true)
    }
    expect(messages('protocol/x.ts', 'const s = localStorage.getItem("k")')).toHaveLength(1)
    // A name the file binds itself is not the host global.
    expect(messages('engine/x.ts', [
      'function process(m: unknown) { return m }',
      'process(1)',
      'const handle = (location: string) => location',
      "import { performance } from './perf.js'",
      'performance()',
    ].join('\n'))).toEqual([])
    // Other layers may use them.
    expect(messages('transport/bc.ts', 'const bc = new BroadcastChannel("x")')).toEqual([])
  })

  it('resolves relative paths from the importing file', () => {
    expect(messages('storage/indexeddb/store.ts', "import type { Storage } from '../types.js'")).toEqual([])
    expect(messages('engine/sub/deep.ts', "import type { Storage } from '../../storage/types.js'")).toEqual([])
    expect(messages('engine/sub/deep.ts', "import { x } from '../../transport/link.js'")).toHaveLength(1)
  })
})
