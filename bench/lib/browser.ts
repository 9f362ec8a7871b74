// The browser side of the bench: builds bench/pages with Vite (production, minified, as an
// app ships), serves it from loopback with COOP/COEP (the e2e harness's server), and drives
// Debian's Chromium on a persistent profile (IndexedDB on disk, as in limits.md: an
// off-the-record context keeps IndexedDB in memory and would flatter every durable figure).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core'
import { build } from 'vite'
import { serveStatic } from '../../test/e2e/harness.js'
import { chromiumArgs, chromiumPath } from '../../test/chromium.js'

const PAGES = fileURLToPath(new URL('../pages/', import.meta.url))

async function buildPages(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'warren-bench-build-'))
  await build({
    configFile: false,
    root: PAGES,
    logLevel: 'warn',
    mode: 'production',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: true,
      reportCompressedSize: false,
      rolldownOptions: {
        input: { bench: join(PAGES, 'bench.html'), 'workbox.sw': join(PAGES, 'workbox.sw.ts') },
        // The service worker is registered by a fixed URL.
        output: { entryFileNames: (chunk) => (chunk.name === 'workbox.sw' ? 'workbox.sw.js' : 'assets/[name]-[hash].js') },
      },
    },
    worker: { format: 'es' },
  })
  return outDir
}

export interface Browser {
  tab(i: number): Promise<Page>
  /** A brand-new tab on the bench page (closed by the caller). */
  fresh(): Promise<Page>
  /** Closes every tab and the browser, relaunches on the same profile (every worker starts cold). */
  restart(): Promise<void>
  /** Heap of the broker's SharedWorker (after a GC), through CDP. */
  workerHeap(urlPart: string): Promise<{ used: number; total: number } | undefined>
  readonly errors: string[]
  close(): Promise<void>
}

export async function startBrowser(echo = false): Promise<Browser> {
  const outDir = await buildPages()
  const { server, baseUrl } = await serveStatic(outDir)
  const profileDir = await mkdtemp(join(tmpdir(), 'warren-bench-profile-'))
  const launch = () => chromium.launchPersistentContext(profileDir, { executablePath: chromiumPath(), headless: true, args: chromiumArgs })
  let context: BrowserContext = await launch()
  let tabs: Array<Promise<Page>> = []
  const errors: string[] = []

  const open = async (): Promise<Page> => {
    const blank = context.pages().find((p) => p.url() === 'about:blank' && !used.has(p))
    const page = blank ?? (await context.newPage())
    used.add(page)
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') errors.push(`${message.type()}: ${message.text()}`)
      if (echo) console.log(`[page] ${message.text()}`)
    })
    await page.goto(`${baseUrl}/bench.html`, { waitUntil: 'load' })
    await page.waitForFunction(() => typeof window.bench === 'object')
    return page
  }
  let used = new WeakSet<Page>()

  const tab = (i: number): Promise<Page> => {
    while (tabs.length <= i) tabs.push(open())
    return tabs[i]!
  }

  return {
    errors,
    tab,
    fresh: open,
    async restart() {
      await context.close()
      tabs = []
      used = new WeakSet<Page>()
      context = await launch()
    },
    async workerHeap(urlPart) {
      const page = await tab(0)
      const cdp: CDPSession = await context.newCDPSession(page)
      try {
        const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> }
        const target = targetInfos.find((t) => t.type === 'shared_worker' && t.url.includes(urlPart))
        if (!target) return undefined
        // Playwright's session cannot address a flat child session: use the (older) nested messages.
        const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false })) as { sessionId: string }
        let next = 1
        const call = (method: string) =>
          new Promise<Record<string, unknown>>((resolve) => {
            const id = next++
            const onMessage = (event: { sessionId: string; message: string }) => {
              const reply = JSON.parse(event.message) as { id?: number; result?: Record<string, unknown> }
              if (event.sessionId === sessionId && reply.id === id) {
                cdp.off('Target.receivedMessageFromTarget', onMessage)
                resolve(reply.result ?? {})
              }
            }
            cdp.on('Target.receivedMessageFromTarget', onMessage)
            void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) })
          })
        await call('HeapProfiler.collectGarbage')
        const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number }
        await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {})
        return { used: usage.usedSize, total: usage.totalSize }
      } finally {
        await cdp.detach().catch(() => {})
      }
    },
    async close() {
      await context.close().catch(() => {})
      await new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      })
      await Promise.all([rm(outDir, { recursive: true, force: true }), rm(profileDir, { recursive: true, force: true, maxRetries: 3 })])
    },
  }
}
