// Exchange, Queue and binding: declarations, x-argument sugar, serialization, bound methods.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { binding, Exchange, NotBoundError, Queue } from '../../src/index.js'
import { ops, setup, spy, type Setup } from './helpers.js'

describe('declarations', () => {
  it('have Kombu defaults', () => {
    const exchange = new Exchange('media')
    expect(exchange).toMatchObject({ name: 'media', type: 'direct', durable: true, autoDelete: false, internal: false })
    const queue = new Queue('video')
    expect(queue).toMatchObject({ name: 'video', durable: true, exclusive: false, autoDelete: false, routingKey: '' })
    expect(new Queue().name).toBe('')
  })

  it('exclusive forces autoDelete', () => {
    expect(new Queue('q', { exclusive: true, autoDelete: false }).autoDelete).toBe(true)
  })

  it('turns the sugar into x-arguments, in milliseconds, on top of queueArguments', () => {
    const dlx = new Exchange('dlx')
    const queue = new Queue('q', {
      queueArguments: { 'x-max-length': 1, 'x-custom': true },
      messageTtl: 1500,
      expires: 60_000,
      maxLength: 10,
      maxLengthBytes: 4096,
      maxPriority: 5,
      deadLetterExchange: dlx,
      deadLetterRoutingKey: 'dead',
      overflow: 'reject-publish',
      singleActiveConsumer: true,
      deliveryLimit: 3,
    })
    expect(queue.arguments).toEqual({
      'x-custom': true,
      'x-message-ttl': 1500,
      'x-expires': 60_000,
      'x-max-length': 10,
      'x-max-length-bytes': 4096,
      'x-max-priority': 5,
      'x-dead-letter-exchange': 'dlx',
      'x-dead-letter-routing-key': 'dead',
      'x-overflow': 'reject-publish',
      'x-single-active-consumer': true,
      'x-delivery-limit': 3,
    })
  })

  it('round-trip through JSON', () => {
    const media = new Exchange('media', 'topic', { durable: false, deliveryMode: 'transient', arguments: { 'alternate-exchange': 'ae' } })
    const queue = new Queue('video', {
      exchange: media,
      routingKey: 'video.#',
      maxPriority: 3,
      consumerArguments: { 'x-priority': 2 },
      noAck: true,
    })
    const copy = Queue.fromJSON(JSON.parse(JSON.stringify(queue)))
    expect(copy.equals(queue)).toBe(true)
    expect(copy.exchange?.type).toBe('topic')
    expect(copy.exchange?.deliveryMode).toBe(1)
    expect(copy.arguments).toEqual({ 'x-max-priority': 3 })
    const multi = new Queue('multi', { bindings: [binding(media, { routingKey: 'a.*' }), binding('amq.fanout')] })
    const multiCopy = Queue.fromJSON(JSON.parse(JSON.stringify(multi)))
    expect(multiCopy.bindings.map((b) => [b.exchange.name, b.routingKey])).toEqual([
      ['media', 'a.*'],
      ['amq.fanout', ''],
    ])
    expect(Exchange.fromJSON(media.toJSON()).equals(media)).toBe(true)
  })

  it('unbound methods that need a channel throw NotBoundError', async () => {
    const queue = new Queue('q')
    expect(queue.isBound).toBe(false)
    expect(() => queue.channel).toThrow(NotBoundError)
    await expect(queue.declare()).rejects.toBeInstanceOf(NotBoundError)
    await expect(new Exchange('x').declare()).rejects.toBeInstanceOf(NotBoundError)
    await expect(new Exchange('x').publish('hi')).rejects.toBeInstanceOf(NotBoundError)
  })
})

