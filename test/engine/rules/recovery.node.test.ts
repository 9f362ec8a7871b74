/** What survives a broker restart (features doc §4.6 delivery_mode, §5): stop, then start on the same storage. */
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { startBroker } from '../harness.js'
import { bindQueue, declareExchange, declareQueue, exchangeExists, publish, queueExists, setup, takeAll, type Client, type Env } from './helpers.js'

/** A broker on fresh MemoryStorage, plus a restart that stops it and starts another on the same storage. */
async function durableSetup() {
  const storage = new MemoryStorage()
  const first = await setup({ storage })
  const restart = async (env: Env) => {
    await env.settle()
    await env.broker.stop()
    const next = await startBroker({ storage })
    const c = next.client()
    await c.open()
    return { ...next, c }
  }
  return { ...first, storage, restart }
}

const PERSISTENT = { deliveryMode: 2 as const }

/** Every ready message of q as [body, redelivered], by no-ack gets. */
async function readyOf(c: Client, queue: string) {
  const out: [unknown, boolean][] = []
  for (;;) {
    const got = await c.ok({ op: 'basic.get', queue, noAck: true })
    if (!got.message) return out
    out.push([got.message.body, got.message.redelivered])
  }
}

describe('definitions', () => {
  test('durable exchanges, queues and bindings survive a restart', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareExchange(c, 'dx', 'topic', { durable: true, arguments: { 'alternate-exchange': 'amq.fanout' } })
    await declareQueue(c, 'dq', { durable: true, arguments: { 'x-max-length': 5 } })
    await bindQueue(c, 'dq', 'dx', 'a.*')
    const after = await restart(env)
    expect(exchangeExists(after, 'dx')).toBe(true)
    expect(queueExists(after, 'dq')).toBe(true)
    // Same definitions: an equal redeclare is fine, and the binding routes.
    await declareExchange(after.c, 'dx', 'topic', { durable: true, arguments: { 'alternate-exchange': 'amq.fanout' } })
    await declareQueue(after.c, 'dq', { durable: true, arguments: { 'x-max-length': 5 } })
    expect(await publish(after.c, 'dx', 'a.b', 'routed')).toEqual({ routed: true })
    expect(await takeAll(after.c, 'dq')).toEqual(['routed'])
  })

  test('non-durable exchanges and queues do not survive', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareExchange(c, 'tx', 'fanout')
    await declareQueue(c, 'tq')
    const after = await restart(env)
    expect(exchangeExists(after, 'tx')).toBe(false)
    expect(queueExists(after, 'tq')).toBe(false)
  })

  test('exclusive queues do not survive, even declared durable', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'ex', { exclusive: true, durable: true })
    await bindQueue(c, 'ex', 'amq.direct', 'k')
    const after = await restart(env)
    expect(queueExists(after, 'ex')).toBe(false)
    expect(await publish(after.c, 'amq.direct', 'k')).toEqual({ routed: false })
  })

  test('a binding survives only if both ends are durable', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareExchange(c, 'dx', 'direct', { durable: true })
    await declareExchange(c, 'tx', 'direct')
    await declareQueue(c, 'dq', { durable: true })
    await declareQueue(c, 'tq')
    await bindQueue(c, 'dq', 'dx', 'durable')
    await bindQueue(c, 'tq', 'dx', 'transient-queue')
    await bindQueue(c, 'dq', 'tx', 'transient-exchange')
    const after = await restart(env)
    const bindings = after.broker.inspect().exchanges.find((e) => e.name === 'dx')!.bindings
    expect(bindings.map((b) => b.routingKey)).toEqual(['durable'])
    // A transient queue of the same name declared later does not inherit the old binding.
    await declareQueue(after.c, 'tq')
    expect(await publish(after.c, 'dx', 'transient-queue')).toEqual({ routed: false })
  })

  test('bindings to predeclared exchanges survive', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    await bindQueue(c, 'dq', 'amq.topic', '#')
    const after = await restart(env)
    expect(await publish(after.c, 'amq.topic', 'any.thing', 'm')).toEqual({ routed: true })
  })

  test('durable exchange-to-exchange bindings survive', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareExchange(c, 'src', 'fanout', { durable: true })
    await declareExchange(c, 'dst', 'direct', { durable: true })
    await declareQueue(c, 'dq', { durable: true })
    await c.ok({ op: 'exchange.bind', source: 'src', destination: 'dst' })
    await bindQueue(c, 'dq', 'dst', 'k')
    const after = await restart(env)
    await publish(after.c, 'src', 'k', 'through')
    expect(await takeAll(after.c, 'dq')).toEqual(['through'])
  })

  test('deleted exchanges, queues and bindings stay deleted', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareExchange(c, 'dx', 'direct', { durable: true })
    await declareQueue(c, 'dq', { durable: true })
    await declareQueue(c, 'gone', { durable: true })
    await bindQueue(c, 'dq', 'dx', 'k')
    await bindQueue(c, 'dq', 'amq.direct', 'unbound')
    await c.ok({ op: 'queue.unbind', queue: 'dq', exchange: 'amq.direct', routingKey: 'unbound' })
    await c.ok({ op: 'queue.delete', queue: 'gone' })
    await c.ok({ op: 'exchange.delete', exchange: 'dx' })
    const after = await restart(env)
    expect(exchangeExists(after, 'dx')).toBe(false)
    expect(queueExists(after, 'gone')).toBe(false)
    expect(await publish(after.c, 'amq.direct', 'unbound')).toEqual({ routed: false })
    // Redeclaring the exchange does not bring its old bindings back.
    await declareExchange(after.c, 'dx', 'direct', { durable: true })
    expect(await publish(after.c, 'dx', 'k')).toEqual({ routed: false })
  })

  test('an auto-delete exchange deleted with its last binding stays deleted', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareExchange(c, 'ad', 'fanout', { durable: true, autoDelete: true })
    await declareQueue(c, 'dq', { durable: true })
    await bindQueue(c, 'dq', 'ad')
    await c.ok({ op: 'queue.unbind', queue: 'dq', exchange: 'ad' })
    expect(exchangeExists(env, 'ad')).toBe(false)
    const after = await restart(env)
    expect(exchangeExists(after, 'ad')).toBe(false)
  })

  test('epoch increments on every start', async () => {
    const { restart, ...env } = await durableSetup()
    expect(env.broker.epoch).toBe(1)
    const second = await restart(env)
    expect(second.broker.epoch).toBe(2)
    const third = await restart(second)
    expect(third.broker.epoch).toBe(3)
  })
})

