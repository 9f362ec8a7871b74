// Channel and Connection mechanics against a scripted fake broker: request ids, timeouts,
// pending requests on close and on a lost link, hard errors, frames held while reconnecting.
import { describe, expect, it } from 'vitest'
import {
  Connection,
  ConnectionClosedError,
  ConnectionError,
  NotImplementedError,
  Queue,
  TimeoutError,
} from '../../src/index.js'
import type { ClientCommand } from '../../src/protocol/frames.js'
import { FakeLink, okScript } from './fake-link.js'
import { tick } from './helpers.js'

const open = async (link: FakeLink, options = {}) => Connection.open({ transport: link.connector(), ...options })

describe('Channel', () => {
  it('numbers channels from 1 and request ids uniquely across channels', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    const a = await conn.channel()
    const b = await conn.channel()
    expect([a.number, b.number]).toEqual([1, 2])
    await Promise.all([a.basicQos(1), b.basicQos(2), a.queuePurge('q'), b.queuePurge('q')])
    const ids = link.sent.map((f) => f.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(link.ops('basic.qos').map((f) => f.channel)).toEqual([1, 2])
  })

  it('pipelines commands right behind channel.open', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    await new Queue('q').bind(conn).declare()
    expect(link.sent.map((f) => f.op)).toEqual(['channel.open', 'queue.declare'])
  })

  it('rejects a request that gets no reply with a TimeoutError made at the call site', async () => {
    const link = new FakeLink((frame, l) => {
      if (frame.op !== 'queue.purge') okScript(frame, l)
    })
    const conn = await open(link, { requestTimeout: 20 })
    const error = await conn.defaultChannel.queuePurge('q').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toContain('queue.purge')
    expect((error as Error).stack).toContain('channel.node.test.ts')
  })

  it('a hard error closes the connection, rejects everything and ends consumers', async () => {
    let held: ClientCommand | undefined
    const link = new FakeLink((frame, l) => {
      if (frame.op === 'queue.purge') held = frame
      else okScript(frame, l)
    })
    const conn = await open(link)
    const statuses: string[] = []
    void (async () => {
      for await (const s of conn.status) statuses.push(s.type)
    })()
    const iteration = (async () => {
      for await (const _ of conn.consume('q', { autoDeclare: false })) void _
    })()
    await tick()
    const pending = conn.defaultChannel.queuePurge('q')
    await tick()
    expect(held).toBeDefined()
    link.emit({
      op: 'connection.closed',
      error: { name: 'NotImplementedError', code: 'NOT_IMPLEMENTED', message: 'no', replyCode: 540, closes: 'connection' },
    })
    const error = await pending.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotImplementedError)
    expect(error).toBeInstanceOf(ConnectionError)
    await expect(iteration).rejects.toBe(error)
    expect(conn.state).toBe('closed')
    expect(link.closed).toBe(true)
    await tick()
    expect(statuses).toEqual(['disconnected'])
    await expect(conn.channel()).rejects.toBe(error)
  })

  it('close rejects pending requests with ConnectionClosedError and says goodbye', async () => {
    const link = new FakeLink((frame, l) => {
      if (frame.op !== 'queue.purge') okScript(frame, l)
    })
    const conn = await open(link)
    const pending = conn.defaultChannel.queuePurge('q')
    await conn.close()
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError)
    expect(link.closed).toBe(true)
    await conn.close()
  })

  it('a lost link rejects pending requests; frames sent while down wait for the recovery', async () => {
    let hold = true
    const link = new FakeLink((frame, l) => {
      if (frame.op === 'queue.purge' && hold) return
      okScript(frame, l)
    })
    const conn = await open(link)
    await conn.defaultChannel.opened
    const lost = conn.defaultChannel.queuePurge('q')
    await tick()
    link.drop()
    await expect(lost).rejects.toBeInstanceOf(ConnectionClosedError)
    expect(conn.state).toBe('reconnecting')
    hold = false
    const later = conn.defaultChannel.queuePurge('q2')
    await tick()
    expect(link.sent.filter((f) => f.op === 'queue.purge')).toHaveLength(1)
    link.reconnect(2)
    await expect(later).resolves.toBe(undefined)
    // Recovery reopened the channel before the held frame went out.
    const tail = link.sent.slice(-2).map((f) => f.op)
    expect(tail).toEqual(['channel.open', 'queue.purge'])
    expect(conn.epoch).toBe(2)
  })

  it('a welcome without a down first still starts a new session', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    await conn.defaultChannel.opened
    link.reconnect(5)
    await conn.whenReady()
    expect(conn.epoch).toBe(5)
    expect(link.ops('channel.open')).toHaveLength(2)
  })

  it('a welcome from the same broker closes the old channels before reopening them', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    await conn.defaultChannel.opened
    link.drop()
    link.reconnect(1)
    await conn.whenReady()
    expect(link.sent.map((f) => `${f.op}:${f.channel}`)).toEqual(['channel.open:1', 'channel.close:1', 'channel.open:1'])
  })

  it('drops acks of deliveries from before a reconnect', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    const got: Array<{ ack(): void }> = []
    await conn.consumer('q', { autoDeclare: false, onMessage: (m) => void got.push(m) }).consume()
    const consume = link.ops('basic.consume')[0] as Extract<ClientCommand, { op: 'basic.consume' }>
    link.emit({
      op: 'basic.deliver',
      channel: consume.channel,
      consumerTag: consume.consumerTag!,
      deliveryTag: 1,
      redelivered: false,
      exchange: '',
      routingKey: 'q',
      properties: { contentType: 'application/json' },
      body: '1',
    })
    await tick()
    expect(got).toHaveLength(1)
    link.drop()
    link.reconnect(2)
    await conn.whenReady()
    got[0]!.ack()
    await tick()
    expect(link.ops('basic.ack')).toHaveLength(0)
    // The consumer was resumed with its tag.
    expect(link.ops('basic.consume').map((f) => (f as { consumerTag?: string }).consumerTag)).toEqual([
      consume.consumerTag,
      consume.consumerTag,
    ])
  })
})

