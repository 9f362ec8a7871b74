// The console against the real thing: the demo app in two tabs and the console in a
// third, all on the broker in the origin's SharedWorker. The console must show what the app
// does (counts, rates, consumers, clients) and what it does must reach the app. Also: every
// tutorial page runs in the browser, and the README's screenshots are taken here.
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine, startHarness, type Harness } from '../harness.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
// The README's pictures are rewritten only on request (WARREN_SCREENSHOTS=1), so that a test
// run never leaves tracked files changed; otherwise they go to the ignored test-results/.
const DOCS = fileURLToPath(new URL(process.env.WARREN_SCREENSHOTS ? '../../../docs/' : '../../../test-results/', import.meta.url))
const TUTORIALS = ['01-hello-world', '02-work-queues', '03-publish-subscribe', '04-routing', '05-topics', '06-rpc']
const APP = 'demo/index.html?console=0'
const CONSOLE = 'demo/console/index.html'

type Demo = Window['demo']

/** The console redraws once a second, on two busy cores: give it time. */
const until = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout, interval: 100 })

describe('management console', () => {
  let harness: Harness
  let console_: Page
  let a: Page
  let b: Page

  beforeAll(async () => {
    harness = await startHarness({
      root: REPO,
      pages: ['demo/index.html', 'demo/console/index.html', ...TUTORIALS.map((t) => `examples/${t}/index.html`)],
    })
  })
  afterAll(async () => {
    await harness?.close()
  })

  const cell = (page: Page, queue: string, column: string) => page.locator(`tbody[data-queue="${queue}"] td[data-col="${column}"]`)
  /**
   * Types a number into an <input type=number>. Playwright's fill() selects the old value and
   * types over it, but over Firefox's BiDi the selection does not take in a number input and
   * the digits are appended ('1' + fill('2') = '12'): empty it first.
   */
  const setNumber = async (input: Locator, value: number) => {
    await input.clear()
    await input.fill(String(value))
    expect(await input.inputValue()).toBe(String(value))
  }
  const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim()
  /** Runs `fn(window.demo, arg)` in the page (`fn` is sent as source: no closures, pass `arg`). */
  const demo = <R, A = undefined>(page: Page, fn: (demo: Demo, arg: A) => R | Promise<R>, arg?: A) =>
    page.evaluate(`(${fn.toString()})(window.demo, ${JSON.stringify(arg ?? null)})`) as Promise<Awaited<R>>
  const queueOverview = (page: Page, name: string) =>
    page.evaluate((queue) => window.warrenConsole.overview?.queues.find((q) => q.name === queue), name)
  const openApp = async (query = '') => {
    const page = await harness.openPage(`${APP}${query}`)
    await page.evaluate(() => window.demo.ready)
    return page
  }

  it('shows what two app tabs do: exchanges, bindings, queues, counts, rates and clients', async () => {
    console_ = await harness.openPage(CONSOLE)
    a = await openApp('&workers=0')
    b = await openApp('&workers=0')
    await console_.evaluate(() => window.warrenConsole.ready)
    await until(() => text(console_, '[data-testid=status]')).toBe('live')
    // The demo's broker keeps its state in IndexedDB, and the console says so.
    await until(() => text(console_, '[data-testid=storage]')).toBe('storage durable')

    // Chat between the tabs, over the topic exchange.
    await demo(a, (d) => d.sendChat('hello from A'))
    await b.waitForFunction(() => window.demo.chat.some((line) => line.text === 'hello from A'), undefined, { polling: 100 })

    // Five jobs, nobody consuming: the console counts them, and its rates saw them go by.
    await demo(a, (d) => d.addJobs(5))
    await until(() => cell(console_, 'image-jobs', 'ready').textContent()).toBe('5')
    expect(await cell(console_, 'image-jobs', 'total').textContent()).toBe('5')
    expect(await cell(console_, 'image-jobs', 'unacked').textContent()).toBe('0')
    expect(await cell(console_, 'image-jobs', 'consumers').textContent()).toBe('0')
    expect(await text(console_, '[data-total=ready]')).toBe('5')
    await until(async () => (await queueOverview(console_, 'image-jobs'))?.history.reduce((sum, s) => sum + s.counts.publish, 0))
      .toBe(5)
    const jobs = (await queueOverview(console_, 'image-jobs'))!
    // Published within a second or two: the per-second rate of those samples adds up to about 5.
    const rates = jobs.history.map((s) => s.publish).filter((r) => r > 0)
    expect(rates.reduce((x, y) => x + y, 0)).toBeGreaterThan(4)
    expect(rates.reduce((x, y) => x + y, 0)).toBeLessThan(6)
    expect(jobs.counters).toMatchObject({ published: 5, delivered: 0, acked: 0 })

    // Both tabs' chat queues are bound to the chat exchange, and both tabs show as windows.
    await console_.bringToFront()
    await console_.locator('[data-tab=exchanges]').click()
    await console_.locator('tbody[data-exchange="chat"] tr.row').click()
    await until(() => console_.locator('tbody[data-exchange="chat"] [data-binding]').count()).toBe(4)
    await console_.locator('[data-tab=connections]').click()
    const names = await Promise.all([demo(a, (d) => d.name), demo(b, (d) => d.name)])
    for (const name of names) {
      const row = console_.locator('tbody[data-client]', { hasText: `app · ${name}` })
      await until(() => row.locator('[data-kind]').textContent()).toBe('window')
      expect(await row.locator('.live').textContent()).toBe('lock held')
    }
    expect(harness.pageErrors).toEqual([])
  })

  it('acts from the console: get, publish, purge, delete, declare and bind; the app sees it', async () => {
    // Clicks wait for animation frames, which background tabs do not get.
    await console_.bringToFront()
    await console_.locator('[data-tab=queues]').click()
    const jobsRow = console_.locator('tbody[data-queue="image-jobs"]')
    await jobsRow.locator('tr.row').click()

    // Get two messages and requeue them: they stay.
    await jobsRow.locator('[data-testid=queue-get]').click()
    await setNumber(jobsRow.locator('[data-testid=get-count]'), 2)
    await jobsRow.locator('[data-testid=get-mode]').selectOption('requeue')
    await jobsRow.locator('[data-testid=get-submit]').click()
    await until(() => jobsRow.locator('[data-testid=message]').count()).toBe(2)
    expect(await jobsRow.locator('[data-testid=message-body]').first().textContent()).toContain('"steps": 10')
    await console_.evaluate(() => window.warrenConsole.refresh())
    expect(await cell(console_, 'image-jobs', 'ready').textContent()).toBe('5')

    // Get one and ack it: it is gone, and the app's count says so.
    await setNumber(jobsRow.locator('[data-testid=get-count]'), 1)
    await jobsRow.locator('[data-testid=get-mode]').selectOption('ack')
    await jobsRow.locator('[data-testid=get-submit]').click()
    await until(() => cell(console_, 'image-jobs', 'ready').textContent()).toBe('4')
    expect(await demo(a, (d) => d.refreshWaiting())).toBe(4)

    // Publish to the chat exchange from the console: both tabs get it.
    await console_.locator('[data-tab=exchanges]').click()
    const chatRow = console_.locator('tbody[data-exchange="chat"]')
    await chatRow.locator('[data-testid=exchange-publish]').click()
    await chatRow.locator('[data-testid=publish-routing-key]').fill('room.general')
    await chatRow.locator('[data-testid=publish-payload]').fill('{"from": "console", "text": "hi from the console"}')
    await chatRow.locator('[data-testid=publish-submit]').click()
    await console_.locator('[data-testid=toast-ok]', { hasText: "with key 'room.general'" }).waitFor()
    for (const page of [a, b]) await page.waitForFunction(() => window.demo.chat.some((l) => l.text === 'hi from the console' && l.from === 'console'), undefined, { polling: 100 })

    // Purge: the app's queue is empty.
    await console_.locator('[data-tab=queues]').click()
    await jobsRow.locator('[data-testid=queue-purge]').click()
    await jobsRow.locator('[data-testid=queue-purge]').click() // the inline "Sure?"
    await console_.locator('[data-testid=toast-ok]', { hasText: 'Purged 4 messages' }).waitFor()
    await until(() => cell(console_, 'image-jobs', 'ready').textContent()).toBe('0')
    expect(await demo(a, (d) => d.refreshWaiting())).toBe(0)

    // A worker in tab B consumes; the console shows it as a dedicated worker. Delete the queue:
    // the broker cancels the worker's consumer and the app shows that.
    await demo(b, (d) => d.spawnWorker())
    await until(() => cell(console_, 'image-jobs', 'consumers').textContent()).toBe('1')
    const consumer = jobsRow.locator('[data-consumer]')
    expect(await consumer.locator('.kind').textContent()).toBe('dedicated-worker')
    await jobsRow.locator('[data-testid=queue-delete]').click()
    await jobsRow.locator('[data-testid=queue-delete]').click()
    await until(() => console_.locator('tbody[data-queue="image-jobs"]').count()).toBe(0)
    await b.waitForFunction(() => window.demo.workers().some((w) => w.state === 'cancelled'), undefined, { polling: 100 })
    expect(await demo(a, (d) => d.refreshWaiting())).toBe(-1)

    // Declare a queue and bind it to the chat: the app's next message lands in it.
    await console_.locator('[data-testid=add-queue]').click()
    await console_.locator('[data-testid=queue-name]').fill('console-inbox')
    await console_.locator('[data-testid=queue-declare-submit]').click()
    await until(() => console_.locator('tbody[data-queue="console-inbox"]').count()).toBe(1)
    expect(await console_.locator('tbody[data-queue="console-inbox"] [data-queue-type]').count()).toBe(0)
    // A quorum queue from the type select: marked with its type.
    await console_.locator('[data-testid=queue-name]').fill('console-quorum')
    await console_.locator('[data-testid=queue-type-select]').selectOption('quorum')
    await console_.locator('[data-testid=queue-declare-submit]').click()
    await until(() => console_.locator('tbody[data-queue="console-quorum"] [data-queue-type=quorum]').count()).toBe(1)
    await console_.locator('[data-testid=queue-type-select]').selectOption('classic')
    await console_.locator('[data-tab=exchanges]').click()
    await chatRow.locator('[data-testid=exchange-bind]').click()
    await chatRow.locator('[data-testid=bind-destination]').fill('console-inbox')
    await chatRow.locator('[data-testid=bind-routing-key]').fill('room.#')
    await chatRow.locator('[data-testid=bind-submit]').click()
    await until(() => chatRow.locator('[data-binding="console-inbox:room.#"]').count()).toBe(1)
    await demo(a, (d) => d.sendChat('for the console', 'random'))
    await console_.locator('[data-tab=queues]').click()
    await until(() => cell(console_, 'console-inbox', 'ready').textContent()).toBe('1')

    // Unbind it again: the next message passes it by.
    await console_.locator('[data-tab=exchanges]').click()
    await chatRow.locator('[data-binding="console-inbox:room.#"] [data-testid=unbind]').click()
    await until(() => chatRow.locator('[data-binding="console-inbox:room.#"]').count()).toBe(0)
    await demo(a, (d) => d.sendChat('not for the console'))
    await b.waitForFunction(() => window.demo.chat.some((l) => l.text === 'not for the console'), undefined, { polling: 100 })
    await console_.locator('[data-tab=queues]').click()
    await console_.evaluate(() => window.warrenConsole.refresh())
    expect(await cell(console_, 'console-inbox', 'ready').textContent()).toBe('1')

    // And delete it, message and all.
    const inbox = console_.locator('tbody[data-queue="console-inbox"]')
    await inbox.locator('tr.row').click()
    await inbox.locator('[data-testid=queue-delete]').click()
    await inbox.locator('[data-testid=queue-delete]').click()
    await console_.locator('[data-testid=toast-ok]', { hasText: "Deleted queue 'console-inbox' (1 message dropped)" }).waitFor()
    await until(() => inbox.count()).toBe(0)
    expect(harness.pageErrors).toEqual([])
  })

  it('a killed worker\'s job is redelivered; a dead-lettered job is moved back and succeeds', async () => {
    // Fresh app tabs with one worker each (they declare image-jobs again).
    await Promise.all([a.close(), b.close()])
    a = await openApp('&workers=1')
    b = await openApp('&workers=1')
    await a.waitForFunction(() => window.demo.workers().every((w) => w.state === 'idle'), undefined, { polling: 100 })
    await b.waitForFunction(() => window.demo.workers().every((w) => w.state === 'idle'), undefined, { polling: 100 })

    const [id] = await demo(a, (d) => d.addJobs(1, { name: 'slow.png', steps: 20, stepMs: 150 }))
    // Whichever tab's worker took it: kill that worker mid-job, and only that one. (Looking on in
    // the other tab after a kill could find the job already redelivered there and kill its
    // worker too, leaving nobody to finish it: slow round trips under load made that happen.)
    const busy = async (page: Page) => page.evaluate(() => window.demo.workers().find((w) => w.state === 'busy' && w.pct >= 10)?.id)
    const killBusy = async () => {
      for (const page of [a, b]) {
        const worker = await busy(page)
        if (worker !== undefined) return page.evaluate((w) => window.demo.killWorker(w), worker)
      }
      return undefined
    }
    await until(killBusy, 15_000).toBeDefined()
    // The broker learns of the death from the worker's released lock and redelivers the job.
    await a.waitForFunction((job) => window.demo.jobs().some((j) => j.id === job && j.state === 'done' && j.redelivered), id, { polling: 100, timeout: 20_000 })
    await until(async () => (await queueOverview(console_, 'image-jobs'))?.counters.redelivered).toBe(1)

    // A poison job is rejected and dead-lettered; moving it back from the console fixes it.
    const [poison] = await demo(a, (d) => d.addJobs(1, { name: 'corrupt.png', poison: true, steps: 4, stepMs: 50 }))
    await until(() => cell(console_, 'image-jobs.dead', 'ready').textContent(), 15_000).toBe('1')
    await console_.bringToFront()
    const deadRow = console_.locator('tbody[data-queue="image-jobs.dead"]')
    await deadRow.locator('tr.row').click()
    await deadRow.locator('[data-testid=queue-get]').click()
    await deadRow.locator('[data-testid=get-submit]').click()
    await until(() => deadRow.locator('[data-testid=message]').count()).toBe(1)
    expect(await deadRow.locator('[data-testid=message]').textContent()).toContain('x-death')
    await deadRow.locator('[data-testid=queue-move]').click()
    expect(await deadRow.locator('[data-testid=move-destination]').inputValue()).toBe('image-jobs')
    await deadRow.locator('[data-testid=move-submit]').click()
    await console_.locator('[data-testid=toast-ok]', { hasText: "Moved 1 message from 'image-jobs.dead' to 'image-jobs'" }).waitFor()
    await a.waitForFunction((job) => window.demo.jobs().some((j) => j.id === job && j.state === 'done' && j.retried), poison, { polling: 100, timeout: 15_000 })
    expect(await cell(console_, 'image-jobs.dead', 'ready').textContent()).toBe('0')
    expect(harness.pageErrors).toEqual([])
  })

  // Chromium only: the README's pictures are Chromium's; taking them again per engine adds time, not coverage.
  it.runIf(engine === 'chromium')('takes the README screenshots: the console with live data, light and dark, and the demo', async () => {
    await mkdir(DOCS, { recursive: true })
    // New pages first, then close the old ones: a tab stays open throughout, so the broker
    // (and its rate history) lives on, and a console opened now still shows the last minute.
    const old = [a, b, console_]
    a = await openApp('&workers=2')
    b = await openApp('&workers=1')
    console_ = await harness.openPage(CONSOLE)
    await Promise.all(old.map((page) => page.close()))
    await console_.setViewportSize({ width: 1360, height: 860 })
    await demo(a, (d) => d.sendChat('Anyone seen the harbor photos?'))
    await demo(b, (d) => d.sendChat('Processing them now', 'random'))

    // Two dozen seconds of work arriving faster than three workers finish it; one poison job;
    // one worker killed mid-job (its job comes back redelivered) and replaced.
    for (let second = 0; second < 24; second++) {
      await demo(second % 2 ? a : b, (d, count) => d.addJobs(count, { stepMs: 350 }), second % 3 === 0 ? 1 : 2)
      if (second === 6) await demo(a, (d) => d.addJobs(1, { name: 'corrupt.png', poison: true, steps: 4, stepMs: 200 }))
      if (second === 10) await demo(a, (d) => { d.killWorker(); d.spawnWorker() })
      await a.waitForTimeout(1000)
    }

    await console_.bringToFront()
    await console_.evaluate(() => window.scrollTo(0, 0))
    await console_.waitForTimeout(1200)
    await console_.screenshot({ path: `${DOCS}console.png` })

    await console_.emulateMedia({ colorScheme: 'dark' })
    await console_.locator('tbody[data-queue="image-jobs"] tr.row').click()
    await console_.evaluate(() => window.scrollTo(0, 0))
    await console_.waitForTimeout(1200)
    await console_.screenshot({ path: `${DOCS}console-dark.png` })
    await console_.emulateMedia({ colorScheme: 'light' })

    const demoPage = await harness.openPage('demo/index.html?workers=2')
    await demoPage.setViewportSize({ width: 1500, height: 940 })
    await demoPage.evaluate(() => window.demo.ready)
    await demoPage.evaluate(() => window.demo.sendChat('Two more on the way', 'general'))
    await demoPage.evaluate(() => window.demo.addJobs(2, { stepMs: 400 }))
    await demoPage.bringToFront()
    await demoPage.waitForTimeout(3000)
    await demoPage.screenshot({ path: `${DOCS}demo.png` })
    await demoPage.close()
    expect(harness.pageErrors).toEqual([])
  }, 90_000)

  it(`runs every tutorial page in ${engine}, over the shared broker`, async () => {
    for (const tutorial of TUTORIALS) {
      const page = await harness.openPage(`examples/${tutorial}/index.html`)
      const { lines } = await page.evaluate(() => window.example.run())
      expect(lines.length, tutorial).toBeGreaterThanOrEqual(2)
      expect(await page.locator('#state').textContent(), tutorial).toBe('done')
      await page.close()
    }
    expect(harness.pageErrors).toEqual([])
  })
})

// window.demo and window.warrenConsole are declared by the demo's pages; the tutorials' is here
// (examples/ is not part of the type-checked program).
declare global {
  interface Window {
    example: { run(): Promise<{ lines: string[]; result: unknown }> }
  }
}
