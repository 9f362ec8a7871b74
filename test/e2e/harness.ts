// Multi-tab test harness: builds pages under test/e2e/pages/ with Vite (pages import from src/
// and start SharedWorkers and dedicated workers with `new URL('./x.ts', import.meta.url)`),
// serves the build from a loopback static server with COOP/COEP, and drives Debian's Chromium
// or Firefox ESR (WARREN_E2E_ENGINE, set per vitest project) through playwright-core in a
// persistent context, so IndexedDB lives on disk and survives `restartBrowser()`. One harness
// per test file: build once in beforeAll, close in afterAll.
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, firefox, type BrowserContext, type CDPSession, type Page } from 'playwright-core'
import { build } from 'vite'
import { chromiumArgs, chromiumPath } from '../chromium.js'
import { firefoxPath, firefoxPrefs, shimPlaywrightForFirefox } from '../firefox.js'

export type E2EEngine = 'chromium' | 'firefox'

/** The engine this e2e project drives (the vitest project sets WARREN_E2E_ENGINE). */
export const engine: E2EEngine = process.env.WARREN_E2E_ENGINE === 'firefox' ? 'firefox' : 'chromium'
/** Chrome DevTools Protocol: tab crashes, SharedWorker kills, quota overrides. Chromium only. */
export const hasCdp = engine === 'chromium'

export const PAGES_ROOT = fileURLToPath(new URL('./pages/', import.meta.url))

export interface HarnessOptions {
  /** HTML entries to build, relative to `root` (e.g. 'smoke/index.html'). */
  pages: string[]
  /** Folder the pages live in; defaults to test/e2e/pages. */
  root?: string
  /** Extra Chromium switches (added to the shared defaults). */
  args?: string[]
  /** Extra Firefox prefs (added to the shared defaults). */
  firefoxPrefs?: Record<string, string | number | boolean>
  /** Set WARREN_E2E_HEADED=1 to watch (needs a display). */
  headless?: boolean
  /** Echo page console output to the test's stdout (also WARREN_E2E_DEBUG=1). */
  echoConsole?: boolean
}

export interface Harness {
  readonly engine: E2EEngine
  /** http://127.0.0.1:<port>; stays the same across restartBrowser(), so origins (and their IndexedDB) do too. */
  readonly baseUrl: string
  /** The current browser context; replaced by restartBrowser(). */
  readonly context: BrowserContext
  /** Browser profile folder (IndexedDB, etc.), kept across restartBrowser(). */
  readonly profileDir: string
  /** Console lines and page errors of every page so far, prefixed with the page's path. */
  readonly logs: string[]
  /** Uncaught errors of every page so far (a subset of logs). */
  readonly pageErrors: string[]
  url(path: string): string
  /** Opens a new tab on `path` (relative to the pages root) and waits for its load event. */
  openPage(path: string): Promise<Page>
  /** A Chrome DevTools Protocol session attached to `page` (Target.*, Page.crash, Storage.* ...); Chromium only. */
  cdp(page: Page): Promise<CDPSession>
  /**
   * Closes the whole browser and relaunches it on the same profile: a cold start for durability
   * tests. `firefoxPrefs` replace the ones given at start for this and later launches.
   */
  restartBrowser(changes?: { firefoxPrefs?: Record<string, string | number | boolean> }): Promise<BrowserContext>
  /** Closes the browser and the server and deletes the build and the profile. */
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/** Builds `pages` with Vite into a fresh temp folder; returns that folder. */
export async function buildPages(pages: string[], root = PAGES_ROOT): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'warren-e2e-build-'))
  const input = Object.fromEntries(pages.map((page) => [page.replace(/\.html$/, ''), resolve(root, page)]))
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    mode: 'production',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      sourcemap: true,
      reportCompressedSize: false,
      rolldownOptions: { input },
    },
    worker: { format: 'es' },
  })
  return outDir
}

