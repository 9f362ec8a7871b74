// URLs, the transport registry, memory:// and the in-process link.
import { afterEach, describe, expect, it } from 'vitest'
import {
  BrokerUnavailableError,
  Connection,
  parseUrl,
  Queue,
  registerTransport,
  unregisterTransport,
} from '../../src/index.js'
import { Broker } from '../../src/engine/broker.js'
import { systemClock } from '../../src/hosts/system-clock.js'
import type { ServerEvent } from '../../src/protocol/frames.js'
import { createInProcessTransport } from '../../src/transport/in-process.js'
import type { Connector } from '../../src/transport/link.js'

describe('URLs', () => {
  it('read the vhost after the scheme', () => {
    expect(parseUrl('shared://')).toEqual({ scheme: 'shared', vhost: '/' })
    expect(parseUrl('shared:///')).toEqual({ scheme: 'shared', vhost: '/' })
    expect(parseUrl('shared://orders')).toEqual({ scheme: 'shared', vhost: 'orders' })
    expect(parseUrl('memory:///orders?x=1')).toEqual({ scheme: 'memory', vhost: 'orders' })
    expect(parseUrl('MEMORY://a%2Fb')).toEqual({ scheme: 'memory', vhost: 'a/b' })
    expect(() => parseUrl('nonsense')).toThrow(TypeError)
  })
})

describe('transport registry', () => {
  afterEach(() => {
    unregisterTransport('memory')
    unregisterTransport('never')
  })

  it('an unknown scheme fails with BrokerUnavailableError', async () => {
    const error = await Connection.open('nowhere://').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrokerUnavailableError)
    expect((error as Error).message).toContain("'nowhere://'")
  })

  it('memory:// resolves through the registry to one broker per vhost', async () => {
    registerTransport('memory', async () => (await import('../../src/hosts/in-process.js')).connector)
    const a = await Connection.open('memory://')
    const b = await Connection.open({ url: 'memory://', name: 'second' })
    const other = await Connection.open('memory://other')
    expect(a.vhost).toBe('/')
    expect(other.vhost).toBe('other')
    const shared = new Queue('registry-shared', { durable: false })
    await a.maybeDeclare(shared)
    await a.producer().publish('hi', { routingKey: 'registry-shared' })
    expect((await shared.bind(b).get({ noAck: true }))?.body).toBe('hi')
    await expect(shared.bind(other).queueDeclare({ passive: true })).rejects.toThrow(/NOT_FOUND/)
    await Promise.all([a.close(), b.close(), other.close()])
  })

  it('a connector that never answers times out with BrokerUnavailableError', async () => {
    const never: Connector = () => new Promise(() => {})
    registerTransport('never', () => never)
    const error = await Connection.open({ url: 'never://', connectTimeout: 20 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrokerUnavailableError)
  })
})

describe('in-process link', () => {
  it('delivers frames a microtask later, in batches, as copies', async () => {
    const broker = await Broker.start({ clock: systemClock })
    const transport = createInProcessTransport(() => broker)
    const { link, welcome } = await transport.connector({ vhost: '/', connectTimeout: 100 })
    expect(welcome).toMatchObject({ op: 'welcome', epoch: broker.epoch, brokerId: broker.brokerId })
    const events: ServerEvent[] = []
    link.listen({ frame: (e) => events.push(e), welcome: () => {}, down: () => {} })
    const body = { mutable: 1 }
    link.send({ op: 'channel.open', channel: 1, id: 1 })
    link.send({ op: 'queue.declare', channel: 1, id: 2, queue: 'copy', durable: false })
    link.send({ op: 'basic.publish', channel: 1, id: 3, exchange: '', routingKey: 'copy', properties: {}, body })
    body.mutable = 2
    expect(events).toHaveLength(0)
    // The broker answers in a later task (its batches flush through a MessageChannel): poll, not a timer.
    await expect.poll(() => events.map((e) => e.op)).toEqual(['ok', 'ok', 'ok'])
    link.send({ op: 'basic.get', channel: 1, id: 4, queue: 'copy', noAck: true })
    await expect.poll(() => events.length).toBe(4)
    const got = events[3] as { result: { message: { body: unknown } } }
    expect(got.result.message.body).toEqual({ mutable: 1 })
    await link.close()
    expect(transport.links.size).toBe(0)
  })

  it('answers requests it cannot carry with errors', async () => {
    const broker = await Broker.start({ clock: systemClock })
    const transport = createInProcessTransport(() => broker)
    const { link } = await transport.connector({ vhost: '/', connectTimeout: 100 })
    const events: ServerEvent[] = []
    link.listen({ frame: (e) => events.push(e), welcome: () => {}, down: () => {} })
    link.send({ op: 'basic.publish', channel: 1, id: 7, exchange: '', routingKey: 'x', properties: {}, body: () => {} })
    transport.dropAll()
    link.send({ op: 'channel.open', channel: 1, id: 8 })
    await expect.poll(() => events.length).toBe(2)
    expect(events).toEqual([
      { op: 'error', id: 7, error: expect.objectContaining({ name: 'EncodeError', code: 'ENCODE' }) },
      { op: 'error', id: 8, error: expect.objectContaining({ name: 'ConnectionClosedError', code: 'CONNECTION_CLOSED' }) },
    ])
    await link.close()
  })

  it('fails to connect with BROKER_UNAVAILABLE when no broker can be found', async () => {
    const transport = createInProcessTransport(() => {
      throw new Error('none')
    })
    const error = await Connection.open({ transport: transport.connector }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrokerUnavailableError)
  })
})
