// The elected host in one Node process: "contexts" are lock views of one in-memory lock
// manager (with query(), like navigator.locks), all on Node's BroadcastChannel and one
// storage (IndexedDB is shared by an origin's contexts). A context that hosts is killed by
// stopping its broker and releasing its locks, and another candidate takes over.
import { afterEach, describe, expect, it } from 'vitest'
import { Connection, Queue, type Message } from '../../src/index.js'
import { createElectedBroker, type ElectedBroker } from '../../src/hosts/elected.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { connectShared } from '../../src/transport/shared.js'
import type { LockManagerLike } from '../../src/transport/locks.js'
import type { ConnectOptions } from '../../src/transport/link.js'
import { FakeLocks } from '../transport/fake-locks.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

let vhostSeq = 0
const freshVhost = () => `elected-${process.pid}-${++vhostSeq}`

/** A FakeLocks context that can also answer query(), as navigator.locks does. */
function lockContext(locks: FakeLocks): LockManagerLike & { kill(): void; query(): Promise<{ held: Array<{ name: string }> }> } {
  const ctx = locks.context()
  return Object.assign(ctx, { query: async () => ({ held: locks.held().map((name) => ({ name })) }) })
}

interface Ctx {
  locks: ReturnType<typeof lockContext>
  candidate: ElectedBroker | undefined
  elections: number
}

/** One simulated context of the origin: its own locks and, once it stands, its own candidate. */
function context(locks: FakeLocks, vhost: string, storage: MemoryStorage): Ctx & { connect(host?: ConnectOptions['host']): Promise<Connection> } {
  const ctx: Ctx = { locks: lockContext(locks), candidate: undefined, elections: 0 }
  const elect = async (v: string) => {
    ctx.elections++
    ctx.candidate ??= electPrivate(v, ctx.locks, storage)
  }
  return Object.assign(ctx, {
    async connect(host: ConnectOptions['host'] = 'elected') {
      const conn = await Connection.open({
        url: `shared://${vhost}`,
        connectTimeout: 3000,
        requestTimeout: 3000,
        host,
        transport: (options) => connectShared({ ...options, locks: ctx.locks, elect }),
      })
      cleanup.push(() => conn.close())
      return conn
    },
  })
}

/** A candidate of this simulated context (electBroker keeps one per realm, and Node runs every "context" in one). */
function electPrivate(vhost: string, locks: LockManagerLike, storage: MemoryStorage): ElectedBroker {
  const candidate = createElectedBroker(vhost, { locks, storage: () => storage, management: false })
  cleanup.push(() => candidate.stop())
  return candidate
}

