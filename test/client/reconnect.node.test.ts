// Broker restarts: the link drops and comes back with a new epoch; the connection redeclares
// its entities, reopens channels, resumes consumers with the same tags and retries publishes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConnectionClosedError, Exchange, Queue, type ConnectionStatus, type Message } from '../../src/index.js'
import type { ClientCommand } from '../../src/protocol/frames.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import type { Connector } from '../../src/transport/link.js'
import { ops, setup, spy, tick, type Setup } from './helpers.js'

/** Calls `hook` on every frame before the link gets it. */
const intercept = (connector: Connector, hook: (frame: ClientCommand) => void): Connector => async (options) => {
  const { link, welcome } = await connector(options)
  const send = link.send.bind(link)
  link.send = (frame) => {
    hook(frame)
    send(frame)
  }
  return { link, welcome }
}

const collect = (conn: { status: AsyncIterable<ConnectionStatus> }) => {
  const events: ConnectionStatus[] = []
  void (async () => {
    for await (const event of conn.status) events.push(event)
  })()
  return events
}

const until = async (condition: () => boolean, timeout = 2000) => {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('reconnect after a broker restart', () => {
  let env: Setup
  let storage: MemoryStorage
  beforeEach(async () => {
    storage = new MemoryStorage()
    env = await setup({ storage })
  })
  afterEach(() => env.close())

  it('reports reconnecting, then connected with the new epoch', async () => {
    const conn = await env.connect()
    const events = collect(conn)
    expect(conn.epoch).toBe(1)
    await env.broker.restart()
    await conn.whenReady()
    await until(() => events.length >= 2)
    expect(events.map((e) => e.type)).toEqual(['reconnecting', 'connected'])
    // The link failed with its own LinkError; the application sees the client's class.
    expect((events[0] as { reason: Error }).reason).toBeInstanceOf(ConnectionClosedError)
    expect(events[1]).toMatchObject({ type: 'connected', epoch: 2, recovered: true })
    expect(conn.epoch).toBe(2)
    expect(conn.state).toBe('connected')
  })

  it('redeclares its entities, including transient and server-named ones', async () => {
    const conn = await env.connect()
    const fast = new Exchange('fast', 'fanout', { durable: false })
    const temp = new Queue('temp', { exchange: fast, durable: false }).bind(conn)
    await temp.declare()
    const mine = new Queue('', { exclusive: true, exchange: fast }).bind(conn)
    const before = await mine.declare()
    await env.broker.restart()
    await conn.whenReady()
    // The broker lost the transient entities; the connection declared them again.
    expect(env.broker.broker.exchanges.has('fast')).toBe(true)
    expect(env.broker.broker.queues.has('temp')).toBe(true)
    expect(mine.name).not.toBe(before)
    expect(env.broker.broker.queues.has(mine.name)).toBe(true)
    // And bound them again: a fanout publish reaches both queues.
    await conn.producer({ exchange: fast }).publish('after')
    expect((await temp.get({ noAck: true }))?.body).toBe('after')
    expect((await mine.get({ noAck: true }))?.body).toBe('after')
  })

  it('resumes consumers with the same tags and prefetch', async () => {
    const conn = await env.connect()
    const jobs = new Queue<number>('jobs')
    const got: Message<number>[] = []
    const consumer = await conn.consumer(jobs, { prefetch: 1, onMessage: (m) => void got.push(m) }).consume()
    const [tag] = consumer.consumerTags
    await conn.producer().publish(1, { routingKey: 'jobs' })
    await until(() => got.length === 1)
    await env.broker.restart()
    await conn.whenReady()
    expect(consumer.consumerTags).toEqual([tag])
    // The persistent message survived the restart; its old delivery is void: acking it is a
    // no-op, and it comes again, flagged redelivered.
    got[0]!.ack()
    await until(() => got.length === 2)
    expect(got[1]).toMatchObject({ body: 1, redelivered: true, consumerTag: tag })
    await conn.producer().publish(2, { routingKey: 'jobs' })
    await tick()
    await tick()
    // prefetch 1 still holds: the second message waits for the ack.
    expect(got).toHaveLength(2)
    got[1]!.ack()
    await until(() => got.length === 3)
    expect(got[2]!.body).toBe(2)
    got[2]!.ack()
    expect(conn.defaultChannel.isOpen).toBe(true)
  })

  it('retries a publish lost with the link, once the broker is back', async () => {
    let restarted: Promise<unknown> | undefined
    const connector = intercept(env.broker.connector, (frame) => {
      if (frame.op === 'basic.publish' && !restarted) restarted = env.broker.restart()
    })
    const conn = await env.connect({ transport: connector })
    const queue = new Queue('retry').bind(conn)
    await queue.declare()
    const confirm = await conn.producer().publish('once', { routingKey: 'retry' })
    expect(confirm.routed).toBe(true)
    await restarted
    expect(conn.epoch).toBe(2)
    expect((await queue.queueDeclare({ passive: true })).messageCount).toBe(1)
  })

  it('a publish made while the broker is down goes out after recovery', async () => {
    const conn = await env.connect()
    const queue = new Queue('held').bind(conn)
    await queue.declare()
    const restart = env.broker.restart()
    const publishing = conn.producer().publish('held back', { routingKey: 'held', retry: false })
    await restart
    await expect(publishing).resolves.toEqual({ routed: true })
    expect((await queue.get({ noAck: true }))?.body).toBe('held back')
  })

  it('rejects other pending requests with ConnectionClosedError', async () => {
    let restarted: Promise<unknown> | undefined
    const connector = intercept(env.broker.connector, (frame) => {
      if (frame.op === 'queue.purge' && !restarted) restarted = env.broker.restart()
    })
    const conn = await env.connect({ transport: connector })
    const queue = new Queue('p').bind(conn)
    await queue.declare()
    const error = await queue.purge().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectionClosedError)
    await restarted
    await expect(queue.purge()).resolves.toBe(0)
  })

  it('clears the maybeDeclare cache', async () => {
    const watch = spy(env.broker.connector)
    const conn = await env.connect({ transport: watch.connector })
    const queue = new Queue('cached')
    await conn.maybeDeclare(queue)
    await conn.maybeDeclare(queue)
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(1)
    await env.broker.restart()
    await conn.whenReady()
    // Recovery redeclared it once; the cache starts empty again.
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(2)
    await conn.maybeDeclare(queue)
    await conn.maybeDeclare(queue)
    expect(ops(watch.sent, 'queue.declare')).toHaveLength(3)
  })

  it('an iterator keeps going across a restart', async () => {
    const conn = await env.connect()
    const queue = new Queue<string>('stream')
    await conn.maybeDeclare(queue)
    const producer = conn.producer<string>({ routingKey: 'stream' })
    await producer.publish('before')
    const bodies: string[] = []
    for await (const message of conn.consume(queue)) {
      bodies.push(message.body)
      message.ack()
      if (bodies.length === 1) {
        await tick() // let the ack reach the broker (or 'before' would be redelivered)
        await env.broker.restart()
        await producer.publish('after')
      }
      if (bodies.length === 2) break
    }
    expect(bodies).toEqual(['before', 'after'])
  })

  it('closing while down ends everything without waiting', async () => {
    const conn = await env.connect()
    const events = collect(conn)
    env.broker.stop()
    await conn.close()
    expect(conn.state).toBe('closed')
    await until(() => events.some((e) => e.type === 'disconnected'))
    await expect(conn.channel()).rejects.toBeInstanceOf(ConnectionClosedError)
  })
})

