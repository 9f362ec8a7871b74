// The management API end to end in one Node process: a Broker on a fake clock serves it with
// serveManagement, a console reaches it with openManagement over real (Node) BroadcastChannels
// and comlink, and a plain engine client plays the application.
import * as Comlink from 'comlink'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  AccessRefusedError,
  CommandInvalidError,
  ConnectionClosedError,
  NotFoundError,
  PreconditionFailedError,
  TimeoutError,
} from '../../src/client/errors.js'
import { openManagement, listVhosts, type ManagementClient } from '../../src/client/management.js'
import { consoleChannelName, MANAGEMENT_METHODS, type ManagementApi } from '../../src/protocol/management.js'
import { serveManagement } from '../../src/hosts/management.js'
import { RateTracker } from '../../src/hosts/management-rates.js'
import { startBroker } from '../engine/harness.js'

type Started = Awaited<ReturnType<typeof startBroker>>

let vhostSeq = 0

describe('management API', () => {
  let h: Started
  let stop: () => void
  let m: ManagementClient
  let vhost: string

  beforeEach(async () => {
    // A vhost per test: BroadcastChannels are process-wide, tests must not hear each other.
    vhost = `mgmt-${process.pid}-${++vhostSeq}`
    h = await startBroker()
    stop = serveManagement(h.broker, vhost, { clock: h.clock })
    m = await openManagement({ vhost, connectTimeout: 2000, callTimeout: 2000 })
  })
  afterEach(async () => {
    m.close()
    stop()
    await h.broker.stop()
  })

  it('connects and reports the broker it reached', async () => {
    expect(m.status).toBe('connected')
    expect(m.brokerId).toBe('test')
    expect(m.epoch).toBe(h.broker.epoch)
    const overview = await m.overview()
    expect(overview.vhost).toBe('/')
    expect(overview.brokerId).toBe('test')
    expect(overview.storage).toBe('memory') // a broker without storage
    // The predeclared exchanges, sorted; the management client itself is not listed.
    expect(overview.exchanges.map((e) => e.name)).toEqual(['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.topic'])
    expect(overview.clients).toEqual([])
    expect(overview.totals).toEqual({ exchanges: 6, queues: 0, clients: 0, consumers: 0, ready: 0, unacked: 0, messages: 0 })
  })

  it('declares queue types (x-queue-type in the arguments) and shows each queue\'s type', async () => {
    await m.declareQueue({ name: 'jobs', durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 3 } })
    await m.declareQueue({ name: 'plain' })
    await expect(m.declareQueue({ name: 'bad', arguments: { 'x-queue-type': 'quorum' } })).rejects.toThrow(/PRECONDITION_FAILED/)
    await expect(m.declareQueue({ name: 'odd', durable: true, arguments: { 'x-queue-type': 'lazy' } })).rejects.toThrow(/PRECONDITION_FAILED/)
    const overview = await m.overview()
    expect(overview.queues.map((q) => [q.name, q.type])).toEqual([['jobs', 'quorum'], ['plain', 'classic']])
    expect(overview.queues[0]!.typeDetails).toEqual({})
  })

  it('declares, binds, publishes and shows it in the overview', async () => {
    await m.declareExchange({ name: 'chat', type: 'topic', durable: true })
    expect(await m.declareQueue({ name: 'room', durable: true })).toEqual({ queue: 'room', messageCount: 0, consumerCount: 0 })
    await m.declareBinding({ source: 'chat', destination: 'room', routingKey: 'room.#' })
    expect(await m.publish({ exchange: 'chat', routingKey: 'room.lobby', body: '{"hi":1}', properties: { contentType: 'application/json' }, headers: { from: 'console' } })).toEqual({ routed: true })
    expect(await m.publish({ exchange: 'chat', routingKey: 'elsewhere', body: 'x' })).toEqual({ routed: false })

    const overview = await m.overview()
    const chat = overview.exchanges.find((e) => e.name === 'chat')!
    expect(chat).toMatchObject({ type: 'topic', durable: true, autoDelete: false, internal: false })
    expect(chat.bindings).toEqual([{ source: 'chat', destination: 'room', destinationKind: 'queue', routingKey: 'room.#', arguments: {} }])
    const room = overview.queues.find((q) => q.name === 'room')!
    expect(room).toMatchObject({ ready: 1, unacked: 0, total: 1, durable: true })
    expect(room.counters.published).toBe(1)

    const [message] = await m.getMessages('room', 1, { ackMode: 'requeue' })
    expect(message).toMatchObject({ exchange: 'chat', routingKey: 'room.lobby', body: '{"hi":1}', redelivered: false, messageCount: 0 })
    expect(message!.properties).toMatchObject({ contentType: 'application/json', headers: { from: 'console' } })
  })

  it('declares a stream queue and shows its first and last offsets and segments', async () => {
    await m.declareQueue({ name: 'events', durable: true, arguments: { 'x-queue-type': 'stream' } })
    expect((await m.overview()).queues.find((q) => q.name === 'events')!.stream).toEqual({ firstOffset: 0, lastOffset: null, segments: 0 })
    for (let i = 0; i < 3; i++) await m.publish({ exchange: '', routingKey: 'events', body: `e${i}` })
    const events = (await m.overview()).queues.find((q) => q.name === 'events')!
    expect(events.stream).toEqual({ firstOffset: 0, lastOffset: 2, segments: 1 })
    expect(events.ready).toBe(3)
    await m.declareQueue({ name: 'plain', durable: true })
    expect((await m.overview()).queues.find((q) => q.name === 'plain')!.stream).toBeUndefined()
  })

  it('exchange-to-exchange bindings and unbind', async () => {
    await m.declareExchange({ name: 'a', type: 'fanout' })
    await m.declareExchange({ name: 'b', type: 'direct' })
    await m.declareBinding({ source: 'a', destination: 'b', destinationKind: 'exchange', routingKey: 'k' })
    let overview = await m.overview()
    expect(overview.exchanges.find((e) => e.name === 'a')!.bindings).toEqual([
      { source: 'a', destination: 'b', destinationKind: 'exchange', routingKey: 'k', arguments: {} },
    ])
    await m.deleteBinding({ source: 'a', destination: 'b', destinationKind: 'exchange', routingKey: 'k' })
    overview = await m.overview()
    expect(overview.exchanges.find((e) => e.name === 'a')!.bindings).toEqual([])
    await m.deleteExchange('a')
    await m.deleteExchange('b')
    overview = await m.overview()
    expect(overview.exchanges.map((e) => e.name)).not.toContain('a')
  })

  it('sees application clients, their consumers and unacked messages', async () => {
    const app = h.client('tab-1')
    await app.open()
    await app.ok({ op: 'queue.declare', queue: 'jobs' })
    await app.ok({ op: 'basic.qos', prefetchCount: 2 })
    await app.ok({ op: 'basic.consume', queue: 'jobs', consumerTag: 'worker-1' })
    for (let i = 0; i < 3; i++) await m.publish({ exchange: '', routingKey: 'jobs', body: `job ${i}` })
    await h.settle()
    const overview = await m.overview()
    const jobs = overview.queues.find((q) => q.name === 'jobs')!
    expect(jobs).toMatchObject({ ready: 1, unacked: 2, total: 3 })
    expect(jobs.consumers).toEqual([
      { tag: 'worker-1', clientId: 'tab-1', clientKind: 'unknown', clientName: undefined, channel: 1, prefetch: 2, unacked: 2, noAck: false, priority: 0, active: true },
    ])
    expect(overview.clients).toMatchObject([{ id: 'tab-1', kind: 'unknown', channels: 1, consumers: 1, unacked: 2, liveness: 'unknown' }])
    expect(overview.totals).toMatchObject({ queues: 1, clients: 1, consumers: 1, ready: 1, unacked: 2, messages: 3 })
  })

  it('computes rates from counter deltas every sample interval', async () => {
    await m.declareQueue({ name: 'q' })
    const app = h.client()
    await app.open()
    await app.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'c' })
    for (let i = 0; i < 10; i++) await m.publish({ exchange: '', routingKey: 'q', body: i })
    await h.settle()
    const tags = app.deliveries().map((d) => d.deliveryTag)
    expect(tags).toHaveLength(10)
    for (const tag of tags.slice(0, 4)) await app.ok({ op: 'basic.ack', deliveryTag: tag })

    h.clock.advance(1000)
    let overview = await m.overview()
    expect(overview.rates).toEqual({ publish: 10, deliver: 10, ack: 4, redeliver: 0 })
    const q = overview.queues.find((x) => x.name === 'q')!
    expect(q.rates).toEqual({ publish: 10, deliver: 10, ack: 4, redeliver: 0 })
    expect(q.history.at(-1)).toMatchObject({ counts: { publish: 10, deliver: 10, ack: 4, redeliver: 0 }, ready: 0, unacked: 6 })

    // Over a two-second interval the rate halves; counts stay exact.
    for (const tag of tags.slice(4)) await app.ok({ op: 'basic.ack', deliveryTag: tag })
    h.clock.advance(1000)
    h.clock.advance(1000)
    overview = await m.overview()
    expect(overview.rates).toEqual({ publish: 0, deliver: 0, ack: 0, redeliver: 0 })
    expect(overview.history.map((s) => s.counts.ack)).toEqual([4, 6, 0])
    expect(overview.history).toHaveLength(3)

    // Requeued messages come back redelivered: the redeliver rate shows it.
    for (let i = 0; i < 2; i++) await m.publish({ exchange: '', routingKey: 'q', body: i })
    await h.settle()
    app.ok({ op: 'basic.recover', requeue: true })
    await h.settle()
    h.clock.advance(1000)
    overview = await m.overview()
    expect(overview.history.at(-1)!.counts).toEqual({ publish: 2, deliver: 4, ack: 0, redeliver: 2 })
  })

  it('get messages: requeue puts them back redelivered, ack removes them', async () => {
    await m.declareQueue({ name: 'q' })
    for (let i = 0; i < 5; i++) await m.publish({ exchange: '', routingKey: 'q', body: `m${i}` })
    const peek = await m.getMessages('q', 3, { ackMode: 'requeue' })
    expect(peek.map((x) => x.body)).toEqual(['m0', 'm1', 'm2'])
    expect(peek.map((x) => x.messageCount)).toEqual([4, 3, 2])
    let overview = await m.overview()
    expect(overview.queues[0]).toMatchObject({ ready: 5, unacked: 0 })

    const again = await m.getMessages('q', 2, { ackMode: 'ack' })
    expect(again.map((x) => [x.body, x.redelivered])).toEqual([['m0', true], ['m1', true]])
    overview = await m.overview()
    expect(overview.queues[0]).toMatchObject({ ready: 3, unacked: 0 })
    expect(await m.getMessages('q', 100, { ackMode: 'ack' })).toHaveLength(3)
    expect(await m.getMessages('q', 1)).toEqual([])
  })

  it('purges and deletes queues; the application sees it', async () => {
    const app = h.client()
    await app.open()
    await app.ok({ op: 'queue.declare', queue: 'work' })
    for (let i = 0; i < 4; i++) await m.publish({ exchange: '', routingKey: 'work', body: i })
    expect(await m.purge('work')).toEqual({ messageCount: 4 })
    expect((await app.ok({ op: 'basic.get', queue: 'work' })).message).toBeNull()
    await app.ok({ op: 'basic.consume', queue: 'work', consumerTag: 'w' })
    await m.publish({ exchange: '', routingKey: 'work', body: 'last' })
    expect(await m.deleteQueue('work')).toEqual({ messageCount: 0 })
    await h.settle()
    // The broker told the application its consumer is gone.
    expect(app.of('basic.cancel-notify').map((e) => e.consumerTag)).toEqual(['w'])
    expect((await m.overview()).queues).toEqual([])
  })

  it('moves dead-lettered messages back to their queue', async () => {
    await m.declareExchange({ name: 'dlx', type: 'fanout' })
    await m.declareQueue({ name: 'jobs.dead' })
    await m.declareBinding({ source: 'dlx', destination: 'jobs.dead' })
    await m.declareQueue({ name: 'jobs', arguments: { 'x-dead-letter-exchange': 'dlx' } })
    const app = h.client()
    await app.open()
    for (let i = 0; i < 3; i++) await m.publish({ exchange: '', routingKey: 'jobs', body: `job ${i}`, properties: { messageId: `id-${i}` } })
    for (let i = 0; i < 3; i++) {
      const { message } = await app.ok({ op: 'basic.get', queue: 'jobs' })
      await app.ok({ op: 'basic.reject', deliveryTag: message.deliveryTag, requeue: false })
    }
    let overview = await m.overview()
    expect(overview.queues.find((q) => q.name === 'jobs.dead')!.ready).toBe(3)

    expect(await m.moveMessages('jobs.dead', 'jobs')).toEqual({ moved: 3 })
    overview = await m.overview()
    expect(overview.queues.find((q) => q.name === 'jobs.dead')).toMatchObject({ ready: 0, unacked: 0 })
    expect(overview.queues.find((q) => q.name === 'jobs')).toMatchObject({ ready: 3, unacked: 0 })
    const back = await m.getMessages('jobs', 3, { ackMode: 'ack' })
    expect(back.map((x) => x.body)).toEqual(['job 0', 'job 1', 'job 2'])
    // The history stays on the message: x-death says where it died and why.
    expect(back[0]!.properties.messageId).toBe('id-0')
    expect(back[0]!.properties.headers!['x-death']).toMatchObject([{ queue: 'jobs', reason: 'rejected', count: 1 }])

    await m.publish({ exchange: '', routingKey: 'jobs.dead', body: 'a' })
    await m.publish({ exchange: '', routingKey: 'jobs.dead', body: 'b' })
    expect(await m.moveMessages('jobs.dead', 'jobs', { limit: 1 })).toEqual({ moved: 1 })
    await expect(m.moveMessages('jobs.dead', 'nowhere')).rejects.toThrow(/NOT_FOUND/)
    await expect(m.moveMessages('jobs', 'jobs')).rejects.toThrow(/itself/)
    // Nothing was lost on the failed moves.
    overview = await m.overview()
    expect(overview.queues.find((q) => q.name === 'jobs.dead')!.ready).toBe(1)
  })

  it('turns engine errors into typed rejections with the AMQP reply text, and keeps working', async () => {
    const missing = await m.purge('missing').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing).toMatchObject({ code: 'NOT_FOUND', replyCode: 404, message: "NOT_FOUND - no queue 'missing' in vhost '/'" })
    await expect(m.declareExchange({ name: 'amq.custom', type: 'direct' })).rejects.toBeInstanceOf(AccessRefusedError)
    const badType = await m.declareExchange({ name: 'x', type: 'nope' }).catch((e: unknown) => e)
    expect(badType).toBeInstanceOf(CommandInvalidError)
    expect((badType as Error).message).toMatch(/unknown exchange type/)
    await m.declareQueue({ name: 'q', durable: false })
    await expect(m.declareQueue({ name: 'q', durable: true })).rejects.toBeInstanceOf(PreconditionFailedError)
    await expect(m.publish({ exchange: 'missing', routingKey: '', body: 1 })).rejects.toThrow(/NOT_FOUND/)
    await expect(m.moveMessages('q', 'q')).rejects.toBeInstanceOf(PreconditionFailedError)
    // Each call had its own channel: the next one works.
    expect(await m.purge('q')).toEqual({ messageCount: 0 })
  })

  it('close() rejects every call in flight with a typed error, and stays closed', async () => {
    const slow = await openManagement({ vhost, connectTimeout: 2000, callTimeout: 1000 })
    stop() // nobody answers any more: the calls stay in flight
    const statuses: string[] = []
    slow.onStatus((s) => statuses.push(s))
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    try {
      const calls = [slow.overview(), slow.purge('q'), slow.moveMessages('a', 'b')]
      slow.close()
      const errors = await Promise.all(calls.map((call) => call.catch((e: unknown) => e)))
      for (const error of errors) {
        expect(error).toBeInstanceOf(ConnectionClosedError)
        expect((error as ConnectionClosedError).code).toBe('CONNECTION_CLOSED')
      }
      // The calls' timers are gone: nothing flips the status back or announces on a closed channel.
      vi.advanceTimersByTime(20_000)
      expect(slow.status).toBe('closed')
      expect(statuses).toEqual(['closed'])
      await expect(slow.overview()).rejects.toBeInstanceOf(ConnectionClosedError)
    } finally {
      vi.useRealTimers()
      stop = serveManagement(h.broker, vhost, { clock: h.clock })
    }
  })

  it('a call that times out rejects with TimeoutError, and a later close() stays final', async () => {
    const quick = await openManagement({ vhost, connectTimeout: 2000, callTimeout: 100 })
    stop()
    await expect(quick.overview()).rejects.toBeInstanceOf(TimeoutError)
    expect(quick.status).toBe('reconnecting')
    quick.close()
    expect(quick.status).toBe('closed')
    stop = serveManagement(h.broker, vhost, { clock: h.clock })
    // A broker answering the earlier announce must not bring it back.
    await expect(quick.overview()).rejects.toBeInstanceOf(ConnectionClosedError)
    expect(quick.status).toBe('closed')
  })

  it('serves the API methods and nothing else of the broker context', async () => {
    // No method name is taken by a function's own members (comlink's proxy would shadow it).
    for (const name of MANAGEMENT_METHODS) expect(name in Function.prototype).toBe(false)
    // A raw comlink peer on the console's channel: calls pass, anything past the API is dropped.
    const channel = new BroadcastChannel(consoleChannelName(vhost, m.consoleId))
    const raw = Comlink.wrap<ManagementApi & { constructor: unknown }>(channel as unknown as Comlink.Endpoint)
    try {
      expect((await raw.overview()).vhost).toBe('/')
      const reached = await Promise.race([
        (raw.overview as unknown as { constructor: Promise<unknown> }).constructor.then(() => 'answered'),
        raw.overview().then(() => 'dropped'),
      ])
      expect(reached).toBe('dropped')
    } finally {
      channel.close()
    }
  })

  it('serves several consoles and stops cleanly', async () => {
    const second = await openManagement({ vhost, connectTimeout: 2000 })
    await m.declareQueue({ name: 'shared' })
    expect((await second.overview()).queues.map((q) => q.name)).toEqual(['shared'])
    second.close()
    expect(second.status).toBe('closed')
    await expect(second.overview()).rejects.toThrow(/closed/)
    // The first console is unaffected.
    expect((await m.overview()).totals.queues).toBe(1)
  })

  it('lists the vhosts whose brokers serve management', async () => {
    const vhosts = await listVhosts(100)
    expect(vhosts).toContainEqual({ vhost, epoch: h.broker.epoch, brokerId: 'test' })
  })

  it('a call that gets no answer times out and the console finds the broker again', async () => {
    const quick = await openManagement({ vhost, connectTimeout: 2000, callTimeout: 200 })
    stop()
    const statuses: string[] = []
    quick.onStatus((s) => statuses.push(s))
    const none = await openManagement({ vhost, connectTimeout: 100 }).catch((e: Error) => e)
    expect(none).toBeInstanceOf(Error)
    expect((none as Error).name).toBe('BrokerUnavailableError')

    // The broker that served it is gone (a restart): the call times out...
    const slow = await openManagementCallTimeout(quick)
    expect(slow).toMatch(/no answer/)
    expect(statuses).toEqual(['reconnecting'])
    // ...and once a broker serves the vhost again, the console reaches it.
    stop = serveManagement(h.broker, vhost, { clock: h.clock })
    await waitFor(() => quick.status === 'connected')
    expect((await quick.overview()).vhost).toBe('/')
    expect(statuses).toEqual(['reconnecting', 'connected'])
    quick.close()
  })
})