const until = async (check: () => boolean, timeout = 3000) => {
  const end = Date.now() + timeout
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('elected broker host', () => {
  it('one candidate serves; when it stops the next takes over, recovers, bumps the epoch, and clients resume', async () => {
    const locks = new FakeLocks()
    const vhost = freshVhost()
    const storage = new MemoryStorage()
    const x = context(locks, vhost, storage)
    x.candidate = electPrivate(vhost, x.locks, storage)
    const first = await x.candidate.elected
    expect(x.candidate.state).toBe('serving')

    const b = context(locks, vhost, storage)
    const c = context(locks, vhost, storage)
    const cb = await b.connect()
    const cc = await c.connect()
    expect(cb.brokerId).toBe(first.broker.brokerId)
    expect(cc.brokerId).toBe(first.broker.brokerId)
    expect(b.candidate?.state).toBe('waiting')
    expect(c.candidate?.state).toBe('waiting')

    const jobs = new Queue<number>('elected-jobs', { durable: true })
    const producer = cc.producer<number>()
    for (let i = 0; i < 10; i++) await producer.publish(i, { routingKey: 'elected-jobs', declare: [jobs] })
    // b takes 3 and holds them unacked.
    const heldByB: Message<number>[] = []
    const consumer = cb.consumer<number>(jobs, { prefetch: 3, onMessage: (m) => void heldByB.push(m) })
    await consumer.consume()
    await until(() => heldByB.length === 3)
    expect(heldByB.some((m) => m.redelivered)).toBe(false)

    // The host goes away: b's candidate (queued first) takes over; neither b nor c needs to
    // send anything to notice: the new host tells them.
    await x.candidate.stop()
    const second = await b.candidate!.elected
    expect(second.broker.epoch).toBeGreaterThan(first.broker.epoch)
    expect(second.told).toBe(2)
    await until(() => cb.brokerId === second.broker.brokerId && cc.brokerId === second.broker.brokerId)
    await cb.whenReady()
    await cc.whenReady()
    expect(c.candidate?.state).toBe('waiting')

    // Nothing lost: the 10 confirmed persistent messages, the 3 unacked ones redelivered.
    await until(() => heldByB.length >= 6)
    const after = heldByB.slice(3)
    expect(after.map((m) => m.body)).toEqual([0, 1, 2])
    expect(after.every((m) => m.redelivered)).toBe(true)
    await consumer.cancel()
    for (const m of after) m.ack()
    const rest: number[] = []
    const drain = cc.consumer<number>(jobs, { onMessage: (m) => { rest.push(m.body); m.ack() } })
    await drain.consume()
    await until(() => rest.length === 7)
    expect(rest).toEqual([3, 4, 5, 6, 7, 8, 9])

    // And once more: c takes over from b.
    await b.candidate!.stop()
    const third = await c.candidate!.elected
    expect(third.broker.epoch).toBeGreaterThan(second.broker.epoch)
    await until(() => cc.brokerId === third.broker.brokerId)
    await cc.whenReady()
  })

  it("host 'auto' in a worker-like context stands only when no broker runs, or after it died", async () => {
    const locks = new FakeLocks()
    const vhost = freshVhost()
    const storage = new MemoryStorage()
    const x = context(locks, vhost, storage)
    x.candidate = electPrivate(vhost, x.locks, storage)
    await x.candidate.elected
    const w = context(locks, vhost, storage)
    const cw = await w.connect('auto')
    await new Promise((r) => setTimeout(r, 20))
    expect(w.candidate).toBeUndefined()
    await x.candidate.stop()
    await until(() => w.candidate?.state === 'serving')
    await until(() => cw.brokerId === w.candidate!.serving!.broker.brokerId)
    await cw.whenReady()

    // Nobody serves: a worker-like context elects itself at once.
    const lonelyVhost = freshVhost()
    const l = context(locks, lonelyVhost, new MemoryStorage())
    const cl = await l.connect('auto')
    expect(cl.brokerId).toBe(l.candidate!.serving!.broker.brokerId)
  })

  it("host 'auto' in a window whose SharedWorker factory throws elects instead", async () => {
    const locks = new FakeLocks()
    const vhost = freshVhost()
    const storage = new MemoryStorage()
    const ctx = context(locks, vhost, storage)
    const g = globalThis as { SharedWorker?: unknown }
    const had = 'SharedWorker' in g
    g.SharedWorker = function SharedWorker() {} // this "context" could construct one...
    const warn = console.warn
    const warnings: unknown[] = []
    console.warn = (...args: unknown[]) => void warnings.push(args[0])
    try {
      const conn = await Connection.open({
        url: `shared://${vhost}`,
        connectTimeout: 3000,
        transport: (options) =>
          connectShared({
            ...options,
            locks: ctx.locks,
            // ...but the factory throws (a CSP refusing worker scripts, a broken bundle)
            sharedWorker: () => {
              throw new DOMException('worker-src refused', 'SecurityError')
            },
            elect: async (v) => {
              ctx.candidate ??= electPrivate(v, ctx.locks, storage)
            },
          }),
      })
      cleanup.push(() => conn.close())
      expect(conn.brokerId).toBe(ctx.candidate!.serving!.broker.brokerId)
      expect(String(warnings[0])).toMatch(/SharedWorker could not be started .*worker-src refused.*electing/)
    } finally {
      console.warn = warn
      if (!had) delete g.SharedWorker
    }
  })

  it('a waiting candidate whose page enters the back/forward cache leaves the queue; a serving one stays', async () => {
    const locks = new FakeLocks()
    const vhost = freshVhost()
    const storage = new MemoryStorage()
    const hostPage = new EventTarget()
    const cachedPage = new EventTarget()
    const first = createElectedBroker(vhost, { locks: lockContext(locks), storage: () => storage, management: false, lifecycle: hostPage })
    cleanup.push(() => first.stop())
    await first.elected
    const cached = createElectedBroker(vhost, { locks: lockContext(locks), storage: () => storage, management: false, lifecycle: cachedPage })
    cleanup.push(() => cached.stop())
    const third = createElectedBroker(vhost, { locks: lockContext(locks), storage: () => storage, management: false })
    cleanup.push(() => third.stop())
    const hide = (persisted: boolean) => Object.assign(new Event('pagehide'), { persisted })
    hostPage.dispatchEvent(hide(true))
    expect(first.state).toBe('serving')
    cachedPage.dispatchEvent(hide(false)) // unloading for good: nothing to do
    expect(cached.state).toBe('waiting')
    cachedPage.dispatchEvent(hide(true))
    expect(cached.state).toBe('stopped')
    await first.stop()
    await third.elected
    expect(third.state).toBe('serving')
  })

  it("host 'shared-worker' never elects, and host 'elected' with no elector fails at once", async () => {
    const locks = new FakeLocks()
    const vhost = freshVhost()
    const w = context(locks, vhost, new MemoryStorage())
    const error = await Connection.open({
      url: `shared://${vhost}`,
      connectTimeout: 200,
      host: 'shared-worker',
      transport: (options) => connectShared({ ...options, locks: w.locks, elect: async () => { w.elections++ } }),
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'BROKER_UNAVAILABLE' })
    expect(w.elections).toBe(0)
    const none = await Connection.open({
      url: `shared://${vhost}`,
      connectTimeout: 200,
      host: 'elected',
      transport: (options) => connectShared({ ...options, locks: w.locks }),
    }).catch((e: unknown) => e)
    expect(none).toMatchObject({ code: 'BROKER_UNAVAILABLE', message: expect.stringMatching(/enableElectedHost/) })
  })
})
