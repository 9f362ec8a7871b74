// The starter (examples/vite-app) as a user gets it: copied into a fresh folder with the packed
// package installed, type-checked strictly (lib checks on), built with `vite build`, and driven
// in Chromium through `vite preview` and the dev server: two tabs chat through the broker's
// SharedWorker, and a dedicated worker runs the durable jobs a tab adds. Its only Vite
// configuration is `plugins: [warren()]`.
import { readdirSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createLogger, createServer, preview, type Logger } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumArgs, chromiumPath } from '../../chromium.js'
import { installWarren, packWarren, REPO, run } from '../../pack/package.js'
import { readmeBlocks } from '../../pack/readme-blocks.js'

const STARTER = join(REPO, 'examples', 'vite-app')

/** A logger that keeps every line Vite prints (to catch "optimized dependencies changed"). */
function recordingLogger(lines: string[]): Logger {
  const logger = createLogger('info', { allowClearScreen: false })
  for (const level of ['info', 'warn', 'error'] as const) {
    const original = logger[level].bind(logger)
    logger[level] = (message, options) => {
      lines.push(message)
      if (level === 'error') original(message, options)
    }
  }
  return logger
}

describe('the Vite starter', () => {
  let tmp: string
  let app: string
  let tarball: string
  let browser: Browser

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'warren-starter-'))
    ;({ tarball } = await packWarren(tmp))
    app = join(tmp, 'app')
    await cp(STARTER, app, { recursive: true, filter: (path) => !/[/\\](node_modules|dist)$/.test(path) })
    await installWarren(app, tarball, ['vite', 'typescript', '@types/node'])
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs })
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  /** Opens two tabs on `url`, chats between them and has a dedicated worker run a job. */
  async function driveTwoTabs(url: string) {
    const context = await browser.newContext()
    const errors: string[] = []
    const navigations = new Map<Page, number>()
    const open = async () => {
      const page = await context.newPage()
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
      page.on('console', (message) => { if (message.type() === 'error') errors.push(`console: ${message.text()}`) })
      page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.set(page, (navigations.get(page) ?? 0) + 1) })
      await page.goto(url)
      await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('connected as'), null, { timeout: 30_000 })
      return page
    }
    try {
      const a = await open()
      const b = await open()
      await b.fill('#chat input', 'hello from B')
      await b.click('#chat button')
      for (const page of [a, b]) {
        await page.waitForFunction(() => [...document.querySelectorAll('#messages li')].some((li) => li.textContent?.endsWith(': hello from B')))
      }
      await a.fill('#jobs input', '21')
      await a.click('#jobs button')
      // Both tabs see the job's completed event; the result was computed in a dedicated worker.
      const results = await Promise.all([a, b].map(async (page) => {
        await page.waitForFunction(() => document.querySelectorAll('#results li').length > 0)
        return page.locator('#results li').first().textContent()
      }))
      for (const text of results) expect(text).toMatch(/: 42 by worker \S+$/)
      expect(a.workers().length + b.workers().length).toBeGreaterThanOrEqual(2)
      const consoleMounted = await a.evaluate(() => (document.querySelector('#console')?.shadowRoot?.childElementCount ?? 0) > 0)
      return { errors, navigations: [...navigations.values()], consoleMounted }
    } finally {
      await context.close()
    }
  }

  it('type-checks strictly and builds with `vite build`', { timeout: 120_000 }, async () => {
    const tools = join(app, 'node_modules', '.bin')
    await run(join(tools, 'tsc'), ['-p', 'tsconfig.json'], app)
    await run(join(tools, 'tsc'), ['-p', 'tsconfig.node.json'], app)
    const out = await run(join(tools, 'vite'), ['build'], app, { timeout: 120_000 })
    expect(out).toMatch(/built in/)
    expect(out).toMatch(/broker\.worker-[\w-]+\.js/)
    expect(out).toMatch(/jobs\.worker-[\w-]+\.js/)
  })

  it('runs from the production build (vite preview): two tabs and a dedicated worker', { timeout: 90_000 }, async () => {
    const server = await preview({ root: app, logLevel: 'error', preview: { host: '127.0.0.1', port: 0 } })
    try {
      const url = server.resolvedUrls!.local[0]!
      // On the scripts too: a service worker's scope is checked against its script's response.
      const worker = readdirSync(join(app, 'dist', 'assets')).find((file) => file.startsWith('broker.worker'))!
      for (const path of ['', `assets/${worker}`]) expect((await fetch(new URL(path, url))).headers.get('service-worker-allowed')).toBe('/')
      const { errors, consoleMounted } = await driveTwoTabs(url)
      expect(errors).toEqual([])
      expect(consoleMounted).toBe(false)
    } finally {
      await server.close()
    }
  })

  it('runs on the dev server without reloading on the first visit, with the console', { timeout: 90_000 }, async () => {
    const lines: string[] = []
    const server = await createServer({
      root: app,
      customLogger: recordingLogger(lines),
      // A fresh dependency cache: the first visit of a new app.
      cacheDir: join(app, 'node_modules', '.vite-e2e'),
      server: { host: '127.0.0.1', port: 0 },
    })
    try {
      await server.listen()
      const url = server.resolvedUrls!.local[0]!
      for (const path of ['', 'src/broker.worker.ts']) expect((await fetch(new URL(path, url))).headers.get('service-worker-allowed')).toBe('/')
      const { errors, navigations, consoleMounted } = await driveTwoTabs(url)
      expect(errors).toEqual([])
      expect(consoleMounted).toBe(true)
      // Each tab loaded once: no "optimized dependencies changed. reloading".
      expect(navigations).toEqual([1, 1])
      expect(lines.filter((line) => /reloading|new dependencies optimized/.test(line))).toEqual([])
    } finally {
      await server.close()
    }
  })

  it("the README's snippets pasted into a fresh Vite app build and run in two tabs, each with its dedicated worker", { timeout: 120_000 }, async () => {
    const pasted = join(tmp, 'readme-app')
    await mkdir(pasted)
    await installWarren(pasted, tarball, ['vite'])
    const files = ['vite.config.ts', 'broker.worker.ts', 'main.ts', 'jobs.worker.ts']
    const blocks = readmeBlocks(readFileSync(join(REPO, 'README.md'), 'utf8')).filter((block) => files.includes(block.name))
    expect(blocks.map((block) => block.name).sort()).toEqual([...files].sort())
    for (const block of blocks) await writeFile(join(pasted, block.name), block.code)
    // The page supplies main.ts's placeholder, and a probe of the test's own counts the
    // consumers the dedicated workers started on their queue.
    await writeFile(join(pasted, 'index.html'), `<!doctype html>
<link rel="icon" href="data:," />
<script>window.rendered = []; window.render = (body) => window.rendered.push(body)</script>
<script type="module" src="/main.ts"></script>
<script type="module" src="/probe.ts"></script>`)
    await writeFile(join(pasted, 'probe.ts'), `import { Connection, Queue } from 'warren'
const conn = await Connection.open({ url: 'shared://', sharedWorker: (name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }) })
const jobs = new Queue('image-jobs', { durable: true }).bind(conn)
const count = async () => { Object.assign(window, { imageJobConsumers: (await jobs.queueDeclare()).consumerCount }); setTimeout(count, 50) }
void count()
`)
    await run(join(pasted, 'node_modules', '.bin', 'vite'), ['build'], pasted, { timeout: 120_000 })
    const server = await preview({ root: pasted, logLevel: 'error', preview: { host: '127.0.0.1', port: 0 } })
    const context = await browser.newContext()
    try {
      const url = server.resolvedUrls!.local[0]!
      const errors: string[] = []
      const open = async () => {
        const page = await context.newPage()
        page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
        await page.goto(url)
        await page.waitForFunction(() => (window as unknown as { rendered: unknown[] }).rendered.length > 0, null, { timeout: 30_000 })
        return page
      }
      const a = await open()
      const b = await open()
      // Each tab's hello reached every tab bound by then: A sees its own and B's.
      await a.waitForFunction(() => (window as unknown as { rendered: unknown[] }).rendered.length === 2)
      expect(await a.evaluate(() => (window as unknown as { rendered: unknown[] }).rendered)).toEqual([{ text: 'hello' }, { text: 'hello' }])
      // Both tabs' dedicated workers joined the broker and consume the durable queue.
      await b.waitForFunction(() => (window as unknown as { imageJobConsumers?: number }).imageJobConsumers === 2)
      expect(errors).toEqual([])
    } finally {
      await context.close()
      await server.close()
    }
  })
})