describe('RateTracker', () => {
  const q = (name: string, published: number, delivered = 0, acked = 0, redelivered = 0) => ({
    name,
    ready: 0,
    unacked: 0,
    counters: { published, delivered, acked, redelivered, deadLettered: 0, expired: 0 },
  })

  it('ignores everything before the baseline, counts new queues from zero, survives a redeclare', () => {
    const rates = new RateTracker(3, 2)
    rates.sample([q('a', 1000)], 0)
    expect(rates.history()).toEqual([])
    rates.sample([q('a', 1010), q('b', 5)], 1000)
    expect(rates.rates()).toMatchObject({ publish: 15 })
    expect(rates.queueRates('b')).toMatchObject({ publish: 5 })
    // 'a' was deleted and declared again: its counter restarted from zero.
    rates.sample([q('a', 3), q('b', 5)], 1500)
    expect(rates.queueRates('a')).toMatchObject({ publish: 6 })
    expect(rates.history().at(-1)!.counts.publish).toBe(3)
    rates.sample([q('b', 6)], 2500)
    expect(rates.queueHistory('a')).toEqual([])
    expect(rates.history()).toHaveLength(3)
    expect(rates.queueHistory('b')).toHaveLength(2)
  })
})

async function openManagementCallTimeout(m: ManagementClient): Promise<string> {
  const error = await m.overview().then(
    () => 'answered',
    (e: Error) => e.message,
  )
  return error
}

async function waitFor(check: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
