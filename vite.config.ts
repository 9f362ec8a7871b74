// Library build: the package's ESM entries, dependencies left as imports for the app's bundler.
// Declarations come from tsc (tsconfig.build.json) into dist/types afterwards.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    lib: {
      entry: {
        warren: src('index.ts'),
        simple: src('simple.ts'),
        rpc: src('rpc.ts'),
        compression: src('compression.ts'),
        jobs: src('jobs/index.ts'),
        worker: src('worker.ts'),
        'worker-sw': src('worker-sw.ts'),
        testing: src('testing/index.ts'),
        console: src('console/index.ts'),
        vite: src('vite.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rolldownOptions: {
      external: [/^idb(\/|$)/, /^comlink(\/|$)/, /^@stomp\/stompjs(\/|$)/],
      output: { chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
  worker: { format: 'es' },
})