describe('messages', () => {
  test('persistent messages on durable queues survive, in order, with redelivered=true', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    for (const body of ['a', 'b', 'c']) await publish(c, '', 'dq', body, PERSISTENT)
    const after = await restart(env)
    expect(await readyOf(after.c, 'dq')).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ])
  })

  test('recovered messages keep their properties, exchange and routing key', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    await bindQueue(c, 'dq', 'amq.topic', 'a.*')
    const properties = { ...PERSISTENT, contentType: 'application/json', headers: { h: [1, { x: 'y' }] }, messageId: 'm-1', priority: 4 }
    await publish(c, 'amq.topic', 'a.b', { json: true }, properties)
    const after = await restart(env)
    const got = await after.c.ok({ op: 'basic.get', queue: 'dq', noAck: true })
    expect(got.message).toEqual({ deliveryTag: 1, redelivered: true, exchange: 'amq.topic', routingKey: 'a.b', properties, body: { json: true } })
  })

  test('transient messages do not survive, even on a durable queue', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    await publish(c, '', 'dq', 'transient')
    await publish(c, '', 'dq', 'explicitly-transient', { deliveryMode: 1 })
    await publish(c, '', 'dq', 'persistent', PERSISTENT)
    const after = await restart(env)
    expect(await takeAll(after.c, 'dq')).toEqual(['persistent'])
  })

  test('persistent messages on a non-durable queue do not survive', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'tq')
    await publish(c, '', 'tq', 'p', PERSISTENT)
    const after = await restart(env)
    expect(queueExists(after, 'tq')).toBe(false)
  })

  test('acked messages do not come back; unacked ones do', async () => {
    const { c, restart, settle, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    for (const body of ['a', 'b', 'c', 'd']) await publish(c, '', 'dq', body, PERSISTENT)
    await c.ok({ op: 'basic.consume', queue: 'dq' })
    await settle()
    const [a, , c3] = c.deliveries()
    await c.ok({ op: 'basic.ack', deliveryTag: a!.deliveryTag })
    await c.ok({ op: 'basic.ack', deliveryTag: c3!.deliveryTag })
    // b and d were delivered but never acked when the broker stopped.
    const after = await restart({ ...env, settle })
    expect(await readyOf(after.c, 'dq')).toEqual([
      ['b', true],
      ['d', true],
    ])
  })

  test('messages settled in other ways do not come back: no-ack, get, reject, purge, delete', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    await declareQueue(c, 'purged', { durable: true })
    await declareQueue(c, 'deleted', { durable: true })
    for (const body of ['no-ack', 'get-ack', 'rejected', 'nacked', 'kept']) await publish(c, '', 'dq', body, PERSISTENT)
    await publish(c, '', 'purged', 'x', PERSISTENT)
    await publish(c, '', 'deleted', 'y', PERSISTENT)
    await c.ok({ op: 'basic.get', queue: 'dq', noAck: true })
    const get = await c.ok({ op: 'basic.get', queue: 'dq' })
    await c.ok({ op: 'basic.ack', deliveryTag: get.message.deliveryTag })
    const rejected = await c.ok({ op: 'basic.get', queue: 'dq' })
    await c.ok({ op: 'basic.reject', deliveryTag: rejected.message.deliveryTag, requeue: false })
    const nacked = await c.ok({ op: 'basic.get', queue: 'dq' })
    await c.ok({ op: 'basic.nack', deliveryTag: nacked.message.deliveryTag, requeue: false })
    await c.ok({ op: 'queue.purge', queue: 'purged' })
    await c.ok({ op: 'queue.delete', queue: 'deleted' })
    const after = await restart(env)
    expect(await takeAll(after.c, 'dq')).toEqual(['kept'])
    expect(await takeAll(after.c, 'purged')).toEqual([])
    expect(queueExists(after, 'deleted')).toBe(false)
  })

  test('requeued messages come back in their original order', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    for (const body of ['a', 'b', 'c']) await publish(c, '', 'dq', body, PERSISTENT)
    const a = await c.ok({ op: 'basic.get', queue: 'dq' })
    const b = await c.ok({ op: 'basic.get', queue: 'dq' })
    await c.ok({ op: 'basic.reject', deliveryTag: b.message.deliveryTag, requeue: true })
    await c.ok({ op: 'basic.nack', deliveryTag: a.message.deliveryTag, requeue: true })
    const after = await restart(env)
    expect(await takeAll(after.c, 'dq')).toEqual(['a', 'b', 'c'])
  })

  test('messages published after a restart queue behind the recovered ones', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    await publish(c, '', 'dq', 'old-1', PERSISTENT)
    await publish(c, '', 'dq', 'old-2', PERSISTENT)
    const second = await restart(env)
    await publish(second.c, '', 'dq', 'new-1', PERSISTENT)
    const got = await second.c.ok({ op: 'basic.get', queue: 'dq' })
    expect(got.message.body).toBe('old-1')
    // Requeue old-1 and restart again: it goes back to the front, not behind new-1.
    await second.c.ok({ op: 'basic.reject', deliveryTag: got.message.deliveryTag })
    await publish(second.c, '', 'dq', 'new-2', PERSISTENT)
    const third = await restart(second)
    expect(await readyOf(third.c, 'dq')).toEqual([
      ['old-1', true],
      ['old-2', true],
      ['new-1', true],
      ['new-2', true],
    ])
  })

  test('a queue emptied before a restart does not resurrect anything when reused', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    for (const body of ['a', 'b']) await publish(c, '', 'dq', body, PERSISTENT)
    expect(await takeAll(c, 'dq')).toEqual(['a', 'b'])
    const second = await restart(env)
    await publish(second.c, '', 'dq', 'c', PERSISTENT)
    const third = await restart(second)
    expect(await takeAll(third.c, 'dq')).toEqual(['c'])
  })

  test('settling a delivery of a deleted durable queue does not touch a new queue of the same name', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true })
    await publish(c, '', 'dq', 'old', PERSISTENT)
    await c.open(2)
    const acked = await c.ok({ op: 'basic.get', queue: 'dq', channel: 2 })
    await c.ok({ op: 'queue.delete', queue: 'dq' })
    await declareQueue(c, 'dq', { durable: true })
    await publish(c, '', 'dq', 'new-1', PERSISTENT)
    await publish(c, '', 'dq', 'new-2', PERSISTENT)
    // The old delivery has the same position (seq) in its queue as new-1 has in the new one.
    await c.ok({ op: 'basic.ack', deliveryTag: acked.message.deliveryTag, channel: 2 })
    const after = await restart(env)
    expect(await takeAll(after.c, 'dq')).toEqual(['new-1', 'new-2'])
  })

  test('a durable queue with x-max-length keeps its limit after a restart', async () => {
    const { c, restart, ...env } = await durableSetup()
    await declareQueue(c, 'dq', { durable: true, arguments: { 'x-max-length': 2 } })
    for (const body of ['a', 'b']) await publish(c, '', 'dq', body, PERSISTENT)
    const after = await restart(env)
    await publish(after.c, '', 'dq', 'c', PERSISTENT)
    expect(await takeAll(after.c, 'dq')).toEqual(['b', 'c'])
  })
})