describe('a link that drops and comes back to the same broker', () => {
  it('starts a fresh session: unacked deliveries come again, consumers resume', async () => {
    const { Broker } = await import('../../src/engine/broker.js')
    const { systemClock } = await import('../../src/hosts/system-clock.js')
    const { createInProcessTransport } = await import('../../src/transport/in-process.js')
    const { Connection } = await import('../../src/index.js')
    const broker = await Broker.start({ clock: systemClock })
    const transport = createInProcessTransport(() => broker)
    const conn = await Connection.open({ transport: transport.connector })
    const queue = new Queue<number>('same')
    await conn.maybeDeclare(queue)
    const got: Message<number>[] = []
    await conn.consumer(queue, { onMessage: (m) => void got.push(m) }).consume()
    await conn.producer().publish(1, { routingKey: 'same' })
    await until(() => got.length === 1)
    transport.dropAll()
    await transport.reconnectAll()
    await conn.whenReady()
    expect(conn.epoch).toBe(1)
    await until(() => got.length === 2)
    expect(got[1]).toMatchObject({ body: 1, redelivered: true })
    got[0]!.ack() // stale: dropped
    got[1]!.ack()
    await tick()
    expect(conn.defaultChannel.isOpen).toBe(true)
    expect((await queue.bind(conn).queueDeclare({ passive: true })).messageCount).toBe(0)
    await conn.close()
    await broker.stop()
  })
})
