// `npm start`: serves the demo, the console and the tutorials from one Vite dev server on
// 127.0.0.1, and says where to look. Nothing to build first: Vite compiles on request.
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))

const demoHome = (): Plugin => ({
  name: 'warren-demo-home',
  configureServer(server) {
    // The repository root has no page of its own: send visitors to the demo.
    server.middlewares.use((req, res, next) => {
      if (req.url === '/' || req.url === '/index.html') {
        res.statusCode = 302
        res.setHeader('Location', '/demo/')
        res.end()
        return
      }
      next()
    })
    const print = server.printUrls.bind(server)
    server.printUrls = () => {
      print()
      const base = server.resolvedUrls?.local[0]?.replace(/\/$/, '')
      if (!base) return
      console.log(`\n  Warren demo:       ${base}/demo/`)
      console.log(`  Console:           ${base}/demo/console/`)
      console.log(`  Tutorials:         ${base}/examples/\n`)
    }
  },
})

export default defineConfig({
  root,
  plugins: [demoHome()],
  server: { host: '127.0.0.1', port: 5173, open: false },
  // Pre-bundle only what the demo and the tutorials import (not every test page in the repo).
  optimizeDeps: { entries: ['demo/**/*.html', 'examples/**/*.html', '!examples/vite-app/**'] },
  worker: { format: 'es' },
  build: { target: 'es2022' },
})
