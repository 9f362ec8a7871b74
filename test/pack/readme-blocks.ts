// The README's ```ts blocks as files of a user's project. A block whose first line is a comment
// naming a file (`// main.ts — …`) is that file; the others are snippet.ts. Each kind of file
// gets the tsconfig a Vite app gives it: the app (DOM), vite.config.ts (Node), sw.ts (WebWorker).
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number
  /** File name: the one the block names, else 'snippet.ts'. */
  name: string
  kind: 'app' | 'config' | 'service-worker'
  code: string
  /** Uses only memory://, so it can run in Node as is. */
  runnable: boolean
}

export function readmeBlocks(readme: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = []
  const fence = /^```ts\n([\s\S]*?)^```$/gm
  for (let match = fence.exec(readme); match; match = fence.exec(readme)) {
    const code = match[1]!
    const line = readme.slice(0, match.index).split('\n').length
    const name = /^\/\/ ([\w.-]+\.ts)\b/.exec(code)?.[1] ?? 'snippet.ts'
    const kind = name === 'vite.config.ts' ? 'config' : name === 'sw.ts' ? 'service-worker' : 'app'
    const opens = [...code.matchAll(/Connection\.open\(([^)]*)\)/g)].map((m) => m[1])
    const runnable = kind === 'app' && opens.length > 0 && opens.every((url) => url === "'memory://'")
    blocks.push({ line, name, kind, code, runnable })
  }
  return blocks
}

/** The Vite template's compiler options (tsconfig.app.json), with lib checks on. */
export const VITE_APP_OPTIONS = {
  target: 'ES2023',
  lib: ['ES2023', 'DOM', 'DOM.Iterable'],
  module: 'ESNext',
  types: ['vite/client'],
  moduleResolution: 'bundler',
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  moduleDetection: 'force',
  noEmit: true,
  strict: true,
  noFallthroughCasesInSwitch: true,
  noUncheckedSideEffectImports: true,
  erasableSyntaxOnly: true,
  skipLibCheck: false,
}

/** Per kind of file: the options on top of the app's. */
export const KIND_OPTIONS: Record<ReadmeBlock['kind'], object> = {
  app: {},
  // The template's tsconfig.node.json.
  config: { lib: ['ES2023'], types: ['node'] },
  // A service worker's own tsconfig: the worker globals instead of the DOM.
  'service-worker': { lib: ['ES2023', 'WebWorker'], types: [] },
}
