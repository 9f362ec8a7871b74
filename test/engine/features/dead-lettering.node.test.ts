// Dead-lettering (RabbitMQ §4.9): the four reasons, the exact x-death header (newest first, one
// entry per queue and reason, repeats counted and moved to the front), x-first/last-death-*,
// expiration removed, the dead-letter routing key, a missing DLX, cycles, and what never dead-letters.
import { describe, expect, it } from 'vitest'
import { readyOf, setup } from './setup.js'

const START_SECONDS = 1_700_000_000 // FakeClock starts at 1_700_000_000_000 ms

type Msg = { properties: { headers?: Record<string, unknown> } } | null | undefined
const deaths = (m: Msg) => m?.properties.headers?.['x-death'] as Record<string, unknown>[]

/** Queue 'q' dead-letters through fanout exchange 'dlx' into queue 'dead'. */
async function withDeadLetters(args: Record<string, unknown> = {}) {
  const t = await setup()
  await t.exchange('dlx', 'fanout')
  await t.declare('dead')
  await t.bind('dead', 'dlx')
  await t.declare('q', { 'x-dead-letter-exchange': 'dlx', ...args })
  return t
}

describe('dead-lettering', () => {
  it('reason rejected: basic.reject and basic.nack with requeue=false', async () => {
    const { publish, get, c } = await withDeadLetters()
    await publish('q', 'rejected')
    await publish('q', 'nacked')
    const one = await get('q', false)
    const two = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: one!.deliveryTag, requeue: false })
    await c.ok({ op: 'basic.nack', deliveryTag: two!.deliveryTag, requeue: false })
    const dead = [await get('dead'), await get('dead')]
    expect(dead.map((m) => m?.body)).toEqual(['rejected', 'nacked'])
    expect(dead.map((m) => deaths(m)[0]!.reason)).toEqual(['rejected', 'rejected'])
  })

  it('nack with multiple dead-letters every message up to the tag', async () => {
    const { publish, get, c, drainBodies } = await withDeadLetters()
    for (const body of ['a', 'b', 'c']) await publish('q', body)
    await get('q', false)
    const b = await get('q', false)
    await c.ok({ op: 'basic.nack', deliveryTag: b!.deliveryTag, multiple: true, requeue: false })
    expect(await drainBodies('dead')).toEqual(['a', 'b'])
    expect(await drainBodies('q')).toEqual(['c'])
  })

  it('reasons expired, maxlen and delivery_limit', async () => {
    const t = await setup()
    await t.exchange('dlx', 'fanout')
    await t.declare('dead')
    await t.bind('dead', 'dlx')
    await t.declare('ttl', { 'x-dead-letter-exchange': 'dlx', 'x-message-ttl': 10 })
    await t.declare('short', { 'x-dead-letter-exchange': 'dlx', 'x-max-length': 1 })
    await t.declare('poison', { 'x-dead-letter-exchange': 'dlx', 'x-delivery-limit': 0 })
    await t.publish('ttl', 'e')
    t.clock.advance(10)
    await t.publish('short', 'm1')
    await t.publish('short', 'm2')
    await t.publish('poison', 'p')
    const taken = await t.get('poison', false)
    await t.c.ok({ op: 'basic.reject', deliveryTag: taken!.deliveryTag, requeue: true })
    const dead = [await t.get('dead'), await t.get('dead'), await t.get('dead')]
    expect(dead.map((m) => [m?.body, deaths(m)[0]!.queue, deaths(m)[0]!.reason])).toEqual([
      ['e', 'ttl', 'expired'],
      ['m1', 'short', 'maxlen'],
      ['p', 'poison', 'delivery_limit'],
    ])
  })

  it('writes the exact x-death entry and the first/last death headers', async () => {
    const { publish, get, c } = await withDeadLetters()
    await publish('q', 'm', { headers: { app: 1 }, correlationId: 'c-1', deliveryMode: 2 })
    const m = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
    const dead = await get('dead')
    expect(dead?.exchange).toBe('dlx')
    expect(dead?.routingKey).toBe('q')
    expect(dead?.properties).toEqual({
      correlationId: 'c-1',
      deliveryMode: 2,
      headers: {
        app: 1,
        'x-death': [{ queue: 'q', reason: 'rejected', count: 1, time: START_SECONDS, exchange: '', 'routing-keys': ['q'] }],
        'x-first-death-queue': 'q',
        'x-first-death-reason': 'rejected',
        'x-first-death-exchange': '',
        'x-last-death-queue': 'q',
        'x-last-death-reason': 'rejected',
        'x-last-death-exchange': '',
      },
    })
  })

  it('removes expiration and records it as original-expiration', async () => {
    const { publish, get, clock } = await withDeadLetters()
    await publish('q', 'm', { expiration: '250' })
    clock.advance(250)
    const dead = await get('dead')
    expect(dead?.properties.expiration).toBeUndefined()
    expect(deaths(dead)[0]).toEqual({
      queue: 'q',
      reason: 'expired',
      count: 1,
      time: START_SECONDS,
      exchange: '',
      'routing-keys': ['q'],
      'original-expiration': '250',
    })
    // The dead-lettered copy cannot expire again: it stays in 'dead' (which has no TTL).
    expect(dead?.body).toBe('m')
  })

  it('a second death puts its entry first; x-first-death-* stay, x-last-death-* move', async () => {
    const t = await withDeadLetters()
    await t.exchange('dlx2', 'fanout')
    await t.declare('dead2')
    await t.bind('dead2', 'dlx2')
    await t.declare('hop', { 'x-dead-letter-exchange': 'dlx2', 'x-message-ttl': 3000 })
    await t.bind('hop', 'dlx')
    await t.publish('q', 'm')
    const m = await t.get('q', false)
    await t.c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
    t.clock.advance(5_000) // 'hop' got a copy via dlx; it expires there after 3 s
    const dead = await t.get('dead2')
    expect(dead?.exchange).toBe('dlx2')
    expect(deaths(dead)).toEqual([
      { queue: 'hop', reason: 'expired', count: 1, time: START_SECONDS + 3, exchange: 'dlx', 'routing-keys': ['q'] },
      { queue: 'q', reason: 'rejected', count: 1, time: START_SECONDS, exchange: '', 'routing-keys': ['q'] },
    ])
    expect(dead?.properties.headers).toMatchObject({
      'x-first-death-queue': 'q',
      'x-first-death-reason': 'rejected',
      'x-first-death-exchange': '',
      'x-last-death-queue': 'hop',
      'x-last-death-reason': 'expired',
      'x-last-death-exchange': 'dlx',
    })
  })

  it('a repeated death (same queue and reason) increments count and moves to the front; time stays the first', async () => {
    // The retry pattern: 'work' rejects into 'retry' (TTL 100), which expires back into 'work'.
    const t = await setup()
    await t.declare('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' })
    await t.declare('retry', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work', 'x-message-ttl': 100 })
    await t.publish('work', 'job')
    for (let round = 1; round <= 3; round++) {
      const m = await t.get('work', false)
      expect(m?.body).toBe('job')
      await t.c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
      t.clock.advance(1000)
    }
    const m = await t.get('work')
    expect(deaths(m)).toEqual([
      { queue: 'retry', reason: 'expired', count: 3, time: START_SECONDS, exchange: '', 'routing-keys': ['retry'] },
      { queue: 'work', reason: 'rejected', count: 3, time: START_SECONDS, exchange: '', 'routing-keys': ['work'] },
    ])
    expect(m?.properties.headers).toMatchObject({ 'x-first-death-queue': 'work', 'x-last-death-queue': 'retry', 'x-last-death-reason': 'expired' })
  })

  it('a dead-letter routing key replaces the routing keys (and removes CC)', async () => {
    const t = await setup()
    await t.exchange('dlx', 'direct')
    await t.declare('by-original')
    await t.declare('by-dl-key')
    await t.declare('by-cc')
    await t.bind('by-original', 'dlx', 'orig')
    await t.bind('by-dl-key', 'dlx', 'dl-key')
    await t.bind('by-cc', 'dlx', 'cc-key')
    await t.exchange('in', 'direct')
    await t.declare('q', { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dl-key' })
    await t.bind('q', 'in', 'orig')
    await t.publish('orig', 'm', { headers: { CC: ['cc-key'] } }, 'in')
    const m = await t.get('q', false)
    await t.c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
    expect(readyOf(t.broker, 'by-original')).toBe(0)
    expect(readyOf(t.broker, 'by-cc')).toBe(0)
    const dead = await t.get('by-dl-key')
    expect(dead?.routingKey).toBe('dl-key')
    expect(dead?.properties.headers?.['CC']).toBeUndefined()
    // x-death keeps the original keys, CC included.
    expect(deaths(dead)[0]!['routing-keys']).toEqual(['orig', 'cc-key'])
  })

  it('without a dead-letter routing key the message keeps all its routing keys, CC included (BCC never shown)', async () => {
    const t = await setup()
    await t.exchange('dlx', 'direct')
    await t.declare('by-original')
    await t.declare('by-cc')
    await t.declare('by-bcc')
    await t.bind('by-original', 'dlx', 'orig')
    await t.bind('by-cc', 'dlx', 'cc-key')
    await t.bind('by-bcc', 'dlx', 'bcc-key')
    await t.exchange('in', 'direct')
    await t.declare('q', { 'x-dead-letter-exchange': 'dlx' })
    await t.bind('q', 'in', 'orig')
    await t.publish('orig', 'm', { headers: { CC: ['cc-key'], BCC: ['bcc-key'] } }, 'in')
    const m = await t.get('q', false)
    await t.c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
    const [original, cc] = [await t.get('by-original'), await t.get('by-cc')]
    expect(original?.routingKey).toBe('orig')
    expect(cc?.body).toBe('m')
    expect(readyOf(t.broker, 'by-bcc')).toBe(0)
    expect(original?.properties.headers?.['BCC']).toBeUndefined()
    expect(deaths(original)[0]!['routing-keys']).toEqual(['orig', 'cc-key'])
  })

  it('a missing dead-letter exchange drops the message silently', async () => {
    const { declare, publish, get, c, broker } = await setup()
    await declare('q', { 'x-dead-letter-exchange': 'does-not-exist' })
    await publish('q', 'm')
    const m = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
    expect(c.of('channel.closed')).toEqual([])
    expect(readyOf(broker, 'q')).toBe(0)
    expect(await get('q')).toBeNull()
  })

  it('the DLX need not exist at declare time: it is looked up when needed', async () => {
    const { declare, publish, get, c, exchange, bind } = await setup()
    await declare('q', { 'x-dead-letter-exchange': 'later' })
    await exchange('later', 'fanout')
    await declare('dead')
    await bind('dead', 'later')
    await publish('q', 'm')
    const m = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: false })
    expect((await get('dead'))?.body).toBe('m')
  })

  it('a cycle without a rejection is dropped: a queue expiring into itself', async () => {
    const { declare, publish, clock, broker } = await setup()
    await declare('loop', { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop' })
    await publish('loop', 'm')
    clock.advance(100)
    expect(readyOf(broker, 'loop')).toBe(0)
    clock.advance(10_000)
    expect(readyOf(broker, 'loop')).toBe(0)
  })

  it('a cycle without a rejection is dropped: two queues expiring into each other', async () => {
    const { declare, publish, clock, broker, get } = await setup()
    await declare('a', { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'b' })
    await declare('b', { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'a' })
    await publish('a', 'm')
    clock.advance(100)
    expect(readyOf(broker, 'b')).toBe(1)
    clock.advance(100) // back to 'a': a cycle, dropped
    expect(readyOf(broker, 'a')).toBe(0)
    expect(readyOf(broker, 'b')).toBe(0)
    expect(await get('a')).toBeNull()
  })

  it('a cycle that contains a rejection goes on (the retry pattern)', async () => {
    const t = await setup()
    await t.declare('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' })
    await t.declare('retry', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work', 'x-message-ttl': 100 })
    await t.publish('work', 'job')
    const first = await t.get('work', false)
    await t.c.ok({ op: 'basic.reject', deliveryTag: first!.deliveryTag, requeue: false })
    t.clock.advance(100)
    const second = await t.get('work', false)
    expect(second?.body).toBe('job')
    expect(deaths(second).map((d) => [d.queue, d.reason, d.count])).toEqual([
      ['retry', 'expired', 1],
      ['work', 'rejected', 1],
    ])
    await t.c.ok({ op: 'basic.reject', deliveryTag: second!.deliveryTag, requeue: false })
    const inRetry = await t.get('retry')
    // The repeat moved work/rejected to the front with count 2.
    expect(deaths(inRetry).map((d) => [d.queue, d.reason, d.count])).toEqual([
      ['work', 'rejected', 2],
      ['retry', 'expired', 1],
    ])
  })

  it('deleting a queue does not dead-letter its messages (ready or unacked)', async () => {
    const { publish, get, c, broker } = await withDeadLetters()
    await publish('q', 'ready')
    await publish('q', 'unacked')
    await get('q', false)
    await c.ok({ op: 'queue.delete', queue: 'q' })
    expect(readyOf(broker, 'dead')).toBe(0)
  })

  it('purging a queue does not dead-letter its messages', async () => {
    const { publish, c, broker } = await withDeadLetters()
    await publish('q', 'a')
    await c.ok({ op: 'queue.purge', queue: 'q' })
    expect(readyOf(broker, 'dead')).toBe(0)
  })

  it('requeueing (reject with requeue=true) does not dead-letter', async () => {
    const { publish, get, c, broker } = await withDeadLetters()
    await publish('q', 'a')
    const m = await get('q', false)
    await c.ok({ op: 'basic.reject', deliveryTag: m!.deliveryTag, requeue: true })
    expect(readyOf(broker, 'dead')).toBe(0)
    expect(readyOf(broker, 'q')).toBe(1)
  })

  it('x-dead-letter-routing-key without x-dead-letter-exchange is refused with 406', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-dead-letter-routing-key': 'k' } })
    expect(error.replyCode).toBe(406)
  })
})
