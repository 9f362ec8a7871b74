// Length limits (RabbitMQ §4.8): x-max-length / x-max-length-bytes over ready messages, with
// x-overflow drop-head (dead-letters the oldest, reason maxlen), reject-publish (nack) and
// reject-publish-dlx (nack and dead-letter).
import { describe, expect, it } from 'vitest'
import type { ServerEvent } from '../../../src/protocol/frames.js'
import { readyOf, setup } from './setup.js'

async function withDeadLetters(args: Record<string, unknown>) {
  const t = await setup()
  await t.exchange('dlx', 'fanout')
  await t.declare('dead')
  await t.bind('dead', 'dlx')
  await t.declare('q', { 'x-dead-letter-exchange': 'dlx', ...args })
  return t
}

const isNack = (reply: ServerEvent) => reply.op === 'error' && reply.error.code === 'NACK'
const deathOf = (m: { properties: { headers?: Record<string, unknown> } } | null) =>
  (m?.properties.headers?.['x-death'] as { queue: string; reason: string }[] | undefined)?.[0]

describe('length limits', () => {
  it('drop-head (the default) dead-letters the oldest message with reason maxlen', async () => {
    const { publish, drainBodies, get } = await withDeadLetters({ 'x-max-length': 2 })
    for (const body of ['a', 'b', 'c', 'd']) expect((await publish('q', body)).op).toBe('ok')
    const dead = [await get('dead'), await get('dead')]
    expect(dead.map((m) => m?.body)).toEqual(['a', 'b'])
    expect(dead.map(deathOf)).toEqual([expect.objectContaining({ queue: 'q', reason: 'maxlen' }), expect.objectContaining({ queue: 'q', reason: 'maxlen' })])
    expect(await drainBodies('q')).toEqual(['c', 'd'])
  })

  it('drop-head without a dead-letter exchange just drops', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-length': 1, 'x-overflow': 'drop-head' })
    await publish('q', 'a')
    await publish('q', 'b')
    expect(await drainBodies('q')).toEqual(['b'])
  })

  it('x-max-length-bytes limits the sum of body sizes', async () => {
    const { publish, drainBodies, get } = await withDeadLetters({ 'x-max-length-bytes': 10 })
    await publish('q', '12345')
    await publish('q', 'abcde') // 10 bytes: at the limit, not over it
    expect((await get('dead'))).toBeNull()
    await publish('q', 'z') // 11: the oldest goes
    expect((await get('dead'))?.body).toBe('12345')
    expect(await drainBodies('q')).toEqual(['abcde', 'z'])
  })

  it('bytes are UTF-8 bytes of a string body and the byte length of binary bodies', async () => {
    const { declare, publish, broker } = await setup()
    await declare('q', { 'x-max-length-bytes': 4 })
    await publish('q', 'é€') // 2 + 3 bytes: over the limit on its own
    expect(readyOf(broker, 'q')).toBe(0)
    await publish('q', new Uint8Array(4))
    expect(readyOf(broker, 'q')).toBe(1)
  })

  it('with both limits, whichever is hit first applies', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-length': 3, 'x-max-length-bytes': 5 })
    await publish('q', 'aa')
    await publish('q', 'bb')
    await publish('q', 'cc') // 6 bytes > 5: 'aa' goes although only 3 messages
    expect(await drainBodies('q')).toEqual(['bb', 'cc'])
  })

  it('reject-publish nacks exactly the refused publishes', async () => {
    const { declare, publish, drainBodies, get, c } = await setup()
    await declare('q', { 'x-max-length': 2, 'x-overflow': 'reject-publish' })
    const replies = []
    for (const body of ['a', 'b', 'c', 'd']) replies.push(await publish('q', body))
    expect(replies.map(isNack)).toEqual([false, false, true, true])
    expect(replies[2]).toMatchObject({ op: 'error', error: { name: 'PublishNackError', code: 'NACK' } })
    // A nack is not a channel error.
    expect(c.of('channel.closed')).toEqual([])
    // Room again after one is taken.
    expect((await get('q'))?.body).toBe('a')
    expect(isNack(await publish('q', 'e'))).toBe(false)
    expect(await drainBodies('q')).toEqual(['b', 'e'])
  })

  it('reject-publish with x-max-length-bytes refuses a message that would go over the limit', async () => {
    // RabbitMQ's will_overflow: ready bytes + this message's size > limit.
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-length-bytes': 10, 'x-overflow': 'reject-publish' })
    expect(isNack(await publish('q', '12345'))).toBe(false)
    expect(isNack(await publish('q', '12345678'))).toBe(true) // 13 > 10
    expect(isNack(await publish('q', '12345'))).toBe(false) // exactly 10
    expect(isNack(await publish('q', ''))).toBe(false) // an empty body still fits
    expect(isNack(await publish('q', '1'))).toBe(true)
    expect(await drainBodies('q')).toEqual(['12345', '12345', ''])
  })

  it('reject-publish does not dead-letter the refused message', async () => {
    const { publish, broker } = await withDeadLetters({ 'x-max-length': 1, 'x-overflow': 'reject-publish' })
    await publish('q', 'a')
    expect(isNack(await publish('q', 'b'))).toBe(true)
    expect(readyOf(broker, 'dead')).toBe(0)
  })

  it('reject-publish: the other target queues still get the message', async () => {
    const { declare, publish, exchange, bind, drainBodies } = await setup()
    await exchange('fan', 'fanout')
    await declare('limited', { 'x-max-length': 1, 'x-overflow': 'reject-publish' })
    await declare('free')
    await bind('limited', 'fan')
    await bind('free', 'fan')
    expect(isNack(await publish('', 'a', {}, 'fan'))).toBe(false)
    expect(isNack(await publish('', 'b', {}, 'fan'))).toBe(true)
    expect(await drainBodies('free')).toEqual(['a', 'b'])
    expect(await drainBodies('limited')).toEqual(['a'])
  })

  it('reject-publish-dlx nacks and dead-letters the refused message with reason maxlen', async () => {
    const { publish, drainBodies, get } = await withDeadLetters({ 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx' })
    expect(isNack(await publish('q', 'a'))).toBe(false)
    expect(isNack(await publish('q', 'b'))).toBe(true)
    const dead = await get('dead')
    expect(dead?.body).toBe('b')
    expect(deathOf(dead)).toMatchObject({ queue: 'q', reason: 'maxlen' })
    expect(await drainBodies('q')).toEqual(['a'])
  })

  it('limits count ready messages only: unacknowledged ones leave room', async () => {
    const { declare, publish, get, drainBodies } = await setup()
    await declare('q', { 'x-max-length': 1, 'x-overflow': 'reject-publish' })
    await publish('q', 'a')
    await get('q', false) // 'a' is now unacked
    expect(isNack(await publish('q', 'b'))).toBe(false)
    expect(await drainBodies('q')).toEqual(['b'])
  })

  it('drop-head never touches unacknowledged messages', async () => {
    const { publish, get, c, drainBodies } = await withDeadLetters({ 'x-max-length': 1 })
    await publish('q', 'a')
    const a = await get('q', false)
    await publish('q', 'b')
    await publish('q', 'c') // drops 'b', not the unacked 'a'
    expect((await get('dead'))?.body).toBe('b')
    await c.ok({ op: 'basic.reject', deliveryTag: a!.deliveryTag, requeue: true })
    // Back at the head and over the limit: RabbitMQ trims after a requeue too, so it goes.
    const dead = await get('dead')
    expect(dead?.body).toBe('a')
    expect(deathOf(dead)).toMatchObject({ queue: 'q', reason: 'maxlen' })
    expect(await drainBodies('q')).toEqual(['c'])
  })

  it('reject-publish never drops: a requeue may leave the queue over its limit', async () => {
    const { declare, publish, get, c, drainBodies } = await setup()
    await declare('q', { 'x-max-length': 1, 'x-overflow': 'reject-publish' })
    await publish('q', 'a')
    const a = await get('q', false)
    await publish('q', 'b')
    await c.ok({ op: 'basic.reject', deliveryTag: a!.deliveryTag, requeue: true })
    expect(isNack(await publish('q', 'c'))).toBe(true)
    expect(await drainBodies('q')).toEqual(['a', 'b'])
  })

  it('x-max-length 0 with drop-head: only a waiting consumer ever sees a message', async () => {
    const { publish, broker, consume, settle, bodies } = await withDeadLetters({ 'x-max-length': 0 })
    await publish('q', 'nobody')
    expect(readyOf(broker, 'q')).toBe(0)
    expect(readyOf(broker, 'dead')).toBe(1)
    await consume('q', { noAck: true })
    await settle()
    await publish('q', 'taken')
    expect(bodies()).toEqual(['taken'])
  })

  it('drop-head on a priority queue drops from the head, which may be a high-priority message', async () => {
    const { declare, publish, drainBodies } = await setup()
    await declare('q', { 'x-max-length': 2, 'x-max-priority': 5 })
    await publish('q', 'low', { priority: 1 })
    await publish('q', 'high', { priority: 5 })
    await publish('q', 'mid', { priority: 3 })
    expect(await drainBodies('q')).toEqual(['mid', 'low'])
  })

  it.each([
    ['x-max-length', -1],
    ['x-max-length', 'ten'],
    ['x-max-length-bytes', 1.5],
    ['x-overflow', 'drop-tail'],
  ])('%s = %j is refused with 406', async (key, value) => {
    const { c } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { [key]: value } })
    expect(error.replyCode).toBe(406)
  })
})