/** Serves `dir` on 127.0.0.1 with a random port; cross-origin isolated, never cached. */
export async function serveStatic(dir: string): Promise<{ server: Server; baseUrl: string }> {
  const rootDir = resolve(dir)
  const server = createServer(async (req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    }
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
      let file = normalize(join(rootDir, pathname))
      if (file !== rootDir && !file.startsWith(rootDir + sep)) throw new Error('outside root')
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html')
      await stat(file)
      res.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' })
      createReadStream(file).pipe(res)
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' })
      res.end('not found')
    }
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  return { server, baseUrl: `http://127.0.0.1:${port}` }
}

async function launch(profileDir: string, options: HarnessOptions): Promise<BrowserContext> {
  const headless = options.headless ?? process.env.WARREN_E2E_HEADED !== '1'
  if (engine === 'firefox') {
    shimPlaywrightForFirefox()
    return firefox.launchPersistentContext(profileDir, {
      channel: 'moz-firefox',
      executablePath: firefoxPath(),
      headless,
      firefoxUserPrefs: { ...firefoxPrefs, ...options.firefoxPrefs },
    })
  }
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath(),
    headless,
    args: [...chromiumArgs.filter((arg) => headless || arg !== '--headless'), ...(options.args ?? [])],
  })
}

export async function startHarness(initial: HarnessOptions): Promise<Harness> {
  let options = initial
  const echo = options.echoConsole ?? process.env.WARREN_E2E_DEBUG === '1'
  const outDir = await buildPages(options.pages, options.root)
  const { server, baseUrl } = await serveStatic(outDir)
  const profileDir = await mkdtemp(join(tmpdir(), 'warren-e2e-profile-'))
  let context: BrowserContext
  try {
    context = await launch(profileDir, options)
  } catch (error) {
    server.close()
    await Promise.all([rm(outDir, { recursive: true, force: true }), rm(profileDir, { recursive: true, force: true })])
    throw error
  }
  const logs: string[] = []
  const pageErrors: string[] = []
  let closed = false

  const url = (path: string) => new URL(path.replace(/^\/+/, ''), `${baseUrl}/`).href

  const watch = (page: Page, path: string) => {
    page.on('console', (message) => {
      const line = `[${path}] ${message.type()}: ${message.text()}`
      logs.push(line)
      if (echo) console.log(line)
    })
    page.on('pageerror', (error) => {
      const line = `[${path}] pageerror: ${error.stack ?? error.message}`
      logs.push(line)
      pageErrors.push(line)
      if (echo) console.log(line)
    })
  }

  // A persistent context starts with one blank tab: use it for the first page instead of leaving it idle.
  const takeTab = async (): Promise<Page> => {
    const blank = context.pages().find((page) => page.url() === 'about:blank' && !taken.has(page))
    const page = blank ?? (await context.newPage())
    taken.add(page)
    return page
  }
  let taken = new WeakSet<Page>()

  return {
    engine,
    baseUrl,
    get context() { return context },
    profileDir,
    logs,
    pageErrors,
    url,
    async openPage(path) {
      const page = await takeTab()
      watch(page, path)
      await page.goto(url(path), { waitUntil: 'load' })
      return page
    },
    cdp(page) {
      if (!hasCdp) throw new Error(`CDP is Chromium's: this test cannot run in ${engine}`)
      return context.newCDPSession(page)
    },
    async restartBrowser(changes) {
      await context.close()
      taken = new WeakSet<Page>()
      if (changes?.firefoxPrefs) options = { ...options, firefoxPrefs: changes.firefoxPrefs }
      context = await launch(profileDir, options)
      return context
    },
    async close() {
      if (closed) return
      closed = true
      await context.close().catch(() => {})
      await new Promise<void>((done) => { server.close(() => done()); server.closeAllConnections() })
      await Promise.all([
        rm(outDir, { recursive: true, force: true }),
        rm(profileDir, { recursive: true, force: true, maxRetries: 3 }),
      ])
    },
  }
}
