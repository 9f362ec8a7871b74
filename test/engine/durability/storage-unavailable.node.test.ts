/**
 * A broker whose host could not open its storage (storageState 'unavailable') refuses what it
 * could not keep: a persistent message for a durable queue (or held by a durable delayed
 * exchange) is nacked with STORAGE_UNAVAILABLE and no queue gets a copy. Everything a restart
 * may lose anyway goes on as before.
 */
import { describe, expect, test } from 'vitest'
import { Broker } from '../../../src/engine/broker.js'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { FakeClock } from '../../../src/testing/fake-clock.js'
import { startBroker } from '../harness.js'

async function unavailable() {
  const broker = await Broker.start({ clock: new FakeClock(), storage: new MemoryStorage(), storageState: 'unavailable', brokerId: 'test' })
  const replies: Array<{ op: string; id?: number; error?: { name: string; code: string; replyCode?: number; closes?: string } }> = []
  broker.connect('c', (event) => void replies.push(event as (typeof replies)[number]))
  let id = 0
  const call = async (command: Record<string, unknown>) => {
    const mine = ++id
    broker.receive('c', { channel: 1, ...command, id: mine })
    for (let i = 0; i < 10 && !replies.some((r) => r.id === mine); i++) await Promise.resolve()
    return replies.find((r) => r.id === mine)!
  }
  await call({ op: 'channel.open' })
  return { broker, call, replies }
}

const count = async (call: (c: Record<string, unknown>) => Promise<{ op: string }>, queue: string) =>
  ((await call({ op: 'queue.declare', queue, passive: true })) as unknown as { result: { messageCount: number } }).result.messageCount

describe('storage unavailable', () => {
  test('a persistent message for a durable queue is nacked and taken by no queue', async () => {
    const { call, replies } = await unavailable()
    await call({ op: 'exchange.declare', exchange: 'fan', type: 'fanout', durable: true })
    await call({ op: 'queue.declare', queue: 'kept', durable: true })
    await call({ op: 'queue.declare', queue: 'scratch', durable: false })
    await call({ op: 'queue.bind', queue: 'kept', exchange: 'fan' })
    await call({ op: 'queue.bind', queue: 'scratch', exchange: 'fan' })
    const nack = await call({ op: 'basic.publish', exchange: 'fan', routingKey: '', properties: { deliveryMode: 2 }, body: 'x' })
    expect(nack).toMatchObject({ op: 'error', error: { name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' } })
    expect(nack.error!.closes).toBeUndefined()
    expect(await count(call, 'kept')).toBe(0)
    expect(await count(call, 'scratch')).toBe(0)
    // Nothing closed: the same channel publishes transient messages, and persistent ones to non-durable queues.
    expect(replies.some((r) => r.op === 'channel.closed' || r.op === 'connection.closed')).toBe(false)
    expect(await call({ op: 'basic.publish', exchange: 'fan', routingKey: '', properties: { deliveryMode: 1 }, body: 't' })).toMatchObject({ op: 'ok' })
    expect(await call({ op: 'basic.publish', exchange: '', routingKey: 'scratch', properties: { deliveryMode: 2 }, body: 'p' })).toMatchObject({ op: 'ok' })
    expect(await count(call, 'kept')).toBe(1)
    expect(await count(call, 'scratch')).toBe(2)
  })

  test('a durable delayed exchange does not hold a persistent message it cannot keep', async () => {
    const { call } = await unavailable()
    await call({ op: 'exchange.declare', exchange: 'later', type: 'x-delayed-message', durable: true, arguments: { 'x-delayed-type': 'direct' } })
    const held = await call({ op: 'basic.publish', exchange: 'later', routingKey: 'k', properties: { deliveryMode: 2, headers: { 'x-delay': 1000 } }, body: 'x' })
    expect(held).toMatchObject({ op: 'error', error: { code: 'STORAGE_UNAVAILABLE' } })
    expect(await call({ op: 'basic.publish', exchange: 'later', routingKey: 'k', properties: { deliveryMode: 1, headers: { 'x-delay': 1000 } }, body: 'x' })).toMatchObject({ op: 'ok' })
  })

  test('the state defaults to what the broker runs on, and the snapshot carries it', async () => {
    expect((await Broker.start({ clock: new FakeClock() })).storageState).toBe('memory')
    const durable = await Broker.start({ clock: new FakeClock(), storage: new MemoryStorage() })
    expect(durable.storageState).toBe('durable')
    expect(durable.inspect().storage).toBe('durable')
    // A durable broker confirms persistent messages for durable queues, as always.
    const { client } = await startBroker({ storage: new MemoryStorage() })
    const c = client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'queue.declare', queue: 'q', durable: true })
    await c.ok({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: { deliveryMode: 2 }, body: 'x' })
  })
})
