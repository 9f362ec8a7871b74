/**
 * Bundle size: each entry built the way an app's bundler ships it (a Vite app build, minified,
 * ESM, its dependencies bundled in, every export of the entry kept), then gzipped (zlib, level 9).
 * "initial" is the entry chunk and every chunk it imports statically: what a page loads
 * before Connection.open(). Chunks behind a dynamic import() (the memory:// host, which
 * carries the whole engine) are counted apart, as "lazy".
 *
 * The package has no side effects at import (package.json's `sideEffects` names only the
 * worker entry, which starts the broker): the app row shows what tree-shaking leaves.
 */
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Rollup } from 'vite'
import type { Results } from './lib/report.js'

const root = fileURLToPath(new URL('..', import.meta.url))

const ENTRIES: Array<{ id: string; label: string; entry: string }> = [
  { id: 'bundle-client', label: "client entry 'warren' (src/index.ts)", entry: 'src/index.ts' },
  { id: 'bundle-app', label: 'an app importing Connection, Exchange, Queue from warren: open shared://, publish, consume', entry: 'bench/pages/bundle-app.ts' },
  { id: 'bundle-app-sync', label: 'the same app without top-level await (its bundler may then merge chunks)', entry: 'bench/pages/bundle-app-sync.ts' },
  { id: 'bundle-worker', label: "worker entry 'warren/worker' (src/worker.ts), idb and comlink included", entry: 'src/worker.ts' },
]

interface Sizes {
  initial: { raw: number; gzip: number }
  lazy: { raw: number; gzip: number }
}

async function size(entry: string): Promise<Sizes> {
  const output = (await build({
    configFile: false,
    root,
    logLevel: 'silent',
    mode: 'production',
    build: {
      write: false,
      target: 'es2022',
      minify: true,
      reportCompressedSize: false,
      // An app build, not library mode: Vite keeps the whitespace of a library's ES output (for
      // the app's bundler to minify later), which an app's own build strips.
      rollupOptions: { input: `${root}/${entry}`, preserveEntrySignatures: 'exports-only' },
    },
  })) as Rollup.RollupOutput | Rollup.RollupOutput[]
  const chunks = (Array.isArray(output) ? output.flatMap((o) => o.output) : output.output).filter((o): o is Rollup.OutputChunk => o.type === 'chunk')
  const byName = new Map(chunks.map((c) => [c.fileName, c]))
  const initial = new Set<string>()
  const visit = (name: string) => {
    if (initial.has(name)) return
    initial.add(name)
    for (const dep of byName.get(name)?.imports ?? []) visit(dep)
  }
  for (const chunk of chunks) if (chunk.isEntry) visit(chunk.fileName)
  const sizes: Sizes = { initial: { raw: 0, gzip: 0 }, lazy: { raw: 0, gzip: 0 } }
  for (const chunk of chunks) {
    const bytes = Buffer.from(chunk.code)
    const part = initial.has(chunk.fileName) ? sizes.initial : sizes.lazy
    part.raw += bytes.length
    part.gzip += gzipSync(bytes, { level: 9 }).length
  }
  return sizes
}

export async function bundles(results: Results): Promise<void> {
  for (const entry of ENTRIES) {
    const { initial, lazy } = await size(entry.entry)
    results.add({ group: 'bundle', id: `${entry.id}:min`, label: `${entry.label}, initial, minified`, size: '', unit: 'KB', better: 'lower', values: [initial.raw / 1000] })
    results.add({ group: 'bundle', id: `${entry.id}:gz`, label: `${entry.label}, initial, minified + gzip`, size: '', unit: 'KB', better: 'lower', values: [initial.gzip / 1000] })
    if (lazy.raw > 0)
      results.add({ group: 'bundle', id: `${entry.id}:lazy-gz`, label: `${entry.label}, lazy chunks (memory:// and elected hosts, rpc, codecs), minified + gzip`, size: '', unit: 'KB', better: 'lower', values: [lazy.gzip / 1000] })
  }
}
