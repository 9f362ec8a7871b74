// Producer.publish: confirms, returns, properties, defaults, nacks, ordering, abort.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Exchange, NotFoundError, Producer, PublishNackError, Queue, type ReturnedMessage } from '../../src/index.js'
import { ops, setup, spy, type Setup } from './helpers.js'

describe('Producer', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('resolves with the publisher confirm', async () => {
    const conn = await env.connect()
    const queue = new Queue('jobs')
    await conn.maybeDeclare(queue)
    expect(await conn.producer().publish({ job: 1 }, { routingKey: 'jobs' })).toEqual({ routed: true })
    expect(await conn.producer().publish({ job: 2 }, { routingKey: 'nobody' })).toEqual({ routed: false })
  })

  it('hands mandatory unroutable messages to onReturn before the publish resolves', async () => {
    const conn = await env.connect()
    const events: string[] = []
    let returned: ReturnedMessage | undefined
    const producer = conn.producer({
      onReturn: (message) => {
        events.push('return')
        returned = message
      },
    })
    const confirm = await producer.publish({ lost: true }, { routingKey: 'nobody', mandatory: true })
    events.push('confirm')
    expect(events).toEqual(['return', 'confirm'])
    expect(confirm.routed).toBe(false)
    expect(returned).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE', exchange: '', routingKey: 'nobody' })
    expect(await returned!.decode()).toEqual({ lost: true })
  })

  it('maps publish options to message properties', async () => {
    const conn = await env.connect()
    const queue = new Queue('props').bind(conn)
    await queue.declare()
    const replies = new Queue('replies')
    await conn.producer().publish('hello', {
      routingKey: 'props',
      priority: 3,
      expiration: 60_000,
      headers: { 'x-trace': 'abc' },
      correlationId: 'c1',
      replyTo: replies,
      messageId: 'm1',
      timestamp: new Date(5_000),
      type: 'greeting',
      appId: 'tests',
    })
    const message = (await queue.get({ noAck: true }))!
    expect(message.properties).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      priority: 3,
      expiration: '60000',
      headers: { 'x-trace': 'abc' },
      correlationId: 'c1',
      replyTo: 'replies',
      messageId: 'm1',
      timestamp: 5,
      type: 'greeting',
      appId: 'tests',
    })
    expect(message.body).toBe('hello')
  })

  it('defaults the delivery mode to the exchange’s, else persistent', async () => {
    const conn = await env.connect()
    const transient = new Exchange('fast', 'fanout', { deliveryMode: 'transient' })
    const queue = new Queue('modes', { exchange: transient }).bind(conn)
    await queue.declare()
    await conn.producer({ exchange: transient }).publish(1)
    await conn.producer({ exchange: transient }).publish(2, { deliveryMode: 'persistent' })
    await conn.producer().publish(3, { routingKey: 'modes' })
    const modes = []
    for (let i = 0; i < 3; i++) modes.push((await queue.get({ noAck: true }))!.properties.deliveryMode)
    expect(modes).toEqual([1, 2, 2])
  })

  it('declares its exchange once and the declare list before publishing', async () => {
    const watch = spy(env.broker.connector)
    const conn = await env.connect({ transport: watch.connector })
    const media = new Exchange('media', 'topic')
    const video = new Queue('video', { exchange: media, routingKey: 'video.#' })
    const producer = new Producer(conn, { exchange: media, routingKey: 'video.new' })
    await producer.publish('a', { declare: [video] })
    await producer.publish('b', { declare: [video] })
    expect(ops(watch.sent, 'exchange.declare')).toHaveLength(1)
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(1)
    expect((await video.bind(conn).queueDeclare({ passive: true })).messageCount).toBe(2)
  })

  it('sends a publish whose declarations are done at once, in call order behind one that waits', async () => {
    const watch = spy(env.broker.connector)
    const conn = await env.connect({ transport: watch.connector })
    const queue = new Queue('now')
    const producer = conn.producer({ routingKey: 'now' })
    // The first waits for its declare; the one right behind it waits for its turn.
    const first = producer.publish('a', { declare: [queue] })
    const second = producer.publish('b', { declare: [queue] })
    expect(ops(watch.sent, 'basic.publish')).toHaveLength(0)
    await Promise.all([first, second])
    // Declared on this session: the next goes to the link within the call, no promise turn later.
    const third = producer.publish('c', { declare: [queue] })
    expect(ops(watch.sent, 'basic.publish').map((f) => (f as { body: unknown }).body)).toEqual(['"a"', '"b"', '"c"'])
    await third
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(1)
  })

  it('rejects with PublishNackError when the broker refuses the message', async () => {
    const conn = await env.connect()
    const queue = new Queue('tiny', { maxLength: 1, overflow: 'reject-publish' })
    await conn.maybeDeclare(queue)
    const producer = conn.producer({ routingKey: 'tiny' })
    await producer.publish(1)
    const error = await producer.publish(2).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PublishNackError)
    expect((error as PublishNackError).code).toBe('NACK')
    // A nack is not a channel error: the channel is still usable.
    await expect(producer.publish(3, { routingKey: 'elsewhere' })).resolves.toEqual({ routed: false })
  })

  it('rejects with NotFoundError for a missing exchange, without retrying', async () => {
    const watch = spy(env.broker.connector)
    const conn = await env.connect({ transport: watch.connector })
    await expect(conn.producer({ exchange: 'missing' }).publish('x')).rejects.toBeInstanceOf(NotFoundError)
    expect(ops(watch.sent, 'basic.publish')).toHaveLength(1)
  })

  it('keeps call order even when some messages are compressed', async () => {
    const conn = await env.connect()
    const queue = new Queue('ordered').bind(conn)
    await queue.declare()
    const producer = conn.producer({ routingKey: 'ordered' })
    await Promise.all([
      producer.publish('first', { compression: 'gzip' }),
      producer.publish('second'),
      producer.publish('third', { compression: 'deflate' }),
      producer.publish('fourth'),
    ])
    const bodies = []
    for (let i = 0; i < 4; i++) bodies.push((await queue.get({ noAck: true }))!.body)
    expect(bodies).toEqual(['first', 'second', 'third', 'fourth'])
  })

  it('rejects with the abort reason when its signal aborts', async () => {
    const conn = await env.connect()
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(conn.producer().publish('x', { signal: controller.signal })).rejects.toThrow('stop')
    const later = new AbortController()
    const publishing = conn.producer().publish('y', { signal: later.signal, compression: 'gzip' })
    later.abort(new Error('changed my mind'))
    await expect(publishing).rejects.toThrow('changed my mind')
  })

  it('Exchange.publish is the low-level path', async () => {
    const conn = await env.connect()
    const logs = new Exchange('logs', 'fanout').bind(conn)
    await logs.declare()
    const queue = new Queue('log-tail', { exchange: logs }).bind(conn)
    await queue.declare()
    expect(await logs.publish({ line: 1 })).toEqual({ routed: true })
    expect((await queue.get({ noAck: true }))!.body).toEqual({ line: 1 })
  })
})
