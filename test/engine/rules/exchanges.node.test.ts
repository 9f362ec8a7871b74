/** RabbitMQ's exchange and binding rules (features doc §4.1), driven through the Broker. */
import { describe, expect, test } from 'vitest'
import { bindQueue, declareExchange, declareQueue, exchangeExists, publish, queueExists, setup, takeAll } from './helpers.js'

/** Declares queues q1..qn, each bound to nothing yet. */
async function queues(c: Parameters<typeof takeAll>[0], ...names: string[]) {
  for (const name of names) await declareQueue(c, name)
}

describe('default exchange', () => {
  test("default exchange '' routes by queue name", async () => {
    const { c } = await setup()
    await queues(c, 'q1', 'q2')
    expect(await publish(c, '', 'q1', 'one')).toEqual({ routed: true })
    expect(await takeAll(c, 'q1')).toEqual(['one'])
    expect(await takeAll(c, 'q2')).toEqual([])
  })

  test('default exchange: a key that names no queue is unroutable', async () => {
    const { c } = await setup()
    expect(await publish(c, '', 'nobody')).toEqual({ routed: false })
  })

  test('default exchange cannot be declared (403)', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'exchange.declare', exchange: '', type: 'direct' })
    expect(error.replyCode).toBe(403)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  test('default exchange cannot be declared passively either (403)', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'exchange.declare', exchange: '', type: 'direct', passive: true })).replyCode).toBe(403)
  })

  test('default exchange cannot be deleted (403)', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'exchange.delete', exchange: '' })).replyCode).toBe(403)
  })

  test('default exchange cannot be bound to (403)', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    expect((await c.fails({ op: 'queue.bind', queue: 'q', exchange: '', routingKey: 'q' })).replyCode).toBe(403)
  })

  test('default exchange cannot be the source or destination of an exchange binding (403)', async () => {
    const { c } = await setup()
    await c.open(2)
    await c.open(3)
    expect((await c.fails({ op: 'exchange.bind', source: '', destination: 'amq.fanout' })).replyCode).toBe(403)
    expect((await c.fails({ op: 'exchange.bind', source: 'amq.fanout', destination: '', channel: 2 })).replyCode).toBe(403)
    await c.ok({ op: 'queue.declare', queue: 'q', channel: 3 })
    expect((await c.fails({ op: 'queue.unbind', queue: 'q', exchange: '', routingKey: 'q', channel: 3 })).replyCode).toBe(403)
  })
})

