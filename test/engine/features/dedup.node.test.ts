/**
 * Idempotent publishing: a publish id goes through the broker's deduplication window. A retry
 * of a message the broker took is dropped and confirmed again; a retry the broker cannot place
 * (its original may have been delivered, then lost with a restart) is delivered flagged.
 */
import { describe, expect, it } from 'vitest'
import { Broker, type BrokerOptions } from '../../../src/engine/broker.js'
import { DedupWindow } from '../../../src/engine/dedup.js'
import type { MessageProperties, ServerEvent } from '../../../src/protocol/frames.js'
import { MemoryStorage } from '../../../src/storage/memory.js'
import type { Durability, Storage, StorageOp } from '../../../src/storage/types.js'
import { FakeClock } from '../../../src/testing/fake-clock.js'
import { setup } from './setup.js'

const PERSISTENT: MessageProperties = { deliveryMode: 2 }

/** A storage whose writes can be held back, then committed or dropped (the broker died first). */
class GatedStorage implements Storage {
  #held: Array<() => void> | undefined
  constructor(readonly disk: MemoryStorage) {}
  open() { return this.disk.open() }
  loadDefinitions() { return this.disk.loadDefinitions() }
  loadMessages(queue: string, afterSeq: number, limit: number) { return this.disk.loadMessages(queue, afterSeq, limit) }
  countMessages(queue: string) { return this.disk.countMessages(queue) }
  lastSeq(queue: string) { return this.disk.lastSeq(queue) }
  loadStreamSegments(stream: string) { return this.disk.loadStreamSegments(stream) }
  loadStreamEntries(stream: string, from: number, limit: number) { return this.disk.loadStreamEntries(stream, from, limit) }
  apply(ops: readonly StorageOp[], durability?: Durability) {
    const held = this.#held
    if (!held) return this.disk.apply(ops, durability)
    return new Promise<void>((resolve, reject) => held.push(() => void this.disk.apply(ops, durability).then(resolve, reject)))
  }
  close() { return Promise.resolve() }
  hold() { this.#held = [] }
  commit() {
    const held = this.#held ?? []
    this.#held = undefined
    for (const write of held) write()
  }
  /** The held writes never happen. */
  drop() { this.#held = undefined }
}

/** One client of a broker, as the engine tests drive it, with the broker id it was started with. */
async function broker(storage: Storage, brokerId: string, options: Pick<BrokerOptions, 'dedup'> = {}) {
  const clock = new FakeClock()
  const b = await Broker.start({ clock, storage, brokerId, ...options })
  const events: ServerEvent[] = []
  const waiters = new Map<number, (event: ServerEvent) => void>()
  let next = 1
  b.connect('c', (event) => {
    if ((event.op === 'ok' || event.op === 'error') && waiters.has(event.id)) {
      waiters.get(event.id)!(event)
      waiters.delete(event.id)
    } else events.push(event)
  })
  const call = (cmd: Record<string, unknown>) => {
    const id = next++
    const reply = new Promise<ServerEvent>((resolve) => waiters.set(id, resolve))
    b.receive('c', { channel: 1, ...cmd, id })
    return reply
  }
  await call({ op: 'channel.open' })
  await call({ op: 'queue.declare', queue: 'q', durable: true })
  const publish = (body: unknown, extra: Record<string, unknown> = {}) =>
    call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: PERSISTENT, body, ...extra })
  const deliveries = () => events.filter((e): e is Extract<ServerEvent, { op: 'basic.deliver' }> => e.op === 'basic.deliver')
  return { broker: b, call, publish, deliveries, clock }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

describe('idempotent publishing', () => {
  it('drops a retry of a message the broker holds and confirms it again', async () => {
    const s = await setup()
    await s.declare('q')
    const first = await s.c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'a', publishId: 'p1' })
    expect(first).toMatchObject({ op: 'ok', result: { routed: true } })
    expect((first as { result: object }).result).not.toHaveProperty('duplicate')
    const retry = await s.c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'a', publishId: 'p1', retryOf: 'test' })
    expect(retry).toMatchObject({ op: 'ok', result: { routed: true, duplicate: true } })
    expect(s.broker.stats.deduplicatedPublishes).toBe(1)
    expect(await s.drainBodies('q')).toEqual(['a'])
    // Another id is another message.
    await s.c.ok({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'b', publishId: 'p2' })
    expect(await s.drainBodies('q')).toEqual(['b'])
  })

  it("confirms a retry once the original's write commits, and stores one copy", async () => {
    const gated = new GatedStorage(new MemoryStorage())
    const b = await broker(gated, 'b1')
    gated.hold()
    const replies: ServerEvent[] = []
    const original = b.publish('a', { publishId: 'p1' }).then((reply) => void replies.push(reply))
    const retry = b.publish('a', { publishId: 'p1', retryOf: 'b1' }).then((reply) => void replies.push(reply))
    await settle()
    expect(replies).toEqual([])
    gated.commit()
    await Promise.all([original, retry])
    expect(replies).toMatchObject([{ op: 'ok', result: { routed: true } }, { op: 'ok', result: { routed: true, duplicate: true } }])
    expect(await gated.disk.loadMessages('q', 0, 10)).toMatchObject([{ body: 'a', publishId: 'p1', redelivered: false }])
  })

  it('recognises, after a restart, a retry of a message the last broker stored but did not confirm', async () => {
    const disk = new MemoryStorage()
    const before = await broker(disk, 'b1')
    expect(await before.publish('a', { publishId: 'p1' })).toMatchObject({ op: 'ok' })
    await before.broker.stop()
    const after = await broker(disk, 'b2')
    expect(await after.publish('a', { publishId: 'p1', retryOf: 'b1' })).toMatchObject({ op: 'ok', result: { routed: true, duplicate: true } })
    const got = await after.call({ op: 'basic.get', queue: 'q', noAck: true })
    expect(got).toMatchObject({ op: 'ok', result: { message: { body: 'a', redelivered: true }, messageCount: 0 } })
  })

  it('flags a retry after a restart: the lost original may have been delivered before its write committed', async () => {
    // Issue 17, finding 4: a consumer waits; the persistent message goes to it at once, the
    // broker dies before the write commits, the retry reaches a new broker.
    const gated = new GatedStorage(new MemoryStorage())
    const before = await broker(gated, 'b1')
    await before.call({ op: 'basic.consume', queue: 'q', noAck: false })
    gated.hold()
    void before.publish('a', { publishId: 'p1' })
    await settle()
    expect(before.deliveries()).toMatchObject([{ body: 'a', redelivered: false }])
    await before.broker.stop()
    gated.drop()

    const after = await broker(gated, 'b2')
    await after.call({ op: 'basic.consume', queue: 'q', noAck: false })
    expect(await after.publish('a', { publishId: 'p1', retryOf: 'b1' })).toMatchObject({ op: 'ok', result: { routed: true } })
    await settle()
    expect(after.deliveries()).toMatchObject([{ body: 'a', redelivered: true }])
    // Stored flagged too: a later restart recovers it flagged anyway, and nothing else changes.
    expect(await gated.disk.loadMessages('q', 0, 10)).toMatchObject([{ body: 'a', redelivered: true, publishId: 'p1' }])
  })

  it('delivers a retry unflagged when the same broker can prove it never got the original', async () => {
    const b = await broker(new MemoryStorage(), 'b1')
    await b.call({ op: 'basic.consume', queue: 'q', noAck: true })
    await b.publish('a', { publishId: 'p1', retryOf: 'b1' })
    // Sent to another broker, or with no idea where: flagged.
    await b.publish('b', { publishId: 'p2', retryOf: 'b0' })
    await b.publish('c', { publishId: 'p3', retryOf: '' })
    await settle()
    expect(b.deliveries().map((d) => [d.body, d.redelivered])).toEqual([['a', false], ['b', true], ['c', true]])
  })

  it('forgets ids after the window; from then on a retry it cannot place is flagged', async () => {
    const clock = new FakeClock()
    const s = await setup({ clock })
    await s.declare('q')
    const publish = (body: string, publishId: string, retryOf?: string) =>
      s.c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body, publishId, ...(retryOf === undefined ? {} : { retryOf }) })
    await publish('a', 'p1')
    clock.advance(119_000)
    expect(await publish('a', 'p1', 'test')).toMatchObject({ result: { duplicate: true } })
    clock.advance(1_001)
    expect(await publish('a', 'p1', 'test')).toMatchObject({ op: 'ok', result: { routed: true } })
    expect((await s.get('q'))).toMatchObject({ body: 'a', redelivered: false })
    expect((await s.get('q'))).toMatchObject({ body: 'a', redelivered: true })
    expect(s.broker.stats.deduplicatedPublishes).toBe(1)
  })

  it('keeps at most maxEntries ids, the newest; windowMs 0 turns deduplication off', async () => {
    const b = await broker(new MemoryStorage(), 'b1', { dedup: { maxEntries: 2 } })
    for (const id of ['p1', 'p2', 'p3']) await b.publish(id, { publishId: id })
    expect(await b.publish('p3', { publishId: 'p3', retryOf: 'b1' })).toMatchObject({ result: { duplicate: true } })
    expect(await b.publish('p1', { publishId: 'p1', retryOf: 'b1' })).toMatchObject({ op: 'ok', result: { routed: true } })
    const off = await broker(new MemoryStorage(), 'b2', { dedup: { windowMs: 0 } })
    await off.publish('a', { publishId: 'p1' })
    expect(await off.publish('a', { publishId: 'p1', retryOf: 'b2' })).toMatchObject({ op: 'ok', result: { routed: true } })
    expect(await off.call({ op: 'queue.declare', queue: 'q', passive: true })).toMatchObject({ result: { messageCount: 2 } })
  })

  it('evicts the oldest live id at the cap, never an id remembered again since', () => {
    const window = new DedupWindow({ maxEntries: 3 })
    window.remember('a', 0, { routed: true }, true)
    window.remember('b', 1, { routed: true })
    window.remember('c', 2, { routed: true })
    // A retry of the nacked 'a' is taken again: 'a' is now the newest.
    expect(window.judge('a', '', 'x', 3)).toEqual({ kind: 'new', maybeSeen: true })
    window.remember('a', 3, { routed: true })
    window.remember('d', 4, { routed: false })
    expect(window.size).toBe(3)
    expect(window.judge('b', '', 'x', 5)).toEqual({ kind: 'new', maybeSeen: true })
    expect(window.judge('a', '', 'x', 5)).toEqual({ kind: 'duplicate', confirm: { routed: true } })
    expect(window.judge('d', '', 'x', 5)).toEqual({ kind: 'duplicate', confirm: { routed: false } })
    // Many more ids than the cap: the window stays at the cap, with the newest.
    for (let i = 0; i < 10_000; i++) window.remember(`m${i}`, 10 + i, { routed: true })
    expect(window.size).toBe(3)
    expect(window.judge('m9999', undefined, 'x', 20_000).kind).toBe('duplicate')
    // Forgotten: a retry from this same broker can no longer be proven new.
    expect(window.judge('m9996', 'x', 'x', 20_000)).toEqual({ kind: 'new', maybeSeen: true })
    expect(window.judge('m9996', undefined, 'x', 20_000)).toEqual({ kind: 'new', maybeSeen: false })
  })

  it('takes a retry of a nacked publish as a new message, flagged (the original may have been delivered from memory)', async () => {
    const disk = new MemoryStorage()
    const b = await broker(disk, 'b1')
    disk.failApplies('quota')
    expect(await b.publish('a', { publishId: 'p1' })).toMatchObject({ op: 'error', error: { code: 'NACK' } })
    expect(await b.publish('a', { publishId: 'p1', retryOf: 'b1' })).toMatchObject({ op: 'ok', result: { routed: true } })
    await settle()
    expect(await disk.loadMessages('q', 0, 10)).toMatchObject([{ body: 'a', redelivered: true, publishId: 'p1' }])
  })

  it('refuses a publish id or retryOf that is not a short string', async () => {
    const s = await setup()
    await s.declare('q')
    const bad = await s.c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'a', publishId: 42 } as never)
    expect(bad).toMatchObject({ op: 'error', error: { name: 'FrameError' } })
    const long = await s.c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'a', publishId: 'x'.repeat(300) })
    expect(long).toMatchObject({ op: 'error' })
    const retry = await s.c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'a', retryOf: {} } as never)
    expect(retry).toMatchObject({ op: 'error' })
  })
})
