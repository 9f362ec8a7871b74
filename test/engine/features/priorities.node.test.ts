// Priority queues (RabbitMQ §4.10): x-max-priority 1..255; a missing priority is 0, one above
// the maximum is the maximum; higher first, FIFO within a level; ignored without the argument.
import { describe, expect, it } from 'vitest'
import { setup } from './setup.js'

describe('priority queues (x-max-priority)', () => {
  it('higher priorities are delivered first, FIFO within a level', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-priority': 10 })
    const sent: [string, number][] = [['l1', 1], ['h1', 7], ['m1', 4], ['h2', 7], ['l2', 1], ['m2', 4], ['top', 10]]
    for (const [body, priority] of sent) await publish('q', body, { priority })
    expect(await drainBodies('q')).toEqual(['top', 'h1', 'h2', 'm1', 'm2', 'l1', 'l2'])
  })

  it('a message without a priority counts as 0', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-priority': 3 })
    await publish('q', 'none-1')
    await publish('q', 'zero', { priority: 0 })
    await publish('q', 'one', { priority: 1 })
    await publish('q', 'none-2')
    expect(await drainBodies('q')).toEqual(['one', 'none-1', 'zero', 'none-2'])
  })

  it('a priority above the maximum counts as the maximum (FIFO with it)', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-priority': 5 })
    await publish('q', 'at-max', { priority: 5 })
    await publish('q', 'above', { priority: 200 })
    await publish('q', 'below', { priority: 4 })
    expect(await drainBodies('q')).toEqual(['at-max', 'above', 'below'])
  })

  it('the delivered message keeps its own priority property', async () => {
    const { declare, publish, get } = await setup()
    await declare('q', { 'x-max-priority': 5 })
    await publish('q', 'x', { priority: 200 })
    expect((await get('q'))?.properties.priority).toBe(200)
  })

  it('without x-max-priority priorities are ignored (plain FIFO)', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q')
    await publish('q', 'low', { priority: 1 })
    await publish('q', 'high', { priority: 9 })
    expect(await drainBodies('q')).toEqual(['low', 'high'])
  })

  it('a requeued message goes back to its place in priority order', async () => {
    const { declare, publish, get, c, drainBodies } = await setup()
    await declare('q', { 'x-max-priority': 5 })
    await publish('q', 'low', { priority: 1 })
    await publish('q', 'high-1', { priority: 5 })
    await publish('q', 'mid', { priority: 3 })
    await publish('q', 'high-2', { priority: 5 })
    const first = await get('q', false)
    expect(first?.body).toBe('high-1')
    await c.ok({ op: 'basic.reject', deliveryTag: first!.deliveryTag, requeue: true })
    expect(await drainBodies('q')).toEqual(['high-1', 'high-2', 'mid', 'low'])
  })

  it('a consumer with prefetch 1 sees the highest waiting message after each ack', async () => {
    const { declare, publish, consume, qos, c, settle, bodies } = await setup()
    await declare('q', { 'x-max-priority': 9 })
    await qos(1)
    await consume('q')
    await settle()
    await publish('q', 'first', { priority: 0 }) // straight to the idle consumer
    for (const [body, priority] of [['p2', 2], ['p9', 9], ['p5', 5]] as const) await publish('q', body, { priority })
    for (let i = 0; i < 4; i++) {
      const last = c.deliveries().at(-1)!
      await c.ok({ op: 'basic.ack', deliveryTag: last.deliveryTag })
    }
    expect(bodies()).toEqual(['first', 'p9', 'p5', 'p2'])
  })

  it('expiry happens at the head, which is the highest priority level', async () => {
    const { declare, publish, clock, get } = await setup()
    await declare('q', { 'x-max-priority': 5 })
    await publish('q', 'low-live', { priority: 1 })
    await publish('q', 'high-expiring', { priority: 5, expiration: '100' })
    clock.advance(100)
    expect((await get('q'))?.body).toBe('low-live')
  })

  it.each([1, 10, 255])('x-max-priority %d is accepted', async (value) => {
    const { declare } = await setup()
    await declare('q', { 'x-max-priority': value })
  })

  it.each([0, 256, -1, 1.5, '5', true])('x-max-priority %j is refused with 406', async (value) => {
    const { c } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-max-priority': value } })
    expect(error.replyCode).toBe(406)
  })

  it('redeclaring with a different x-max-priority is refused with 406', async () => {
    const { declare, c } = await setup()
    await declare('q', { 'x-max-priority': 5 })
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-max-priority': 6 } })
    expect(error.replyCode).toBe(406)
  })
})