describe('amq.* exchanges', () => {
  test.each([
    ['amq.direct', 'direct'],
    ['amq.fanout', 'fanout'],
    ['amq.topic', 'topic'],
    ['amq.headers', 'headers'],
    ['amq.match', 'headers'],
  ])('%s is predeclared as a durable %s exchange', async (name, type) => {
    const { c } = await setup()
    await c.ok({ op: 'exchange.declare', exchange: name, type: 'ignored-when-passive', passive: true })
    // Redeclaring with equal properties is fine.
    await c.ok({ op: 'exchange.declare', exchange: name, type, durable: true })
  })

  test('amq.direct routes by exact key', async () => {
    const { c } = await setup()
    await queues(c, 'q1', 'q2')
    await bindQueue(c, 'q1', 'amq.direct', 'k')
    await bindQueue(c, 'q2', 'amq.direct', 'other')
    await publish(c, 'amq.direct', 'k', 'a')
    expect(await takeAll(c, 'q1')).toEqual(['a'])
    expect(await takeAll(c, 'q2')).toEqual([])
  })

  test('amq.fanout routes to every bound queue', async () => {
    const { c } = await setup()
    await queues(c, 'q1', 'q2')
    await bindQueue(c, 'q1', 'amq.fanout')
    await bindQueue(c, 'q2', 'amq.fanout', 'whatever')
    await publish(c, 'amq.fanout', 'any', 'a')
    expect(await takeAll(c, 'q1')).toEqual(['a'])
    expect(await takeAll(c, 'q2')).toEqual(['a'])
  })

  test('amq.topic routes by pattern', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', 'amq.topic', 'a.*')
    await publish(c, 'amq.topic', 'a.b', 'yes')
    await publish(c, 'amq.topic', 'a.b.c', 'no')
    expect(await takeAll(c, 'q')).toEqual(['yes'])
  })

  test.each(['amq.headers', 'amq.match'])('%s routes by headers', async (exchange) => {
    const { c } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', exchange, '', { 'x-match': 'any', a: 1, b: 2 })
    await publish(c, exchange, '', 'yes', { headers: { b: 2 } })
    await publish(c, exchange, '', 'no', { headers: { b: 3 } })
    expect(await takeAll(c, 'q')).toEqual(['yes'])
  })

  test('a new exchange named amq.* is refused (403)', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'exchange.declare', exchange: 'amq.mine', type: 'direct' })
    expect(error.replyCode).toBe(403)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  test('a new queue named amq.* is refused (403)', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'amq.mine' })).replyCode).toBe(403)
  })

  test('redeclaring amq.direct with other properties is inequivalent (406)', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'exchange.declare', exchange: 'amq.direct', type: 'direct', durable: false })).replyCode).toBe(406)
  })

  test('amq.* exchanges cannot be deleted (403)', async () => {
    const { c, ...env } = await setup()
    expect((await c.fails({ op: 'exchange.delete', exchange: 'amq.topic' })).replyCode).toBe(403)
    expect(exchangeExists(env, 'amq.topic')).toBe(true)
  })
})

describe('exchange.declare', () => {
  const base = { type: 'direct', durable: true, autoDelete: false, internal: false, arguments: { 'alternate-exchange': 'ae', b: 'x' } }

  test('redeclare with equal properties is fine, whatever the argument order', async () => {
    const { c } = await setup()
    await c.ok({ op: 'exchange.declare', exchange: 'x', ...base })
    await c.ok({ op: 'exchange.declare', exchange: 'x', ...base, arguments: { b: 'x', 'alternate-exchange': 'ae' } })
  })

  test('absent flags default to false and equal an explicit false', async () => {
    const { c } = await setup()
    await c.ok({ op: 'exchange.declare', exchange: 'x', type: 'fanout' })
    await c.ok({ op: 'exchange.declare', exchange: 'x', type: 'fanout', durable: false, autoDelete: false, internal: false, arguments: {} })
  })

  test.each([
    ['type', { type: 'fanout' }],
    ['durable', { durable: false }],
    ['autoDelete', { autoDelete: true }],
    ['internal', { internal: true }],
    // RabbitMQ itself compares only alternate-exchange among the arguments; these differ in it.
    ['arguments (value)', { arguments: { 'alternate-exchange': 'other', b: 'x' } }],
    ['arguments (missing key)', { arguments: { b: 'x' } }],
  ])('redeclare with a different %s is inequivalent (406)', async (_what, change) => {
    const { c, ...env } = await setup()
    await c.ok({ op: 'exchange.declare', exchange: 'x', ...base })
    const error = await c.fails({ op: 'exchange.declare', exchange: 'x', ...base, ...change })
    expect(error.replyCode).toBe(406)
    expect(error.closes).toBe('channel')
    expect(c.of('channel.closed')).toHaveLength(1)
    // The existing exchange is untouched.
    const x = env.broker.inspect().exchanges.find((e) => e.name === 'x')!
    expect(x).toMatchObject({ type: 'direct', durable: true, autoDelete: false, internal: false })
  })

  test('passive declare of a missing exchange is 404 and creates nothing', async () => {
    const { c, ...env } = await setup()
    const error = await c.fails({ op: 'exchange.declare', exchange: 'nope', type: 'direct', passive: true })
    expect(error.replyCode).toBe(404)
    expect(exchangeExists(env, 'nope')).toBe(false)
  })

  test('passive declare of an existing exchange ignores the other properties', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'topic', { durable: true })
    await c.ok({ op: 'exchange.declare', exchange: 'x', type: 'fanout', passive: true })
  })

  test('unknown exchange type is a 503 connection error', async () => {
    const { c, broker } = await setup()
    const error = await c.fails({ op: 'exchange.declare', exchange: 'x', type: 'x-nonsense' })
    expect(error.replyCode).toBe(503)
    expect(error.closes).toBe('connection')
    expect(c.of('connection.closed')).toHaveLength(1)
    expect(broker.hasClient(c.id)).toBe(false)
  })
})