describe('recovery edge cases', () => {
  it('a consume held back during the outage is sent once, not resumed twice', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    await conn.defaultChannel.opened
    link.drop()
    const consumer = conn.consumer('q', { autoDeclare: false, callbacks: [() => {}] })
    const started = consumer.consume()
    link.reconnect(2)
    await started
    expect(link.ops('basic.consume')).toHaveLength(1)
    expect(consumer.active).toBe(true)
  })

  it('a consume whose reply was lost with the link is resumed, and consume() resolves', async () => {
    let drop = true
    const link = new FakeLink((frame, l) => {
      if (frame.op === 'basic.consume' && drop) {
        drop = false
        l.drop()
        queueMicrotask(() => l.reconnect(2))
        return
      }
      okScript(frame, l)
    })
    const conn = await open(link)
    const consumer = await conn.consumer('q', { autoDeclare: false, prefetch: 3, callbacks: [() => {}] }).consume()
    expect(consumer.active).toBe(true)
    const consumes = link.ops('basic.consume') as Array<{ consumerTag?: string }>
    expect(consumes).toHaveLength(2)
    expect(consumes[1]!.consumerTag).toBe(consumes[0]!.consumerTag)
    // The prefetch was restored before the consumer.
    const tail = link.sent.slice(-2).map((f) => f.op)
    expect(tail).toEqual(['basic.qos', 'basic.consume'])
  })

  it('a cancel during the outage is not undone by the recovery', async () => {
    const link = new FakeLink()
    const conn = await open(link)
    const consumer = await conn.consumer('q', { autoDeclare: false, callbacks: [() => {}] }).consume()
    link.drop()
    const cancelling = consumer.cancel()
    link.reconnect(2)
    await cancelling
    await conn.whenReady()
    await tick()
    expect(consumer.active).toBe(false)
    expect(link.ops('basic.consume')).toHaveLength(1)
  })

  it('a channel opened in the middle of a recovery gets opened', async () => {
    let holdRestore = true
    const link = new FakeLink((frame, l) => {
      // Hold the recovery's channel.open for channel 1 a little.
      if (frame.op === 'channel.open' && frame.channel === 1 && link.ops('channel.open').length === 2 && holdRestore) {
        holdRestore = false
        setTimeout(() => okScript(frame, l), 5)
        return
      }
      okScript(frame, l)
    })
    const conn = await open(link)
    await conn.defaultChannel.opened
    link.drop()
    link.reconnect(2)
    const late = conn.channel()
    await expect(late).resolves.toBeDefined()
    await (await late).basicQos(1)
  })
})
