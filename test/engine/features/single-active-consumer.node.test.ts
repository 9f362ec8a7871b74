// Single active consumer (x-single-active-consumer, §4.4): exactly one consumer receives; on
// cancel or disconnect the next registered one takes over, in registration order; an
// exclusive consume on such a queue is refused with 403.
import { describe, expect, it } from 'vitest'
import { setup } from './setup.js'

async function sacQueue() {
  const t = await setup()
  await t.declare('q', { 'x-single-active-consumer': true })
  return t
}

describe('single active consumer (x-single-active-consumer)', () => {
  it('only one consumer receives', async () => {
    const { publish, consume, c, settle } = await sacQueue()
    for (const channel of [1, 2, 3]) {
      if (channel > 1) await c.open(channel)
      await consume('q', { channel, tag: `c${channel}`, noAck: true })
    }
    await settle()
    for (let i = 0; i < 6; i++) await publish('q', i)
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(Array(6).fill('c1'))
  })

  it('on cancel the next registered consumer takes over, in order', async () => {
    const { publish, consume, c, settle } = await sacQueue()
    for (const tag of ['a', 'b', 'c']) await consume('q', { tag, noAck: true })
    await settle()
    await publish('q', 1)
    await c.ok({ op: 'basic.cancel', consumerTag: 'a' })
    await publish('q', 2)
    await c.ok({ op: 'basic.cancel', consumerTag: 'b' })
    await publish('q', 3)
    expect(c.deliveries().map((d) => [d.consumerTag, d.body])).toEqual([['a', 1], ['b', 2], ['c', 3]])
  })

  it('cancelling a waiting consumer does not change the active one', async () => {
    const { publish, consume, c, settle } = await sacQueue()
    for (const tag of ['a', 'b', 'c']) await consume('q', { tag, noAck: true })
    await settle()
    await c.ok({ op: 'basic.cancel', consumerTag: 'b' })
    await publish('q', 1)
    await c.ok({ op: 'basic.cancel', consumerTag: 'a' })
    await publish('q', 2)
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(['a', 'c'])
  })

  it('on disconnect the next registered consumer (of another client) takes over', async () => {
    const { publish, broker, newClient, settle } = await sacQueue()
    const first = await newClient()
    const second = await newClient()
    const third = await newClient()
    await first.consume('q', { noAck: true })
    await second.consume('q', { noAck: true })
    await third.consume('q', { noAck: true })
    await settle()
    await publish('q', 'to-first')
    broker.disconnect(first.id)
    await publish('q', 'to-second')
    broker.disconnect(second.id)
    await publish('q', 'to-third')
    expect([first.bodies(), second.bodies(), third.bodies()]).toEqual([['to-first'], ['to-second'], ['to-third']])
  })

  it('failover keeps the order: the lost consumer\'s unacked messages come first', async () => {
    const { publish, broker, newClient, settle } = await sacQueue()
    const first = await newClient()
    const second = await newClient()
    await first.consume('q')
    await second.consume('q')
    await settle()
    for (const body of ['m1', 'm2']) await publish('q', body)
    expect(first.bodies()).toEqual(['m1', 'm2'])
    await publish('q', 'm3') // still to the active consumer, unlimited prefetch
    await first.qos(0)
    broker.disconnect(first.id)
    await settle()
    expect(second.bodies()).toEqual(['m1', 'm2', 'm3'])
    expect(second.deliveries().map((d) => d.redelivered)).toEqual([true, true, true])
  })

  it('failover after a channel close with messages still waiting keeps publication order', async () => {
    const { publish, consume, c, settle } = await sacQueue()
    await c.open(2)
    await c.open(3)
    await c.ok({ op: 'basic.qos', channel: 2, prefetchCount: 2 })
    await consume('q', { channel: 2, tag: 'first' })
    await consume('q', { channel: 3, tag: 'second', noAck: true })
    await settle()
    for (const body of ['m1', 'm2', 'm3', 'm4']) await publish('q', body)
    expect(c.deliveries(2).map((d) => d.body)).toEqual(['m1', 'm2'])
    await c.ok({ op: 'channel.close', channel: 2 })
    expect(c.deliveries(3).map((d) => d.body)).toEqual(['m1', 'm2', 'm3', 'm4'])
  })

  it('when a channel with the active and the next consumer closes, the successor is on another channel', async () => {
    const { publish, consume, c, settle, broker } = await sacQueue()
    await c.open(2)
    await c.open(3)
    await consume('q', { channel: 2, tag: 'a' })
    await consume('q', { channel: 2, tag: 'b' })
    await consume('q', { channel: 3, tag: 'c', noAck: true })
    await settle()
    await publish('q', 'm1')
    await c.ok({ op: 'channel.close', channel: 2 })
    await publish('q', 'm2')
    expect(c.deliveries().map((d) => [d.consumerTag, d.body])).toEqual([['a', 'm1'], ['c', 'm1'], ['c', 'm2']])
    expect(broker.inspect().queues[0]).toMatchObject({ ready: 0, unacked: 0 })
  })

  it('the active consumer blocked by its prefetch makes the others wait, not receive', async () => {
    const { publish, consume, c, settle, broker } = await sacQueue()
    await c.open(2)
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await consume('q', { tag: 'active' })
    await consume('q', { channel: 2, tag: 'waiting', noAck: true })
    await settle()
    await publish('q', 1)
    await publish('q', 2)
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(['active'])
    expect(broker.inspect().queues[0]!.consumers.map((x) => [x.tag, x.active])).toEqual([['active', true], ['waiting', false]])
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries()[0]!.deliveryTag })
    expect(c.deliveries().map((d) => [d.consumerTag, d.body])).toEqual([['active', 1], ['active', 2]])
  })

  it('an exclusive consume on a single-active-consumer queue is refused with 403', async () => {
    const { c } = await sacQueue()
    const error = await c.fails({ op: 'basic.consume', queue: 'q', exclusive: true })
    expect(error.replyCode).toBe(403)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  it('x-single-active-consumer must be a boolean', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-single-active-consumer': 'yes' } })
    expect(error.replyCode).toBe(406)
  })
})