describe('exchange.delete', () => {
  test('delete ifUnused of an exchange with bindings is 406', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'fanout')
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x')
    expect((await c.fails({ op: 'exchange.delete', exchange: 'x', ifUnused: true })).replyCode).toBe(406)
    expect(exchangeExists(env, 'x')).toBe(true)
  })

  test('delete ifUnused of an exchange without bindings succeeds', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'fanout')
    await c.ok({ op: 'exchange.delete', exchange: 'x', ifUnused: true })
    expect(exchangeExists(env, 'x')).toBe(false)
  })

  test('ifUnused looks only at bindings where the exchange is the source', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'dst', 'fanout')
    await c.ok({ op: 'exchange.bind', source: 'amq.fanout', destination: 'dst' })
    await c.ok({ op: 'exchange.delete', exchange: 'dst', ifUnused: true })
    expect(exchangeExists(env, 'dst')).toBe(false)
  })

  test('deleting a missing exchange succeeds', async () => {
    const { c } = await setup()
    await c.ok({ op: 'exchange.delete', exchange: 'never-was' })
    await c.ok({ op: 'exchange.delete', exchange: 'never-was', ifUnused: true })
  })

  test('exchange.delete removes its bindings but never deletes queues', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'fanout')
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x')
    await publish(c, 'x', '', 'before')
    await c.ok({ op: 'exchange.delete', exchange: 'x' })
    expect(queueExists(env, 'q')).toBe(true)
    expect(await takeAll(c, 'q')).toEqual(['before'])
    // A new exchange of the same name starts without the old bindings.
    await declareExchange(c, 'x', 'fanout')
    expect(await publish(c, 'x', '')).toEqual({ routed: false })
  })

  test('exchange.delete removes bindings where it is the destination', async () => {
    const { c, broker } = await setup()
    await declareExchange(c, 'src', 'fanout')
    await declareExchange(c, 'dst', 'fanout')
    await c.ok({ op: 'exchange.bind', source: 'src', destination: 'dst' })
    await c.ok({ op: 'exchange.delete', exchange: 'dst' })
    expect(broker.inspect().exchanges.find((e) => e.name === 'src')!.bindings).toEqual([])
  })
})

describe('auto-delete exchanges', () => {
  test('auto-delete exchange goes when its last binding is removed', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'direct', { autoDelete: true })
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x', 'a')
    await bindQueue(c, 'q', 'x', 'b')
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'x', routingKey: 'a' })
    expect(exchangeExists(env, 'x')).toBe(true)
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'x', routingKey: 'b' })
    expect(exchangeExists(env, 'x')).toBe(false)
  })

  test('auto-delete exchange that never had a binding is never deleted', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'direct', { autoDelete: true })
    await queues(c, 'q')
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'x', routingKey: 'a' })
    await c.ok({ op: 'queue.delete', queue: 'q' })
    expect(exchangeExists(env, 'x')).toBe(true)
  })

  test('auto-delete exchange goes when the queue of its last binding is deleted', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'fanout', { autoDelete: true })
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x')
    await c.ok({ op: 'queue.delete', queue: 'q' })
    expect(exchangeExists(env, 'x')).toBe(false)
  })

  test('auto-delete exchange goes when its last exchange-to-exchange binding is removed', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'fanout', { autoDelete: true })
    await declareExchange(c, 'y', 'fanout')
    await c.ok({ op: 'exchange.bind', source: 'x', destination: 'y' })
    await c.ok({ op: 'exchange.unbind', source: 'x', destination: 'y' })
    expect(exchangeExists(env, 'x')).toBe(false)
    expect(exchangeExists(env, 'y')).toBe(true)
  })

  test('auto-delete counts only bindings as source: losing a binding as destination keeps it', async () => {
    const { c, ...env } = await setup()
    await declareExchange(c, 'x', 'fanout', { autoDelete: true })
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x')
    await c.ok({ op: 'exchange.bind', source: 'amq.fanout', destination: 'x' })
    await c.ok({ op: 'exchange.unbind', source: 'amq.fanout', destination: 'x' })
    expect(exchangeExists(env, 'x')).toBe(true)
  })
})

