// The browser side of the bench: builds bench/pages with Vite (production, minified, as an
// app ships), serves it from loopback with COOP/COEP (the e2e harness's server), and drives
// Debian's Chromium (or Firefox ESR: --browser firefox) on a persistent profile (IndexedDB on
// disk, as in limits.md: an off-the-record context keeps IndexedDB in memory and would flatter
// every durable figure). Heap and CPU profiles go through CDP: Chromium only.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, firefox, type BrowserContext, type CDPSession, type Page } from 'playwright-core'
import { build } from 'vite'
import { serveStatic } from '../../test/e2e/harness.js'
import { chromiumArgs, chromiumPath } from '../../test/chromium.js'
import { firefoxPath, firefoxPrefs, shimPlaywrightForFirefox } from '../../test/firefox.js'

export type BenchEngine = 'chromium' | 'firefox'

const PAGES = fileURLToPath(new URL('../pages/', import.meta.url))

async function buildPages(minify: boolean): Promise<string> {
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
      minify,
      sourcemap: !minify,
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
  /** CPU profile of a SharedWorker while `run` runs: the top functions by self time. */
  profileWorker(urlPart: string, run: () => Promise<unknown>): Promise<string>
  profilePage(page: Page, run: () => Promise<unknown>): Promise<string>
  readonly errors: string[]
  close(): Promise<void>
}

export async function startBrowser(echo = false, minify = true, engine: BenchEngine = 'chromium'): Promise<Browser> {
  const outDir = await buildPages(minify)
  const { server, baseUrl } = await serveStatic(outDir)
  const profileDir = await mkdtemp(join(tmpdir(), 'warren-bench-profile-'))
  if (engine === 'firefox') shimPlaywrightForFirefox()
  const launch = () =>
    engine === 'firefox'
      ? firefox.launchPersistentContext(profileDir, { channel: 'moz-firefox', executablePath: firefoxPath(), headless: true, firefoxUserPrefs: firefoxPrefs })
      : chromium.launchPersistentContext(profileDir, { executablePath: chromiumPath(), headless: true, args: chromiumArgs })
  let context: BrowserContext = await launch()
  let tabs: Array<Promise<Page>> = []
  const errors: string[] = []

  const open = async (): Promise<Page> => {
    const blank = context.pages().find((p) => p.url() === 'about:blank' && !used.has(p))
    const page = blank ?? (await context.newPage())
    used.add(page)
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
    page.on('response', (response) => {
      if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`)
    })
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

  /**
   * A CDP session on a SharedWorker. Playwright's session cannot address a flat child
   * session, so this uses the nested Target.sendMessageToTarget messages.
   */
  const workerSession = async (urlPart: string) => {
    if (engine !== 'chromium') return undefined
    const cdp: CDPSession = await context.newCDPSession(await tab(0))
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> }
    const target = targetInfos.find((t) => t.type === 'shared_worker' && t.url.includes(urlPart))
    if (!target) {
      await cdp.detach().catch(() => {})
      return undefined
    }
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false })) as { sessionId: string }
    let next = 1
    const call = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = next++
        const onMessage = (event: { sessionId: string; message: string }) => {
          const reply = JSON.parse(event.message) as { id?: number; result?: Record<string, unknown>; error?: { message: string } }
          if (event.sessionId !== sessionId || reply.id !== id) return
          cdp.off('Target.receivedMessageFromTarget', onMessage)
          if (reply.error) reject(new Error(`${method}: ${reply.error.message}`))
          else resolve(reply.result ?? {})
        }
        cdp.on('Target.receivedMessageFromTarget', onMessage)
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) })
      })
    const detach = async () => {
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {})
      await cdp.detach().catch(() => {})
    }
    return { call, detach }
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
      const session = await workerSession(urlPart)
      if (!session) return undefined
      try {
        await session.call('HeapProfiler.collectGarbage')
        const usage = (await session.call('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number }
        return { used: usage.usedSize, total: usage.totalSize }
      } finally {
        await session.detach()
      }
    },
    async profileWorker(urlPart, run) {
      const session = await workerSession(urlPart)
      if (!session) throw new Error(`no shared worker matching ${urlPart}`)
      try {
        await session.call('Profiler.enable')
        await session.call('Profiler.setSamplingInterval', { interval: 200 })
        await session.call('Profiler.start')
        await run()
        const { profile } = (await session.call('Profiler.stop')) as { profile: CpuProfile }
        return summarize(profile)
      } finally {
        await session.detach()
      }
    },
    async profilePage(page, run) {
      const cdp = await context.newCDPSession(page)
      try {
        await cdp.send('Profiler.enable')
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
        await cdp.send('Profiler.start')
        await run()
        const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile }
        return summarize(profile)
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

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>
  samples?: number[]
  timeDeltas?: number[]
}

/** Top 25 functions by self time, as text. */
function summarize(profile: CpuProfile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  let total = 0
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!)
    if (!node) continue
    const dt = deltas[i + 1] ?? deltas[i] ?? 0
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || '(anonymous)'} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
    total += dt
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)
  return top.map(([key, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}% ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`).join('\n')
}
