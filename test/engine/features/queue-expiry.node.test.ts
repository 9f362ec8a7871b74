// Queue expiry, x-expires (RabbitMQ §4.7): an unused queue is deleted; consumers, basic.get and
// (passive) redeclare are uses; publishing is not; the messages of an expired queue are not dead-lettered.
import { describe, expect, it } from 'vitest'
import { readyOf, setup } from './setup.js'

const exists = (broker: { inspect(): { queues: { name: string }[] } }, name: string) =>
  broker.inspect().queues.some((queue) => queue.name === name)

describe('queue expiry (x-expires)', () => {
  it('an unused queue is deleted after x-expires', async () => {
    const { declare, clock, broker, c } = await setup()
    await declare('q', { 'x-expires': 1000 })
    clock.advance(999)
    expect(exists(broker, 'q')).toBe(true)
    clock.advance(1)
    expect(exists(broker, 'q')).toBe(false)
    const error = await c.fails({ op: 'queue.declare', queue: 'q', passive: true })
    expect(error.replyCode).toBe(404)
  })

  it('basic.get resets the clock (even on an empty queue)', async () => {
    const { declare, clock, broker, get } = await setup()
    await declare('q', { 'x-expires': 1000 })
    clock.advance(600)
    expect(await get('q')).toBeNull()
    clock.advance(999)
    expect(exists(broker, 'q')).toBe(true)
    clock.advance(1)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('a redeclare resets the clock', async () => {
    const { declare, clock, broker } = await setup()
    await declare('q', { 'x-expires': 1000 })
    clock.advance(600)
    await declare('q', { 'x-expires': 1000 })
    clock.advance(999)
    expect(exists(broker, 'q')).toBe(true)
    clock.advance(1)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('a passive declare resets the clock', async () => {
    const { declare, clock, broker, c } = await setup()
    await declare('q', { 'x-expires': 1000 })
    clock.advance(600)
    await c.ok({ op: 'queue.declare', queue: 'q', passive: true })
    clock.advance(999)
    expect(exists(broker, 'q')).toBe(true)
    clock.advance(1)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('a queue with consumers never expires; the clock starts when the last one leaves', async () => {
    const { declare, clock, broker, consume, c } = await setup()
    await declare('q', { 'x-expires': 1000 })
    const { consumerTag } = await consume('q')
    clock.advance(10_000)
    expect(exists(broker, 'q')).toBe(true)
    await c.ok({ op: 'basic.cancel', consumerTag })
    clock.advance(999)
    expect(exists(broker, 'q')).toBe(true)
    clock.advance(1)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('a consumer lost with its channel starts the clock too', async () => {
    const { declare, clock, broker, consume, c } = await setup()
    await declare('q', { 'x-expires': 1000 })
    await c.open(2)
    await consume('q', { channel: 2 })
    clock.advance(5000)
    await c.ok({ op: 'channel.close', channel: 2 })
    clock.advance(1000)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('one timer per queue: a basic.get loop sets no timer per call, and the queue goes exactly x-expires after the last get', async () => {
    const { declare, clock, broker, get } = await setup()
    await declare('q', { 'x-expires': 1000 })
    let scheduled = 0
    const schedule = clock.schedule.bind(clock)
    clock.schedule = (delay, fn) => {
      scheduled++
      return schedule(delay, fn)
    }
    for (let i = 0; i < 100; i++) {
      await get('q')
      clock.advance(30) // t = 3000 after the loop; the last get was at 2970
    }
    expect(clock.pending).toBe(1)
    expect(scheduled).toBeLessThanOrEqual(3) // re-armed only when the pending timer fired early
    clock.advance(999 - 30)
    expect(exists(broker, 'q')).toBe(true)
    clock.advance(1)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('publishing is not a use', async () => {
    const { declare, publish, clock, broker } = await setup()
    await declare('q', { 'x-expires': 1000 })
    clock.advance(500)
    await publish('q', 'x')
    clock.advance(500)
    expect(exists(broker, 'q')).toBe(false)
  })

  it('the messages of an expired queue are not dead-lettered', async () => {
    const { declare, publish, clock, broker, exchange, bind } = await setup()
    await exchange('dlx', 'fanout')
    await declare('dead')
    await bind('dead', 'dlx')
    await declare('q', { 'x-expires': 1000, 'x-dead-letter-exchange': 'dlx' })
    await publish('q', 'a')
    await publish('q', 'b')
    clock.advance(1000)
    expect(exists(broker, 'q')).toBe(false)
    expect(readyOf(broker, 'dead')).toBe(0)
  })

  it('the bindings of an expired queue go with it', async () => {
    const { declare, clock, broker, exchange, bind, publish } = await setup()
    await exchange('x', 'fanout')
    await declare('q', { 'x-expires': 1000 })
    await bind('q', 'x')
    clock.advance(1000)
    const x = broker.inspect().exchanges.find((e) => e.name === 'x')
    expect(x?.bindings).toEqual([])
    const reply = await publish('', 'ignored', {}, 'x')
    expect(reply.op === 'ok' && reply.result).toEqual({ routed: false })
  })

  it.each([0, -1, 1.5, '1000'])('x-expires %j is refused with 406', async (value) => {
    const { c } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-expires': value } })
    expect(error.replyCode).toBe(406)
  })
})