describe('internal exchanges', () => {
  test('internal exchange: publish is refused (403)', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'fanout', { internal: true })
    const error = await c.fails({ op: 'basic.publish', exchange: 'x', routingKey: '', properties: {}, body: 'm' })
    expect(error.replyCode).toBe(403)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  test('internal exchange still routes what reaches it through an exchange binding', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'fanout', { internal: true })
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x')
    await c.ok({ op: 'exchange.bind', source: 'amq.fanout', destination: 'x' })
    await publish(c, 'amq.fanout', '', 'through')
    expect(await takeAll(c, 'q')).toEqual(['through'])
  })
})

describe('exchange-to-exchange bindings', () => {
  test('e2e binding routes by the source binding key, then by the destination', async () => {
    const { c } = await setup()
    await declareExchange(c, 'dst', 'direct')
    await queues(c, 'q1', 'q2')
    await bindQueue(c, 'q1', 'dst', 'a.b')
    await bindQueue(c, 'q2', 'dst', 'other')
    await c.ok({ op: 'exchange.bind', source: 'amq.topic', destination: 'dst', routingKey: 'a.*' })
    await publish(c, 'amq.topic', 'a.b', 'ab')
    await publish(c, 'amq.topic', 'other', 'not-matched-at-source')
    expect(await takeAll(c, 'q1')).toEqual(['ab'])
    expect(await takeAll(c, 'q2')).toEqual([])
  })

  test('e2e: one copy per queue even over several paths', async () => {
    const { c } = await setup()
    // amq.fanout → a → q, amq.fanout → b → q, and amq.fanout → q directly.
    await declareExchange(c, 'a', 'fanout')
    await declareExchange(c, 'b', 'fanout')
    await queues(c, 'q')
    await bindQueue(c, 'q', 'a')
    await bindQueue(c, 'q', 'b')
    await bindQueue(c, 'q', 'amq.fanout')
    await c.ok({ op: 'exchange.bind', source: 'amq.fanout', destination: 'a' })
    await c.ok({ op: 'exchange.bind', source: 'amq.fanout', destination: 'b' })
    await c.ok({ op: 'exchange.bind', source: 'a', destination: 'b' })
    await publish(c, 'amq.fanout', '', 'once')
    expect(await takeAll(c, 'q')).toEqual(['once'])
  })

  test('e2e: a queue bound twice with different keys gets one copy', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', 'amq.topic', 'a.*')
    await bindQueue(c, 'q', 'amq.topic', '*.b')
    await bindQueue(c, 'q', 'amq.topic', '#')
    await publish(c, 'amq.topic', 'a.b', 'once')
    expect(await takeAll(c, 'q')).toEqual(['once'])
  })

  test("e2e cycles don't loop", async () => {
    const { c } = await setup()
    await declareExchange(c, 'a', 'fanout')
    await declareExchange(c, 'b', 'fanout')
    await queues(c, 'q')
    await bindQueue(c, 'q', 'b')
    await c.ok({ op: 'exchange.bind', source: 'a', destination: 'b' })
    await c.ok({ op: 'exchange.bind', source: 'b', destination: 'a' })
    await c.ok({ op: 'exchange.bind', source: 'a', destination: 'a' })
    expect(await publish(c, 'a', '', 'm')).toEqual({ routed: true })
    expect(await publish(c, 'b', '', 'n')).toEqual({ routed: true })
    expect(await takeAll(c, 'q')).toEqual(['m', 'n'])
  })

  test('exchange.bind to a missing source or destination is 404', async () => {
    const { c } = await setup()
    await c.open(2)
    expect((await c.fails({ op: 'exchange.bind', source: 'amq.direct', destination: 'nope' })).replyCode).toBe(404)
    expect((await c.fails({ op: 'exchange.bind', source: 'nope', destination: 'amq.direct', channel: 2 })).replyCode).toBe(404)
  })

  test('exchange.unbind of a missing binding succeeds', async () => {
    const { c } = await setup()
    await c.ok({ op: 'exchange.unbind', source: 'amq.direct', destination: 'amq.fanout', routingKey: 'k' })
  })
})

