// Consumer priorities (x-priority consumer argument, §4.4): the highest-priority consumers with
// credit get every message, round-robin among themselves; lower ones receive only while all the
// higher ones are blocked by their prefetch.
import { describe, expect, it } from 'vitest'
import { setup } from './setup.js'

describe('consumer priorities (x-priority)', () => {
  it('a higher-priority consumer with credit gets everything', async () => {
    const { declare, publish, consume, c, settle } = await setup()
    await declare('q')
    await consume('q', { tag: 'low', noAck: true })
    await consume('q', { tag: 'high', noAck: true, arguments: { 'x-priority': 10 } })
    await consume('q', { tag: 'default', noAck: true, arguments: { 'x-priority': 0 } })
    await settle()
    for (let i = 0; i < 5; i++) await publish('q', i)
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(Array(5).fill('high'))
  })

  it('consumers of the same top priority share round-robin', async () => {
    const { declare, publish, consume, c, settle } = await setup()
    await declare('q')
    await consume('q', { tag: 'h1', noAck: true, arguments: { 'x-priority': 5 } })
    await consume('q', { tag: 'low', noAck: true })
    await consume('q', { tag: 'h2', noAck: true, arguments: { 'x-priority': 5 } })
    await settle()
    for (let i = 0; i < 4; i++) await publish('q', i)
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(['h1', 'h2', 'h1', 'h2'])
  })

  it('lower priorities receive only while the higher ones are blocked by prefetch', async () => {
    const { declare, publish, consume, c, settle, qos } = await setup()
    await declare('q')
    await qos(2)
    await consume('q', { tag: 'high', arguments: { 'x-priority': 1 } })
    await qos(0)
    await consume('q', { tag: 'low' })
    await settle()
    for (let i = 1; i <= 5; i++) await publish('q', i)
    expect(c.deliveries().map((d) => [d.consumerTag, d.body])).toEqual([
      ['high', 1],
      ['high', 2],
      ['low', 3],
      ['low', 4],
      ['low', 5],
    ])
    // The high one gets credit back: the next message is its again.
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries()[0]!.deliveryTag })
    await publish('q', 6)
    expect(c.deliveries().at(-1)).toMatchObject({ consumerTag: 'high', body: 6 })
  })

  it('waiting messages go to the higher consumer as soon as it has credit again', async () => {
    const { declare, publish, consume, c, settle, qos } = await setup()
    await declare('q')
    await qos(1)
    await consume('q', { tag: 'high', arguments: { 'x-priority': 9 } })
    await consume('q', { tag: 'low', arguments: { 'x-priority': 1 } })
    await settle()
    for (let i = 1; i <= 4; i++) await publish('q', i) // 1 → high, 2 → low, 3 and 4 wait
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries()[1]!.deliveryTag }) // low acks first...
    expect(c.deliveries().at(-1)).toMatchObject({ consumerTag: 'low', body: 3 }) // ...and high is still full
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries()[0]!.deliveryTag })
    expect(c.deliveries().at(-1)).toMatchObject({ consumerTag: 'high', body: 4 })
  })

  it('priorities may be negative (below the default 0)', async () => {
    const { declare, publish, consume, c, settle } = await setup()
    await declare('q')
    await consume('q', { tag: 'negative', noAck: true, arguments: { 'x-priority': -5 } })
    await consume('q', { tag: 'default', noAck: true })
    await settle()
    await publish('q', 'x')
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(['default'])
  })

  it('when the high-priority consumer is cancelled, the lower ones take over', async () => {
    const { declare, publish, consume, c, settle } = await setup()
    await declare('q')
    await consume('q', { tag: 'high', noAck: true, arguments: { 'x-priority': 3 } })
    await consume('q', { tag: 'low', noAck: true })
    await settle()
    await publish('q', 1)
    await c.ok({ op: 'basic.cancel', consumerTag: 'high' })
    await publish('q', 2)
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(['high', 'low'])
  })

  it.each(['high', 1.5])('x-priority %j is refused with 406', async (value) => {
    const { declare, c } = await setup()
    await declare('q')
    const error = await c.fails({ op: 'basic.consume', queue: 'q', arguments: { 'x-priority': value } })
    expect(error.replyCode).toBe(406)
  })
})
