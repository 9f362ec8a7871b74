/**
 * The last routing and get details (features doc §4.3, §4.4): sender-selected distribution
 * (CC and BCC headers), basic.get's remaining count after expired head messages are dropped,
 * and a passive exchange.declare whatever its type.
 */
import { describe, expect, test } from 'vitest'
import { bindQueue, declareExchange, declareQueue, publish, setup, type Client } from './helpers.js'

/** Every ready message of a queue as its headers, by no-ack gets. */
async function headersOf(c: Client, queue: string) {
  const out: unknown[] = []
  for (;;) {
    const got = await c.ok({ op: 'basic.get', queue, noAck: true })
    if (!got.message) return out
    out.push(got.message.properties.headers)
  }
}

describe('sender-selected distribution', () => {
  async function threeQueues(c: Client) {
    await declareExchange(c, 'x', 'direct')
    for (const name of ['a', 'b', 'c']) {
      await declareQueue(c, name)
      await bindQueue(c, name, 'x', name)
    }
  }

  test('CC headers route to the extra routing keys, and CC is delivered', async () => {
    const { c } = await setup()
    await threeQueues(c)
    await publish(c, 'x', 'a', 'm', { headers: { CC: ['b'] } })
    expect(await headersOf(c, 'a')).toEqual([{ CC: ['b'] }])
    expect(await headersOf(c, 'b')).toEqual([{ CC: ['b'] }])
    expect(await headersOf(c, 'c')).toEqual([])
  })

  test('BCC headers route to the extra routing keys, and BCC is removed before delivery', async () => {
    const { c } = await setup()
    await threeQueues(c)
    await publish(c, 'x', 'a', 'm', { headers: { CC: ['b'], BCC: ['c'], note: 1 } })
    for (const queue of ['a', 'b', 'c']) expect(await headersOf(c, queue)).toEqual([{ CC: ['b'], note: 1 }])
  })

  test('CC through the default exchange names queues; a queue reached twice gets one copy', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q1')
    await declareQueue(c, 'q2')
    await publish(c, '', 'q1', 'm', { headers: { CC: ['q2', 'q1'] } })
    expect((await headersOf(c, 'q1')).length).toBe(1)
    expect((await headersOf(c, 'q2')).length).toBe(1)
  })

  test('a mandatory publish routed only by BCC is routed, not returned', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    expect(await publish(c, '', 'nowhere', 'm', { headers: { BCC: ['q'] } }, true)).toEqual({ routed: true })
    expect(c.of('basic.return')).toHaveLength(0)
  })

  test('CC and BCC that are not arrays of strings are ignored', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await declareQueue(c, 'r')
    await publish(c, '', 'q', 'm', { headers: { CC: 'r', BCC: [1, 'r'] } })
    expect(await headersOf(c, 'q')).toEqual([{ CC: 'r' }])
    expect((await headersOf(c, 'r')).length).toBe(1)
  })
})

describe('basic.get', () => {
  test("basic.get's remaining-message count leaves out expired messages at the new head (dropped first, as RabbitMQ does)", async () => {
    const { c, clock } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q', 'a')
    await publish(c, '', 'q', 'b', { expiration: '10' })
    await publish(c, '', 'q', 'c', { expiration: '10' })
    await publish(c, '', 'q', 'd')
    clock.advance(20)
    const got = await c.ok({ op: 'basic.get', queue: 'q', noAck: true })
    expect(got.message.body).toBe('a')
    expect(got.messageCount).toBe(1)
  })
})

describe('passive exchange.declare', () => {
  test('a passive exchange.declare with an empty or missing type is ok if the exchange exists', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'topic')
    await c.ok({ op: 'exchange.declare', exchange: 'x', type: '', passive: true })
    await c.ok({ op: 'exchange.declare', exchange: 'x', passive: true })
  })

  test('a passive exchange.declare with an empty or missing type is 404 if it does not exist', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'exchange.declare', exchange: 'nope', passive: true })).replyCode).toBe(404)
    await c.open()
    expect((await c.fails({ op: 'exchange.declare', exchange: 'nope', type: '', passive: true })).replyCode).toBe(404)
  })

  test('a declare that is not passive still needs a known type (503)', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'exchange.declare', exchange: 'x' })).replyCode).toBe(503)
  })
})