describe('alternate exchanges', () => {
  test('alternate exchange: unroutable messages go to the AE', async () => {
    const { c } = await setup()
    await declareExchange(c, 'ae', 'fanout')
    await declareExchange(c, 'x', 'direct', { arguments: { 'alternate-exchange': 'ae' } })
    await queues(c, 'routed', 'unrouted')
    await bindQueue(c, 'routed', 'x', 'k')
    await bindQueue(c, 'unrouted', 'ae')
    await publish(c, 'x', 'k', 'hit')
    await publish(c, 'x', 'other', 'miss')
    expect(await takeAll(c, 'routed')).toEqual(['hit'])
    expect(await takeAll(c, 'unrouted')).toEqual(['miss'])
  })

  test('alternate exchange chain: the AE of the AE is tried next', async () => {
    const { c } = await setup()
    await declareExchange(c, 'ae2', 'fanout')
    await declareExchange(c, 'ae1', 'direct', { arguments: { 'alternate-exchange': 'ae2' } })
    await declareExchange(c, 'x', 'direct', { arguments: { 'alternate-exchange': 'ae1' } })
    await queues(c, 'last')
    await bindQueue(c, 'last', 'ae2')
    expect(await publish(c, 'x', 'k', 'm')).toEqual({ routed: true })
    expect(await takeAll(c, 'last')).toEqual(['m'])
  })

  test('alternate exchange: routing through the AE counts as routed for mandatory', async () => {
    const { c } = await setup()
    await declareExchange(c, 'ae', 'fanout')
    await declareExchange(c, 'x', 'direct', { arguments: { 'alternate-exchange': 'ae' } })
    await queues(c, 'q')
    await bindQueue(c, 'q', 'ae')
    expect(await publish(c, 'x', 'k', 'm', {}, true)).toEqual({ routed: true })
    expect(c.of('basic.return')).toEqual([])
  })

  test('alternate exchange cycle ends: unroutable, returned when mandatory', async () => {
    const { c } = await setup()
    await declareExchange(c, 'a', 'direct', { arguments: { 'alternate-exchange': 'b' } })
    await declareExchange(c, 'b', 'direct', { arguments: { 'alternate-exchange': 'a' } })
    expect(await publish(c, 'a', 'k', 'm', {}, true)).toEqual({ routed: false })
    expect(c.of('basic.return')).toHaveLength(1)
  })

  test('a missing alternate exchange leaves the message unroutable', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'direct', { arguments: { 'alternate-exchange': 'not-declared' } })
    expect(await publish(c, 'x', 'k')).toEqual({ routed: false })
  })

  test('the AE is not used when the message routes', async () => {
    const { c } = await setup()
    await declareExchange(c, 'ae', 'fanout')
    await declareExchange(c, 'x', 'fanout', { arguments: { 'alternate-exchange': 'ae' } })
    await queues(c, 'q', 'aeq')
    await bindQueue(c, 'q', 'x')
    await bindQueue(c, 'aeq', 'ae')
    await publish(c, 'x', 'k', 'm')
    expect(await takeAll(c, 'q')).toEqual(['m'])
    expect(await takeAll(c, 'aeq')).toEqual([])
  })

  test('the AE of an exchange reached through an exchange binding applies to what it cannot route', async () => {
    // RabbitMQ consults each exchange's AE on the way (rabbit_exchange:route), not just the first one's.
    const { c } = await setup()
    await declareExchange(c, 'ae', 'fanout')
    await declareExchange(c, 'inner', 'direct', { arguments: { 'alternate-exchange': 'ae' } })
    await queues(c, 'direct', 'aeq')
    await bindQueue(c, 'direct', 'amq.fanout')
    await bindQueue(c, 'aeq', 'ae')
    await c.ok({ op: 'exchange.bind', source: 'amq.fanout', destination: 'inner' })
    await publish(c, 'amq.fanout', 'k', 'm')
    expect(await takeAll(c, 'direct')).toEqual(['m'])
    expect(await takeAll(c, 'aeq')).toEqual(['m'])
  })

  test('an exchange whose bindings match only exchanges that route nowhere does not use its AE', async () => {
    const { c } = await setup()
    await declareExchange(c, 'ae', 'fanout')
    await declareExchange(c, 'x', 'fanout', { arguments: { 'alternate-exchange': 'ae' } })
    await declareExchange(c, 'empty', 'fanout')
    await queues(c, 'aeq')
    await bindQueue(c, 'aeq', 'ae')
    await c.ok({ op: 'exchange.bind', source: 'x', destination: 'empty' })
    expect(await publish(c, 'x', 'k', 'm')).toEqual({ routed: false })
    expect(await takeAll(c, 'aeq')).toEqual([])
  })

  test("an alternate-exchange argument that is not a string is refused (406)", async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'exchange.declare', exchange: 'x', type: 'direct', arguments: { 'alternate-exchange': 1 } })).replyCode).toBe(406)
  })
})

