// Delivery limit for poison messages (x-delivery-limit, as on quorum queues, §4.11): redelivered
// messages carry x-delivery-count; past the limit the message is dead-lettered with reason
// delivery_limit, or dropped without a DLX.
//
// What counts as a failed delivery (decided here, as quorum queues do): basic.reject with
// requeue=true, and a delivery returned because its channel closed or its client disappeared.
// basic.nack with requeue=true and basic.recover do not count (a nack is a deliberate
// "not now", not a crash or a refusal).
import { describe, expect, it } from 'vitest'
import { readyOf, setup } from './setup.js'

const countOf = (m: { properties: { headers?: Record<string, unknown> } } | null | undefined) => m?.properties.headers?.['x-delivery-count']

async function poisonQueue(args: Record<string, unknown>) {
  const t = await setup()
  await t.exchange('dlx', 'fanout')
  await t.declare('dead')
  await t.bind('dead', 'dlx')
  await t.declare('q', { 'x-dead-letter-exchange': 'dlx', ...args })
  return t
}

describe('delivery limit (x-delivery-limit)', () => {
  it('a redelivered message carries x-delivery-count, counting failures', async () => {
    const { publish, get, c } = await poisonQueue({ 'x-delivery-limit': 5 })
    await publish('q', 'm', { headers: { app: 'kept' } })
    const first = await get('q', false)
    expect(first?.properties.headers).toEqual({ app: 'kept' })
    await c.ok({ op: 'basic.reject', deliveryTag: first!.deliveryTag, requeue: true })
    const second = await get('q', false)
    expect(second?.redelivered).toBe(true)
    expect(second?.properties.headers).toEqual({ app: 'kept', 'x-delivery-count': 1 })
    await c.ok({ op: 'basic.reject', deliveryTag: second!.deliveryTag, requeue: true })
    expect(countOf(await get('q', false))).toBe(2)
  })

  it('a queue without x-delivery-limit redelivers the published properties unchanged (no x-delivery-count)', async () => {
    const { publish, get, c } = await poisonQueue({})
    await publish('q', 'm', { headers: { app: 'kept' } })
    const first = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: first!.deliveryTag, requeue: true })
    const second = await get('q', false)
    expect(second?.redelivered).toBe(true)
    expect(second?.properties.headers).toEqual({ app: 'kept' })
  })

  it('past the limit the message is dead-lettered with reason delivery_limit', async () => {
    const { publish, get, c, broker } = await poisonQueue({ 'x-delivery-limit': 2 })
    await publish('q', 'poison')
    // Delivered limit + 1 times: failures 1 and 2 requeue, failure 3 is over the limit.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const m = await get('q', false)
      expect(m?.body).toBe('poison')
      await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: true })
    }
    expect(readyOf(broker, 'q')).toBe(0)
    const dead = await get('dead')
    expect(dead?.body).toBe('poison')
    expect((dead?.properties.headers?.['x-death'] as { reason: string; queue: string }[])[0]).toMatchObject({ queue: 'q', reason: 'delivery_limit' })
  })

  it('past the limit without a dead-letter exchange the message is dropped', async () => {
    const { declare, publish, get, c, broker } = await setup()
    await declare('q', { 'x-delivery-limit': 0 })
    await publish('q', 'poison')
    const m = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: true })
    expect(readyOf(broker, 'q')).toBe(0)
    expect(await get('q')).toBeNull()
  })

  it('basic.nack with requeue=true does not count', async () => {
    const { publish, get, c, broker } = await poisonQueue({ 'x-delivery-limit': 1 })
    await publish('q', 'm')
    for (let i = 0; i < 5; i++) {
      const m = await get('q', false)
      expect(m?.redelivered).toBe(i > 0)
      expect(countOf(m)).toBeUndefined()
      await c.ok({ op: 'basic.nack', deliveryTag: m!.deliveryTag, requeue: true })
    }
    expect(readyOf(broker, 'q')).toBe(1)
    expect(readyOf(broker, 'dead')).toBe(0)
  })

  it('basic.recover does not count', async () => {
    const { publish, get, c, broker } = await poisonQueue({ 'x-delivery-limit': 0 })
    await publish('q', 'm')
    await get('q', false)
    await c.ok({ op: 'basic.recover', requeue: true })
    expect(readyOf(broker, 'q')).toBe(1)
    expect(countOf(await get('q', false))).toBeUndefined()
  })

  it('a channel closed with the delivery unacknowledged counts', async () => {
    const { publish, consume, c, settle, get } = await poisonQueue({ 'x-delivery-limit': 5 })
    await c.open(2)
    await consume('q', { channel: 2 })
    await settle()
    await publish('q', 'm')
    expect(c.deliveries(2)).toHaveLength(1)
    await c.ok({ op: 'channel.close', channel: 2 })
    const again = await get('q', false)
    expect(again?.redelivered).toBe(true)
    expect(countOf(again)).toBe(1)
  })

  it('a client that disappears (crash) counts, and can push a poison message over the limit', async () => {
    const { publish, get, broker, newClient, settle } = await poisonQueue({ 'x-delivery-limit': 1 })
    await publish('q', 'crasher')
    for (let crash = 1; crash <= 2; crash++) {
      const worker = await newClient()
      await worker.consume('q')
      await settle()
      expect(worker.bodies()).toEqual(['crasher'])
      broker.disconnect(worker.id)
    }
    expect(readyOf(broker, 'q')).toBe(0)
    const dead = await get('dead')
    expect((dead?.properties.headers?.['x-death'] as { reason: string }[])[0]!.reason).toBe('delivery_limit')
  })

  it('x-delivery-limit -1 means unlimited', async () => {
    const { publish, get, c, broker } = await poisonQueue({ 'x-delivery-limit': -1 })
    await publish('q', 'm')
    for (let i = 0; i < 50; i++) {
      const m = await get('q', false)
      await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: true })
    }
    expect(readyOf(broker, 'q')).toBe(1)
    expect(countOf(await get('q'))).toBe(50)
  })

  it('the count reaches consumers too', async () => {
    const { publish, consume, c, settle } = await poisonQueue({ 'x-delivery-limit': 3 })
    await consume('q')
    await settle()
    await publish('q', 'm')
    for (let i = 0; i < 2; i++) {
      const last = c.deliveries().at(-1)!
      await c.ok({ op: 'basic.reject', deliveryTag: last.deliveryTag, requeue: true })
    }
    expect(c.deliveries().map(countOf)).toEqual([undefined, 1, 2])
  })

  it.each([-2, 1.5, 'five'])('x-delivery-limit %j is refused with 406', async (value) => {
    const { c } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-delivery-limit': value } })
    expect(error.replyCode).toBe(406)
  })
})
