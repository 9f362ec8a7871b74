// Message TTL (RabbitMQ §4.7): per queue, per message, the minimum of both, expiry at the
// head only, requeue keeps the original expiry, TTL 0, invalid expiration.
import { describe, expect, it } from 'vitest'
import { readyOf, setup } from './setup.js'

/** A queue 'q' with the given arguments whose dead letters land in queue 'dead'. */
async function withDeadLetters(args: Record<string, unknown> = {}) {
  const t = await setup()
  await t.exchange('dlx', 'fanout')
  await t.declare('dead')
  await t.bind('dead', 'dlx')
  await t.declare('q', { 'x-dead-letter-exchange': 'dlx', ...args })
  return t
}

describe('message TTL', () => {
  it('queue TTL (x-message-ttl): a message older than the TTL is removed', async () => {
    const { declare, publish, clock, broker, get } = await setup()
    await declare('q', { 'x-message-ttl': 1000 })
    await publish('q', 'a')
    clock.advance(999)
    expect(readyOf(broker, 'q')).toBe(1)
    clock.advance(1)
    expect(readyOf(broker, 'q')).toBe(0)
    expect(await get('q')).toBeNull()
  })

  it('per-message TTL (expiration): the message expires after its own TTL', async () => {
    const { declare, publish, clock, broker } = await setup()
    await declare('q')
    await publish('q', 'short', { expiration: '500' })
    await publish('q', 'forever')
    clock.advance(499)
    expect(readyOf(broker, 'q')).toBe(2)
    clock.advance(1)
    expect(readyOf(broker, 'q')).toBe(1)
  })

  it('the effective TTL is the minimum of the queue TTL and the message TTL', async () => {
    const { declare, publish, clock, broker } = await setup()
    await declare('queue-shorter', { 'x-message-ttl': 300 })
    await declare('message-shorter', { 'x-message-ttl': 1000 })
    await publish('queue-shorter', 'x', { expiration: '1000' })
    await publish('message-shorter', 'y', { expiration: '300' })
    clock.advance(299)
    expect([readyOf(broker, 'queue-shorter'), readyOf(broker, 'message-shorter')]).toEqual([1, 1])
    clock.advance(1)
    expect([readyOf(broker, 'queue-shorter'), readyOf(broker, 'message-shorter')]).toEqual([0, 0])
  })

  it('expired messages are never returned by basic.get', async () => {
    const { declare, publish, clock, get } = await setup()
    await declare('q')
    await publish('q', 'live')
    await publish('q', 'expired', { expiration: '100' })
    clock.advance(100)
    expect((await get('q'))?.body).toBe('live')
    expect(await get('q')).toBeNull()
  })

  it('expired messages are never delivered to a consumer', async () => {
    const { declare, publish, clock, consume, bodies, settle } = await withDeadLetters()
    await declare('q2')
    await publish('q2', 'live')
    await publish('q2', 'expired', { expiration: '100' })
    clock.advance(150)
    await consume('q2', { noAck: true })
    await settle()
    expect(bodies()).toEqual(['live'])
  })

  it('expired messages are removed at the head, in order, and dead-lettered with reason expired', async () => {
    const { publish, clock, broker, get } = await withDeadLetters({ 'x-message-ttl': 1000 })
    await publish('q', 'm1')
    clock.advance(100)
    await publish('q', 'm2')
    clock.advance(100)
    await publish('q', 'm3')
    clock.advance(800) // t = 1000: m1 is due
    expect(readyOf(broker, 'q')).toBe(2)
    expect(readyOf(broker, 'dead')).toBe(1)
    clock.advance(100)
    expect(readyOf(broker, 'q')).toBe(1)
    clock.advance(100)
    expect(readyOf(broker, 'q')).toBe(0)
    const dead = [await get('dead'), await get('dead'), await get('dead')]
    expect(dead.map((m) => m?.body)).toEqual(['m1', 'm2', 'm3'])
    expect(dead.map((m) => (m?.properties.headers?.['x-death'] as { reason: string }[])[0]!.reason)).toEqual(['expired', 'expired', 'expired'])
  })

  it('an expired message behind a live one stays until it reaches the head', async () => {
    const { publish, clock, broker, get } = await withDeadLetters()
    await publish('q', 'live') // no TTL
    await publish('q', 'short', { expiration: '100' })
    clock.advance(1000)
    // Still counted: only the head is inspected (classic queues).
    expect(readyOf(broker, 'q')).toBe(2)
    expect(readyOf(broker, 'dead')).toBe(0)
    expect((await get('q'))?.body).toBe('live')
    // Now at the head: removed at once (a zero-delay head timer) and dead-lettered.
    clock.advance(0)
    expect(readyOf(broker, 'q')).toBe(0)
    expect((await get('dead'))?.body).toBe('short')
  })

  it('a requeued message keeps its original expiry', async () => {
    const { publish, clock, broker, c, get } = await withDeadLetters({ 'x-message-ttl': 1000 })
    await publish('q', 'm')
    const taken = await get('q', false)
    clock.advance(600)
    await c.ok({ op: 'basic.reject', deliveryTag: taken!.deliveryTag, requeue: true })
    clock.advance(399)
    expect(readyOf(broker, 'q')).toBe(1)
    clock.advance(1) // t = 1000: the original deadline, not 1600
    expect(readyOf(broker, 'q')).toBe(0)
    const dead = await get('dead')
    expect(dead?.body).toBe('m')
    expect((dead?.properties.headers?.['x-death'] as { reason: string }[])[0]!.reason).toBe('expired')
  })

  it('a message that expired while unacknowledged is dead-lettered when requeued, not redelivered', async () => {
    const { publish, clock, broker, c, get } = await withDeadLetters({ 'x-message-ttl': 100 })
    await publish('q', 'm')
    const taken = await get('q', false)
    clock.advance(5000)
    await c.ok({ op: 'basic.nack', deliveryTag: taken!.deliveryTag, requeue: true })
    expect(await get('q')).toBeNull()
    expect(readyOf(broker, 'q')).toBe(0)
    expect((await get('dead'))?.body).toBe('m')
  })

  it('TTL 0: delivered when a consumer can take it now', async () => {
    const { declare, publish, consume, bodies, settle } = await setup()
    await declare('q', { 'x-message-ttl': 0 })
    await consume('q')
    await settle()
    await publish('q', 'now')
    expect(bodies()).toEqual(['now'])
  })

  it('TTL 0: expired (and dead-lettered) when no consumer can take it now', async () => {
    const { publish, broker, get } = await withDeadLetters({ 'x-message-ttl': 0 })
    await publish('q', 'nobody')
    expect(readyOf(broker, 'q')).toBe(0)
    const dead = await get('dead')
    expect(dead?.body).toBe('nobody')
    expect((dead?.properties.headers?.['x-death'] as { reason: string }[])[0]!.reason).toBe('expired')
  })

  it('TTL 0: a consumer blocked by its prefetch does not count', async () => {
    const { publish, broker, consume, qos, bodies, settle, get } = await withDeadLetters({ 'x-message-ttl': 0 })
    await qos(1)
    await consume('q')
    await settle()
    await publish('q', 'first')
    await publish('q', 'second') // the only consumer is full
    expect(bodies()).toEqual(['first'])
    expect(readyOf(broker, 'q')).toBe(0)
    expect((await get('dead'))?.body).toBe('second')
  })

  it('per-message expiration "0" behaves like TTL 0', async () => {
    const { publish, broker, get } = await withDeadLetters()
    await publish('q', 'gone', { expiration: '0' })
    expect(readyOf(broker, 'q')).toBe(0)
    expect((await get('dead'))?.body).toBe('gone')
  })

  it.each(['abc', '-1', '1.5', '', ' 10', '1e3', '99999999999999999999'])('an invalid expiration %j is refused with 406', async (expiration) => {
    const { declare, publish, c } = await setup()
    await declare('q')
    const reply = await publish('q', 'x', { expiration })
    expect(reply.op).toBe('error')
    expect(reply.op === 'error' && reply.error.replyCode).toBe(406)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  it('consuming a TTL queue does not set a timer per message (the pending one re-arms when it fires)', async () => {
    const { declare, publish, clock, get } = await setup()
    await declare('q', { 'x-message-ttl': 10_000 })
    for (let i = 0; i < 500; i++) {
      await publish('q', i)
      clock.advance(1)
    }
    let scheduled = 0
    const schedule = clock.schedule.bind(clock)
    clock.schedule = (delay, fn) => {
      scheduled++
      return schedule(delay, fn)
    }
    for (let i = 0; i < 250; i++) expect((await get('q'))?.body).toBe(i)
    expect(scheduled).toBe(0)
    expect(clock.pending).toBe(1)
    // The kept timer was for message 0 (due at 10 s); firing, it re-arms for the new head, 250.
    clock.advance(10_000 - 500)
    expect(clock.pending).toBe(1)
    expect(scheduled).toBe(1)
    clock.advance(250)
    expect((await get('q'))?.body).toBe(251)
  })

  it('one timer per queue: a thousand messages with TTLs keep the pending timers at one', async () => {
    const { declare, publish, clock, broker } = await setup()
    await declare('q', { 'x-message-ttl': 60_000 })
    for (let i = 0; i < 1000; i++) {
      await publish('q', i, { expiration: String(1000 + (i % 7) * 100) })
      if (i % 100 === 0) clock.advance(1)
    }
    expect(clock.pending).toBe(1)
    clock.advance(5_000)
    expect(readyOf(broker, 'q')).toBe(0)
    expect(clock.pending).toBe(0)
  })
})