describe('routing by type', () => {
  test('direct: exact key equality, one binding per key', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'direct')
    await queues(c, 'q1', 'q2')
    await bindQueue(c, 'q1', 'x', 'k')
    await bindQueue(c, 'q2', 'x', 'k')
    await bindQueue(c, 'q2', 'x', 'K')
    await publish(c, 'x', 'k', 'lower')
    await publish(c, 'x', 'K', 'upper')
    await publish(c, 'x', 'k ', 'space')
    await publish(c, 'x', '', 'empty')
    expect(await takeAll(c, 'q1')).toEqual(['lower'])
    expect(await takeAll(c, 'q2')).toEqual(['lower', 'upper'])
  })

  test('direct: the empty key is a key like any other', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'direct')
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x', '')
    await publish(c, 'x', '', 'empty')
    await publish(c, 'x', 'k', 'k')
    expect(await takeAll(c, 'q')).toEqual(['empty'])
  })

  test('fanout: the routing key is ignored', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'fanout')
    await queues(c, 'q1', 'q2')
    await bindQueue(c, 'q1', 'x', 'a')
    await bindQueue(c, 'q2', 'x', 'b')
    await publish(c, 'x', 'c', 'm')
    expect(await takeAll(c, 'q1')).toEqual(['m'])
    expect(await takeAll(c, 'q2')).toEqual(['m'])
  })

  test.each([
    ['a.#', 'a', true],
    ['a.#', 'a.b.c', true],
    ['#.b', 'b', true],
    ['a.#.b', 'a.b', true],
    ['#', '', true],
    ['#', 'x.y', true],
    ['*', 'a.b', false],
    ['a.*', 'a', false],
    ['*.*', 'a.b', true],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.c', false],
  ])('topic: %s matches %j: %s', async (pattern, key, matches) => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'topic')
    await queues(c, 'q')
    await bindQueue(c, 'q', 'x', pattern)
    expect(await publish(c, 'x', key)).toEqual({ routed: matches })
  })

  test('headers: x-match all (the default) needs every pair, any needs one', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'headers')
    await queues(c, 'all', 'any')
    await bindQueue(c, 'all', 'x', '', { a: 1, b: 'two' })
    await bindQueue(c, 'any', 'x', '', { 'x-match': 'any', a: 1, b: 'two' })
    await publish(c, 'x', 'ignored', 'both', { headers: { a: 1, b: 'two', c: 3 } })
    await publish(c, 'x', 'ignored', 'one', { headers: { a: 1 } })
    await publish(c, 'x', 'ignored', 'none', { headers: { a: 2 } })
    await publish(c, 'x', 'ignored', 'no-headers')
    expect(await takeAll(c, 'all')).toEqual(['both'])
    expect(await takeAll(c, 'any')).toEqual(['both', 'one'])
  })

  test('headers: an unknown x-match is refused at bind time (406)', async () => {
    const { c } = await setup()
    await declareExchange(c, 'x', 'headers')
    await queues(c, 'q')
    expect((await c.fails({ op: 'queue.bind', queue: 'q', exchange: 'x', arguments: { 'x-match': 'some' } })).replyCode).toBe(406)
  })
})

