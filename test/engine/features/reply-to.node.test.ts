// Direct reply-to (amq.rabbitmq.reply-to, §4.12): a no-ack pseudo-consumer per channel; a request's
// replyTo is rewritten to an opaque address of that channel; a reply to the default exchange under
// that address goes straight to the consumer (no queue; dropped if gone; counts as routed); a passive
// declare of the address tells whether the requester is still there.
import { describe, expect, it } from 'vitest'
import { setup } from './setup.js'

const REPLY_TO = 'amq.rabbitmq.reply-to'

/** A requester (client `c`, channel 1, consuming replies) and a server client consuming queue 'rpc'. */
async function rpc() {
  const t = await setup()
  await t.declare('rpc')
  await t.consume(REPLY_TO, { tag: 'replies', noAck: true })
  const server = await t.newClient()
  await server.consume('rpc', { noAck: true })
  await t.settle()
  /** Sends a request and returns the address the server saw as replyTo. */
  const request = async (body: unknown = 'question') => {
    await t.publish('rpc', body, { replyTo: REPLY_TO, correlationId: `id-${String(body)}` })
    return server.deliveries().at(-1)!.properties.replyTo!
  }
  return { ...t, server, request }
}

describe('direct reply-to (amq.rabbitmq.reply-to)', () => {
  it('rewrites the replyTo of a request to an opaque address of the requester', async () => {
    const { request, server } = await rpc()
    const address = await request()
    expect(address.startsWith(`${REPLY_TO}.`)).toBe(true)
    expect(address.length).toBeGreaterThan(REPLY_TO.length + 1)
    expect(server.deliveries()[0]!.properties.correlationId).toBe('id-question')
  })

  it('a reply to the default exchange under that address goes straight to the requester\'s consumer', async () => {
    const { request, server, c, broker } = await rpc()
    const address = await request()
    const queuesBefore = broker.inspect().queues.length
    const reply = await server.publish(address, 'answer', { correlationId: 'id-question' })
    expect(reply).toMatchObject({ op: 'ok', result: { routed: true } })
    const delivered = c.deliveries(1)
    expect(delivered).toHaveLength(1)
    expect(delivered[0]).toMatchObject({
      consumerTag: 'replies',
      exchange: '',
      routingKey: address,
      redelivered: false,
      body: 'answer',
      properties: { correlationId: 'id-question' },
    })
    expect(broker.inspect().queues.length).toBe(queuesBefore) // no queue involved
  })

  it('reply deliveries take their place in the channel\'s delivery tags and need no ack', async () => {
    const { request, server, c, get, declare, publish } = await rpc()
    await declare('other')
    await publish('other', 'x')
    const got = await get('other', false)
    const address = await request()
    await server.publish(address, 'answer')
    expect(c.deliveries(1)[0]!.deliveryTag).toBe(got!.deliveryTag + 1)
    // Nothing to ack: acking the reply's tag is an unknown tag.
    const error = await c.fails({ op: 'basic.ack', deliveryTag: c.deliveries(1)[0]!.deliveryTag })
    expect(error.replyCode).toBe(406)
  })

  it('several requests on one channel share its address; each channel has its own', async () => {
    const { request, c, server, consume, settle } = await rpc()
    const first = await request('a')
    const second = await request('b')
    expect(second).toBe(first)
    await c.open(2)
    await consume(REPLY_TO, { channel: 2, noAck: true })
    await settle()
    await c.ok({ op: 'basic.publish', channel: 2, exchange: '', routingKey: 'rpc', properties: { replyTo: REPLY_TO }, body: 'c' })
    const third = server.deliveries().at(-1)!.properties.replyTo!
    expect(third).not.toBe(first)
    await server.publish(third, 'to-channel-2')
    expect(c.deliveries(2).map((d) => d.body)).toEqual(['to-channel-2'])
    expect(c.deliveries(1)).toEqual([])
  })

  it('a reply for a requester that is gone is dropped, and still counts as routed (no return with mandatory)', async () => {
    const { request, server, c, broker } = await rpc()
    const address = await request()
    broker.disconnect(c.id)
    const reply = await server.publish(address, 'late', {}, '', true)
    expect(reply).toMatchObject({ op: 'ok', result: { routed: true } })
    expect(server.of('basic.return')).toEqual([])
    expect(c.deliveries()).toEqual([])
  })

  it('a reply after the requester cancelled its reply consumer or closed its channel is dropped', async () => {
    const { request, server, c } = await rpc()
    const address = await request()
    await c.ok({ op: 'basic.cancel', consumerTag: 'replies' })
    await server.publish(address, 'after-cancel')
    expect(c.deliveries()).toEqual([])
  })

  it('a passive declare of the address succeeds while the requester is there, 404 after', async () => {
    const { request, server, c } = await rpc()
    const address = await request()
    expect(await server.ok({ op: 'queue.declare', queue: address, passive: true })).toEqual({ queue: address, messageCount: 0, consumerCount: 1 })
    await c.ok({ op: 'channel.close' })
    const error = await server.fails({ op: 'queue.declare', queue: address, passive: true })
    expect(error.replyCode).toBe(404)
  })

  it('a passive declare of an address nobody was given is 404; of the pseudo-queue itself, ok', async () => {
    const { c } = await setup()
    expect(await c.ok({ op: 'queue.declare', queue: REPLY_TO, passive: true })).toMatchObject({ queue: REPLY_TO, messageCount: 0 })
    const error = await c.fails({ op: 'queue.declare', queue: `${REPLY_TO}.made-up`, passive: true })
    expect(error.replyCode).toBe(404)
  })

  it('the reply consumer must be no-ack (406)', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'basic.consume', queue: REPLY_TO, noAck: false })
    expect(error.replyCode).toBe(406)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  it('at most one reply consumer per channel (406)', async () => {
    const { c, consume } = await setup()
    await consume(REPLY_TO, { noAck: true })
    const error = await c.fails({ op: 'basic.consume', queue: REPLY_TO, noAck: true })
    expect(error.replyCode).toBe(406)
  })

  it('after a cancel the channel may consume replies again, under a new address', async () => {
    const { request, c, consume, settle, server } = await rpc()
    const first = await request()
    await c.ok({ op: 'basic.cancel', consumerTag: 'replies' })
    await consume(REPLY_TO, { tag: 'again', noAck: true })
    await settle()
    const second = await request()
    expect(second).not.toBe(first)
    await server.publish(second, 'ok')
    expect(c.deliveries(1).map((d) => [d.consumerTag, d.body])).toEqual([['again', 'ok']])
  })

  it('a request with replyTo amq.rabbitmq.reply-to on a channel without a reply consumer is refused (406)', async () => {
    const { declare, publish, c } = await setup()
    await declare('rpc')
    const reply = await publish('rpc', 'q', { replyTo: REPLY_TO })
    expect(reply.op === 'error' && reply.error.replyCode).toBe(406)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  it('the reply consumer\'s tag cannot be reused on its channel (530)', async () => {
    const { c, consume, declare } = await setup()
    await declare('q')
    await consume(REPLY_TO, { tag: 'mine', noAck: true })
    const error = await c.fails({ op: 'basic.consume', queue: 'q', consumerTag: 'mine' })
    expect(error.replyCode).toBe(530)
  })

  it('the pseudo-queue cannot be declared, bound or read like a queue', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: REPLY_TO })).replyCode).toBe(403)
    await c.open(1)
    expect((await c.fails({ op: 'basic.get', queue: REPLY_TO })).replyCode).toBe(404)
  })

  it('the reply consumer does not show as a queue consumer anywhere', async () => {
    const { consume, broker } = await setup()
    await consume(REPLY_TO, { noAck: true })
    expect(broker.inspect().queues.flatMap((q) => q.consumers)).toEqual([])
  })
})