describe('bound entities', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('Queue.declare declares the exchange, the queue and the binding', async () => {
    const conn = await env.connect()
    const media = new Exchange('media', 'topic')
    const video = new Queue('video', { exchange: media, routingKey: 'video.*' }).bind(conn)
    expect(video.isBound).toBe(true)
    expect(await video.declare()).toBe('video')
    await media.bind(conn).publish({ n: 1 }, { routingKey: 'video.avi' })
    const message = await video.get()
    expect(message?.body).toEqual({ n: 1 })
    message?.ack()
  })

  it('declares every binding of a multi-binding queue', async () => {
    const conn = await env.connect()
    const a = new Exchange('a', 'direct')
    const b = new Exchange('b', 'fanout')
    const queue = new Queue('both', { bindings: [binding(a, { routingKey: 'k' }), binding(b)] }).bind(conn)
    await queue.declare()
    await a.bind(conn).publish('via a', { routingKey: 'k' })
    await b.bind(conn).publish('via b')
    expect((await queue.queueDeclare({ passive: true })).messageCount).toBe(2)
    expect(await queue.purge()).toBe(2)
  })

  it('a server-named queue learns its name on declare', async () => {
    const conn = await env.connect()
    const unnamed = new Queue('', { exclusive: true })
    const bound = unnamed.bind(conn)
    const name = await bound.declare()
    expect(name).toMatch(/^amq\.gen-/)
    expect(bound.name).toBe(name)
    expect(unnamed.name).toBe('')
    await conn.producer().publish('x', { routingKey: name })
    expect((await bound.get({ noAck: true }))?.body).toBe('x')
  })

  it('binds and unbinds queues and exchanges', async () => {
    const conn = await env.connect()
    const source = new Exchange('source', 'fanout').bind(conn)
    const dest = new Exchange('dest', 'direct').bind(conn)
    await source.declare()
    await dest.declare()
    const queue = new Queue('e2e').bind(conn)
    await queue.declare()
    await queue.bindTo(dest, { routingKey: 'k' })
    await dest.bindTo(source, { routingKey: 'ignored' })
    await source.publish('hop', { routingKey: 'k' })
    expect((await queue.get({ noAck: true }))?.body).toBe('hop')
    await dest.unbindFrom(source, { routingKey: 'ignored' })
    expect((await source.publish('lost', { routingKey: 'k' })).routed).toBe(false)
    await queue.unbindFrom(dest, { routingKey: 'k' })
    expect((await dest.publish('lost', { routingKey: 'k' })).routed).toBe(false)
    expect(await queue.delete()).toBe(0)
    await dest.delete()
  })

  it('skips declaring the default exchange, amq.* and noDeclare exchanges', async () => {
    const watch = spy(env.broker.connector)
    const conn = await env.connect({ transport: watch.connector })
    await new Exchange('').bind(conn).declare()
    await new Exchange('amq.topic', 'topic').bind(conn).declare()
    await new Exchange('theirs', 'direct', { noDeclare: true }).bind(conn).declare()
    expect(ops(watch.sent, 'exchange.declare')).toHaveLength(0)
  })

  it('maybeDeclare declares once per connection, but always for auto-delete entities', async () => {
    const watch = spy(env.broker.connector)
    const conn = await env.connect({ transport: watch.connector })
    const media = new Exchange('media')
    const video = new Queue('video', { exchange: media, routingKey: 'video' })
    await Promise.all([conn.maybeDeclare(video), conn.maybeDeclare(video)])
    await conn.maybeDeclare(new Queue('video', { exchange: new Exchange('media'), routingKey: 'video' }))
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(1)
    expect(ops(watch.sent, 'exchange.declare')).toHaveLength(1)
    const temp = new Queue('temp', { autoDelete: true })
    await conn.maybeDeclare(temp)
    await conn.maybeDeclare(temp)
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(3)
    // A second connection has a cache of its own.
    const other = await env.connect({ transport: watch.connector })
    await other.maybeDeclare(video)
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(4)
  })

  it('a failed maybeDeclare is not cached', async () => {
    const conn = await env.connect()
    await new Exchange('x', 'fanout').bind(conn).declare()
    const clash = new Exchange('x', 'topic')
    await expect(conn.maybeDeclare(clash)).rejects.toThrow(/PRECONDITION_FAILED/)
    await expect(conn.maybeDeclare(clash)).rejects.toThrow(/PRECONDITION_FAILED/)
  })
})