describe('bindings', () => {
  test('bind to a missing queue is 404', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.bind', queue: 'nope', exchange: 'amq.direct' })).replyCode).toBe(404)
  })

  test('bind to a missing exchange is 404', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    expect((await c.fails({ op: 'queue.bind', queue: 'q', exchange: 'nope' })).replyCode).toBe(404)
  })

  test('unbind of a missing binding succeeds', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'amq.direct', routingKey: 'never-bound' })
  })

  test('binding twice is idempotent: one unbind removes it', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', 'amq.direct', 'k')
    await bindQueue(c, 'q', 'amq.direct', 'k')
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'amq.direct', routingKey: 'k' })
    expect(await publish(c, 'amq.direct', 'k')).toEqual({ routed: false })
  })

  test('binding identity includes arguments', async () => {
    const { c, broker } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', 'amq.direct', 'k', { tag: 1 })
    await bindQueue(c, 'q', 'amq.direct', 'k', { tag: 2 })
    await bindQueue(c, 'q', 'amq.direct', 'k', { tag: 2 })
    const bindings = () => broker.inspect().exchanges.find((e) => e.name === 'amq.direct')!.bindings
    expect(bindings()).toHaveLength(2)
    // Unbinding without arguments names a binding that does not exist.
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'amq.direct', routingKey: 'k' })
    expect(bindings()).toHaveLength(2)
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'amq.direct', routingKey: 'k', arguments: { tag: 1 } })
    expect(bindings()).toEqual([expect.objectContaining({ routingKey: 'k', arguments: { tag: 2 } })])
    expect(await publish(c, 'amq.direct', 'k', 'still')).toEqual({ routed: true })
    expect(await takeAll(c, 'q')).toEqual(['still'])
  })

  test('headers bindings with different arguments are different bindings', async () => {
    const { c } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', 'amq.headers', '', { a: 1 })
    await bindQueue(c, 'q', 'amq.headers', '', { b: 1 })
    await c.ok({ op: 'queue.unbind', queue: 'q', exchange: 'amq.headers', arguments: { a: 1 } })
    expect(await publish(c, 'amq.headers', '', 'a', { headers: { a: 1 } })).toEqual({ routed: false })
    expect(await publish(c, 'amq.headers', '', 'b', { headers: { b: 1 } })).toEqual({ routed: true })
  })

  test('deleting a queue removes its bindings', async () => {
    const { c, broker } = await setup()
    await queues(c, 'q')
    await bindQueue(c, 'q', 'amq.direct', 'k')
    await c.ok({ op: 'queue.delete', queue: 'q' })
    expect(broker.inspect().exchanges.find((e) => e.name === 'amq.direct')!.bindings).toEqual([])
    await queues(c, 'q')
    expect(await publish(c, 'amq.direct', 'k')).toEqual({ routed: false })
  })
})
