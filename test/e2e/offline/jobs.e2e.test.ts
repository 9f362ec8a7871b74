// Job queues in real Chromium: a service worker consumes jobs published by a tab and, stopped
// mid-job over CDP, gets the job back redelivered; with every window closed a `sync` event
// wakes it and it hosts the broker itself to drain a queue; offline (Playwright's
// setOffline) jobs are kept and workers pause, back online they run; a job past its last
// attempt lands in the dead-letter queue with its x-death.
import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp, startHarness, type Harness } from '../harness.js'

const PAGE = 'offline/jobs.html'

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
})
afterAll(async () => {
  await harness?.close()
})

type Local = { type: string; id?: string; attempt?: number; redelivered?: boolean; reason?: string }
type Event = { type: string; jobId: string; attempt: number; redelivered?: boolean; error?: string }

const events = (page: Page, queue: string) => page.evaluate((q) => window.jobs.events(q), queue) as Promise<Event[]>
const local = (page: Page, queue: string) => page.evaluate((q) => window.jobs.local(q), queue) as Promise<Local[]>

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeout = 15_000): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > end) throw new Error(`timed out; last value: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function serviceWorkerSession(page: Page): Promise<{ session: CDPSession; registrationId: () => Promise<string> }> {
  const session = await harness.cdp(page)
  const registrations = new Map<string, string>()
  session.on('ServiceWorker.workerRegistrationUpdated', (event: { registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> }) => {
    for (const r of event.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId)
  })
  await session.send('ServiceWorker.enable')
  return {
    session,
    registrationId: async () => {
      const end = Date.now() + 5000
      while (registrations.size === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      const id = [...registrations.values()][0]
      if (!id) throw new Error('no service worker registration seen over CDP')
      return id
    },
  }
}

describe('job queues in a service worker', () => {
  // Chromium only: stopping a service worker mid-job needs CDP (ServiceWorker.stopAllWorkers).
  it.runIf(hasCdp)('a service worker consumes jobs published by a tab; stopped mid-job, the job comes back redelivered and is done; it publishes jobs too', async () => {
    const page = await harness.openPage(PAGE)
    const opened = await page.evaluate(() => window.jobs.open())
    const registered = await page.evaluate(() => window.jobs.registerSW())
    expect(registered.script).toMatch(/\.js$/) // Vite built the service worker into a module of its own
    // The service worker is a client of the page's broker (elected: no SharedWorker factory here).
    expect(await page.evaluate(() => window.jobs.sw('open'))).toMatchObject({ brokerId: opened.brokerId })
    await page.evaluate(() => window.jobs.watch('sw-jobs'))
    const id = await page.evaluate(() => window.jobs.add('sw-jobs', 'job-A'))

    // The service worker takes the job and sits on it.
    await page.evaluate(() => window.jobs.swStart('work', 'sw-jobs', 'hold', 120_000))
    await until(() => events(page, 'sw-jobs'), (e) => e.some((x) => x.type === 'active' && x.jobId === id))
    expect(await page.evaluate(() => window.jobs.counts('sw-jobs'))).toMatchObject({ waiting: 0, workers: 1 })

    // Stop it mid-job, as the browser does to an idle or runaway service worker.
    const { session } = await serviceWorkerSession(page)
    const stoppedAt = Date.now()
    await session.send('ServiceWorker.stopAllWorkers')
    // Its client lock goes with it: the broker puts the job back.
    await until(() => page.evaluate(() => window.jobs.counts('sw-jobs')), (c) => c.waiting === 1 && c.workers === 0)
    console.log(`service worker stopped mid-job: the job was back in the queue ${Date.now() - stoppedAt} ms later`)

    // A message wakes it again: it gets the job, redelivered, same attempt, and finishes it.
    expect(await page.evaluate(() => window.jobs.sw('work', 'sw-jobs', 'ok', 10_000))).toEqual({ idle: true })
    const active = (await events(page, 'sw-jobs')).filter((e) => e.type === 'active')
    expect(active.map((e) => [e.attempt, e.redelivered ?? false])).toEqual([
      [1, false],
      [1, true],
    ])
    expect(await page.evaluate(() => window.jobs.drain('sw-jobs.done'))).toEqual([
      // (a client here: the page hosts the broker, so the service worker does not stand)
      { data: 'job-A', attempt: 1, redelivered: true, by: 'service-worker', host: 'none' },
    ])

    // Publishing from the service worker: the page's worker runs those jobs.
    await page.evaluate(() => window.jobs.process('from-sw', 'ok'))
    const added = (await page.evaluate(() => window.jobs.sw('add', 'from-sw', ['x', 'y']))) as string[]
    const done = await until(() => local(page, 'from-sw'), (l) => l.filter((x) => x.type === 'completed').length === 2)
    expect(done.filter((x) => x.type === 'completed').map((x) => x.id).sort()).toEqual([...added].sort())
    await session.detach().catch(() => {})
    await page.close()
  })

  // Chromium only: firing `sync` needs CDP (ServiceWorker.dispatchSyncEvent); Firefox has no Background Sync.
  it.runIf(hasCdp)('with every window closed, a sync event wakes the service worker, which hosts the broker from IndexedDB and drains the queue', async () => {
    const page = await harness.openPage(PAGE)
    await page.evaluate(() => window.jobs.open())
    await page.evaluate(() => window.jobs.registerSW())
    for (const n of [1, 2, 3]) await page.evaluate((d) => window.jobs.add('sync-jobs', d), n)
    expect(await page.evaluate(() => window.jobs.counts('sync-jobs'))).toMatchObject({ waiting: 3 })
    // Let the service worker go idle, then close the app: the broker (this tab) goes too.
    const blank = await harness.context.newPage() // a tab of no origin, only for CDP
    const { session, registrationId } = await serviceWorkerSession(blank)
    const registration = await registrationId()
    await session.send('ServiceWorker.stopAllWorkers')
    await page.close()
    // The closed app's SharedWorker broker outlives its last tab by a few ms; a sync event fired
    // before it is gone finds it still serving, and the service worker never stands for election.
    await until(
      async () => ((await session.send('Target.getTargets')) as { targetInfos: Array<{ type: string }> }).targetInfos,
      (targets) => !targets.some((target) => target.type === 'shared_worker'),
    )

    await session.send('ServiceWorker.dispatchSyncEvent', { origin: harness.baseUrl, registrationId: registration, tag: 'jobs:sync-jobs', lastChance: false })

    // The app opens again later: the jobs were done by the service worker, none is left.
    await new Promise((r) => setTimeout(r, 500))
    const again = await harness.openPage(PAGE)
    await again.evaluate(() => window.jobs.open())
    const done = await until(
      () => again.evaluate(() => window.jobs.drain('sync-jobs.done')) as Promise<Array<{ data: number; by: string; host: string }>>,
      (list) => list.length > 0,
    )
    const all = [...done]
    while (all.length < 3) {
      await new Promise((r) => setTimeout(r, 100))
      all.push(...((await again.evaluate(() => window.jobs.drain('sync-jobs.done'))) as Array<{ data: number; by: string; host: string }>))
    }
    expect(all.map((d) => d.data).sort()).toEqual([1, 2, 3])
    // Done by the service worker. Whether it hosted the broker itself ('serving') or joined one
    // that started meanwhile depends on when the closed app's broker let go of the lock; hosting
    // by a worker alone is proven in elected.e2e.test.ts.
    expect(all.map((d) => d.by)).toEqual(Array(3).fill('service-worker'))
    expect(await again.evaluate(() => window.jobs.counts('sync-jobs'))).toMatchObject({ waiting: 0, dead: 0 })
    await session.detach().catch(() => {})
    await Promise.all([again.close(), blank.close()])
  })
})

describe('job queues offline', () => {
  it('offline: workers pause (in a dedicated worker too, through the windows relay) and jobs are kept; back online they run; a job past its last attempt is dead-lettered with x-death', async () => {
    const a = await harness.openPage(PAGE)
    const b = await harness.openPage(PAGE)
    await a.evaluate(() => window.jobs.open())
    await b.evaluate(() => window.jobs.open())
    await a.evaluate(() => window.jobs.queue('outbox', { attempts: 2, backoff: 50 }))
    await b.evaluate(() => window.jobs.queue('outbox', { attempts: 2, backoff: 50 }))
    await a.evaluate(() => window.jobs.process('outbox', 'fetch', 2))
    const wi = await a.evaluate(() => window.jobs.spawn())
    await a.evaluate((i) => window.jobs.w(i, 'open'), wi)
    await a.evaluate((i) => window.jobs.w(i, 'process', 'worker-outbox', 'ok'), wi)

    await harness.context.setOffline(true)
    expect(await a.evaluate(() => window.jobs.online())).toBe(false)
    await until(() => a.evaluate(() => window.jobs.workerState('outbox')), (s) => s?.paused === true)
    // Chromium fires no `offline` in workers: this one learnt it from the window's relay.
    await until(() => a.evaluate((i) => window.jobs.w(i, 'workerState', 'worker-outbox'), wi), (s) => (s as { paused: boolean }).paused)

    const ids: string[] = []
    for (const body of ['m1', 'm2', 'm3', 'reject']) ids.push(await b.evaluate((d) => window.jobs.add('outbox', d), body))
    await new Promise((r) => setTimeout(r, 500))
    expect(await b.evaluate(() => window.jobs.counts('outbox'))).toMatchObject({ waiting: 4, workers: 0 })
    expect((await local(a, 'outbox')).filter((x) => x.type === 'active')).toEqual([])

    await harness.context.setOffline(false)
    const outcome = await until(
      () => local(a, 'outbox'),
      (l) => l.filter((x) => x.type === 'completed').length === 3 && l.some((x) => x.type === 'failed'),
    )
    expect(outcome.filter((x) => x.type === 'completed').map((x) => x.id).sort()).toEqual(ids.slice(0, 3).sort())
    expect(outcome.filter((x) => x.type === 'retrying').map((x) => x.id)).toEqual([ids[3]])
    expect(outcome.find((x) => x.type === 'failed')).toMatchObject({ id: ids[3], attempt: 2 })
    expect(outcome.filter((x) => x.type === 'paused' || x.type === 'resumed').map((x) => x.type)).toEqual(['paused', 'resumed'])
    await until(() => a.evaluate((i) => window.jobs.w(i, 'workerState', 'worker-outbox'), wi), (s) => !(s as { paused: boolean }).paused)

    const dead = await until(() => b.evaluate(() => window.jobs.dead('outbox')), (d) => d.length === 1)
    expect(dead[0]).toMatchObject({
      id: ids[3],
      body: 'reject',
      headers: {
        'x-job-attempt': 2,
        'x-job-errors': ['Error: HTTP 422: the server refused the job'],
        'x-death': [expect.objectContaining({ queue: 'outbox', reason: 'rejected', count: 1 })],
        'x-first-death-queue': 'outbox',
      },
    })
    expect(await b.evaluate(() => window.jobs.counts('outbox'))).toMatchObject({ waiting: 0, dead: 1 })
    await Promise.all([a.close(), b.close()])
  })
})

describe('hosting', () => {
  it('a SharedWorker script that fails to load: the connect falls back to an elected host', async () => {
    const page = await harness.openPage(`${PAGE}?badworker=1`)
    const opened = await page.evaluate(() => window.jobs.open('shared://badworker'))
    const host = await until(() => page.evaluate(() => window.jobs.host('badworker')), (h) => h.state !== 'none')
    expect(host).toMatchObject({ state: 'serving', brokerId: opened.brokerId })
    expect(harness.logs.some((line) => /SharedWorker could not be started/.test(line))).toBe(true)
    await page.close()
  })
})
