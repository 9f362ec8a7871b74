import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  COMMAND_OPS,
  fitsUtf8,
  parseClientBatch,
  parseCommand,
  parseGoodbye,
  parseHello,
  parsePing,
  parseServerFrame,
  type ParseResult,
} from '../../src/protocol/guards.js'
import type { CommandOp } from '../../src/protocol/frames.js'

type Raw = Record<string, unknown>

/** One frame per op with every field set (valid values). */
const full: Record<CommandOp, Raw> = {
  'channel.open': { op: 'channel.open', id: 1, channel: 1 },
  'channel.close': { op: 'channel.close', id: 2, channel: 1 },
  'basic.qos': { op: 'basic.qos', id: 3, channel: 1, prefetchCount: 10, global: false },
  'exchange.declare': {
    op: 'exchange.declare',
    id: 4,
    channel: 1,
    exchange: 'logs',
    type: 'topic',
    durable: true,
    autoDelete: false,
    internal: false,
    passive: false,
    arguments: { 'alternate-exchange': 'ae' },
  },
  'exchange.delete': { op: 'exchange.delete', id: 5, channel: 1, exchange: 'logs', ifUnused: true },
  'exchange.bind': { op: 'exchange.bind', id: 6, channel: 2, destination: 'd', source: 's', routingKey: 'a.#', arguments: {} },
  'exchange.unbind': { op: 'exchange.unbind', id: 7, channel: 2, destination: 'd', source: 's', routingKey: 'a.#', arguments: {} },
  'queue.declare': {
    op: 'queue.declare',
    id: 8,
    channel: 3,
    queue: '',
    durable: true,
    exclusive: false,
    autoDelete: false,
    passive: false,
    arguments: { 'x-max-length': 10, 'x-message-ttl': 1000 },
  },
  'queue.bind': { op: 'queue.bind', id: 9, channel: 3, queue: 'q', exchange: 'logs', routingKey: 'a.*', arguments: { 'x-match': 'any' } },
  'queue.unbind': { op: 'queue.unbind', id: 10, channel: 3, queue: 'q', exchange: 'logs', routingKey: 'a.*', arguments: {} },
  'queue.purge': { op: 'queue.purge', id: 11, channel: 3, queue: 'q' },
  'queue.delete': { op: 'queue.delete', id: 12, channel: 3, queue: 'q', ifUnused: false, ifEmpty: true },
  'basic.publish': {
    op: 'basic.publish',
    id: 13,
    channel: 4,
    exchange: '',
    routingKey: 'q',
    mandatory: true,
    properties: {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: { a: 1, nested: { b: [1, 2] } },
      deliveryMode: 2,
      priority: 5,
      correlationId: 'c1',
      replyTo: 'amq.rabbitmq.reply-to',
      expiration: '60000',
      messageId: 'm1',
      timestamp: 1_700_000_000,
      type: 'order.created',
      appId: 'shop',
      userId: 'guest',
    },
    body: '{"hello":"world"}',
  },
  'basic.consume': {
    op: 'basic.consume',
    id: 14,
    channel: 4,
    queue: 'q',
    consumerTag: 'ctag-1',
    noAck: false,
    exclusive: false,
    arguments: { 'x-priority': 5 },
  },
  'basic.cancel': { op: 'basic.cancel', id: 15, channel: 4, consumerTag: 'ctag-1' },
  'basic.get': { op: 'basic.get', id: 16, channel: 4, queue: 'q', noAck: true },
  'basic.ack': { op: 'basic.ack', channel: 4, deliveryTag: 1, multiple: false },
  'basic.nack': { op: 'basic.nack', channel: 4, deliveryTag: 2, multiple: true, requeue: false },
  'basic.reject': { op: 'basic.reject', channel: 4, deliveryTag: 3, requeue: true },
  'basic.recover': { op: 'basic.recover', id: 17, channel: 4, requeue: true },
}

/** The required fields per op (besides op and channel). */
const required: Record<CommandOp, string[]> = {
  'channel.open': [],
  'channel.close': [],
  'basic.qos': ['prefetchCount'],
  // type is optional: a passive declare checks existence only (the engine refuses a missing type otherwise, 503).
  'exchange.declare': ['exchange'],
  'exchange.delete': ['exchange'],
  'exchange.bind': ['destination', 'source'],
  'exchange.unbind': ['destination', 'source'],
  'queue.declare': ['queue'],
  'queue.bind': ['queue', 'exchange'],
  'queue.unbind': ['queue', 'exchange'],
  'queue.purge': ['queue'],
  'queue.delete': ['queue'],
  'basic.publish': ['exchange', 'routingKey', 'properties'],
  'basic.consume': ['queue'],
  'basic.cancel': ['consumerTag'],
  'basic.get': ['queue'],
  'basic.ack': ['deliveryTag'],
  'basic.nack': ['deliveryTag'],
  'basic.reject': ['deliveryTag'],
  'basic.recover': [],
}

const NAMES = ['exchange', 'type', 'queue', 'routingKey', 'consumerTag', 'destination', 'source']
const BOOLS = ['durable', 'autoDelete', 'internal', 'passive', 'exclusive', 'ifUnused', 'ifEmpty', 'mandatory', 'noAck', 'multiple', 'requeue', 'global']

class Thing {
  a = 1
}
const tooLongNames = ['x'.repeat(256), 'é'.repeat(128), '😀'.repeat(64), 'x'.repeat(1_000_000)]
const wrong: Record<string, unknown[]> = {
  ...Object.fromEntries(NAMES.map((n) => [n, [1, null, true, {}, ['q'], ...tooLongNames]])),
  ...Object.fromEntries(BOOLS.map((n) => [n, ['true', 1, 0, null, {}]])),
  arguments: [[], 'x', 1, null, new Map(), new Date(), new Thing(), new Uint8Array(2)],
  deliveryTag: [-1, 1.5, '1', NaN, Infinity, 2 ** 53, null, 1n],
  prefetchCount: [-1, 65536, 1.5, '1', null, NaN],
  properties: [
    null,
    [],
    'x',
    new Thing(),
    { deliveryMode: 3 },
    { deliveryMode: '2' },
    { priority: 256 },
    { priority: -1 },
    { priority: 1.5 },
    { timestamp: '1' },
    { timestamp: NaN },
    { headers: [] },
    { headers: null },
    { contentType: 1 },
    { expiration: 1000 },
    { replyTo: 'x'.repeat(256) },
  ],
  body: [() => 1, Symbol('s')],
}

const known = (op: CommandOp) => Object.keys(full[op])

function expectOk(result: ParseResult) {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.message}`)
  return result.frame as unknown as Raw
}
function expectFail(result: ParseResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.frame)}`)
  return result
}

describe('parseCommand: valid frames', () => {
  it('knows every op', () => {
    expect([...COMMAND_OPS].sort()).toEqual(Object.keys(full).sort())
  })

  it.each(Object.keys(full) as CommandOp[])('%s with every field', (op) => {
    const raw = full[op]
    const frame = expectOk(parseCommand(raw))
    expect(frame).toEqual(raw)
    expect(frame).not.toBe(raw)
  })

  it.each(Object.keys(full) as CommandOp[])('%s with required fields only', (op) => {
    const raw: Raw = { op, channel: 7 }
    for (const name of required[op]) raw[name] = full[op][name]
    expect(expectOk(parseCommand(raw))).toEqual(raw)
  })

  it('treats undefined optional fields as absent', () => {
    const frame = expectOk(
      parseCommand({ op: 'queue.declare', id: undefined, channel: 1, queue: 'q', durable: undefined, arguments: undefined }),
    )
    expect(frame).toEqual({ op: 'queue.declare', channel: 1, queue: 'q' })
    expect('durable' in frame).toBe(false)
    expect('id' in frame).toBe(false)
  })

  it('drops unknown fields and copies tables', () => {
    const args = { 'x-max-length': 1 }
    const headers = { h: 1 }
    const raw = {
      ...full['basic.publish'],
      evil: 'yes',
      properties: { headers, deliveryMode: 1, bogus: 1 },
    }
    const frame = expectOk(parseCommand(raw))
    expect('evil' in frame).toBe(false)
    expect(frame.properties).toEqual({ headers: { h: 1 }, deliveryMode: 1 })
    expect((frame.properties as Raw).headers).not.toBe(headers)
    const declared = expectOk(parseCommand({ ...full['queue.declare'], arguments: args }))
    expect(declared.arguments).toEqual(args)
    expect(declared.arguments).not.toBe(args)
  })

  it('accepts names of exactly 255 UTF-8 bytes, and the empty name', () => {
    for (const name of ['', 'x'.repeat(255), 'é'.repeat(127) + 'a', '😀'.repeat(63) + 'abc', '€'.repeat(85)]) {
      expectOk(parseCommand({ op: 'queue.declare', channel: 1, queue: name }))
    }
  })

  it('accepts the channel and prefetch bounds', () => {
    expectOk(parseCommand({ op: 'channel.open', channel: 65535 }))
    expectOk(parseCommand({ op: 'basic.qos', channel: 1, prefetchCount: 0 }))
    expectOk(parseCommand({ op: 'basic.qos', channel: 1, prefetchCount: 65535 }))
    expectOk(parseCommand({ op: 'channel.open', channel: 1, id: 0 }))
    expectOk(parseCommand({ op: 'channel.open', channel: 1, id: Number.MAX_SAFE_INTEGER }))
  })

  it('accepts deliveryTag 0 only with multiple=true (AMQP: everything outstanding)', () => {
    expectOk(parseCommand({ op: 'basic.ack', channel: 1, deliveryTag: 0, multiple: true }))
    expectOk(parseCommand({ op: 'basic.nack', channel: 1, deliveryTag: 0, multiple: true, requeue: true }))
    expect(expectFail(parseCommand({ op: 'basic.ack', channel: 1, deliveryTag: 0 })).error.message).toMatch(/deliveryTag/)
    expectFail(parseCommand({ op: 'basic.reject', channel: 1, deliveryTag: 0 }))
  })

  it('accepts any structured-clone-able body, without walking it', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 100_000; i++) deep = { deep }
    const cyclic: Raw = {}
    cyclic.self = cyclic
    for (const body of [undefined, null, 0, '', new Uint8Array([1]), new ArrayBuffer(4), [1], new Map(), deep, cyclic, 1n]) {
      const frame = expectOk(parseCommand({ ...full['basic.publish'], body }))
      expect(frame.body).toBe(body)
    }
  })

  it('accepts null-prototype objects (frame, tables, properties)', () => {
    const raw = Object.assign(Object.create(null), full['basic.publish'], {
      properties: Object.assign(Object.create(null), { headers: Object.assign(Object.create(null), { a: 1 }) }),
    })
    expect(expectOk(parseCommand(raw)).properties).toEqual({ headers: { a: 1 } })
  })

  it('keeps a "__proto__" table key as a plain key', () => {
    const args = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Raw
    const frame = expectOk(parseCommand({ op: 'queue.declare', channel: 1, queue: 'q', arguments: args }))
    const copied = frame.arguments as Raw
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype)
    expect(Object.keys(copied).sort()).toEqual(['__proto__', 'a'])
    expect(({} as Raw).polluted).toBeUndefined()
  })
})

describe('parseCommand: malformed frames', () => {
  const cases: [CommandOp, string, unknown][] = []
  for (const op of Object.keys(full) as CommandOp[]) {
    for (const field of known(op)) {
      if (field === 'op' || field === 'id' || field === 'channel') continue
      for (const value of wrong[field] ?? []) cases.push([op, field, value])
    }
  }

  it.each(cases)('%s: %s = %o is refused', (op, field, value) => {
    const result = expectFail(parseCommand({ ...full[op], id: 99, channel: 5, [field]: value }))
    expect(result.error).toMatchObject({ name: 'FrameError', code: 'FRAME_ERROR', replyCode: 502 })
    expect(result.error.closes).toBeUndefined()
    expect(result.error.message).toContain(op)
    expect(result.error.message).toContain(`'${field === 'properties' ? 'properties' : field}`)
    expect(result.error.message.length).toBeLessThan(300)
    expect(result.id).toBe(99)
    expect(result.channel).toBe(5)
  })

  const missing: [CommandOp, string][] = (Object.keys(required) as CommandOp[]).flatMap((op) =>
    required[op].map((f): [CommandOp, string] => [op, f]),
  )
  it.each(missing)('%s without %s is refused', (op, field) => {
    const raw: Raw = { ...full[op], id: 3 }
    delete raw[field]
    const result = expectFail(parseCommand(raw))
    expect(result.error.message).toContain(`'${field}' is required`)
    expect(result.id).toBe(3)
  })

  it.each([0, -1, 65536, 1.5, '1', null, undefined, NaN])('channel %o is refused, id echoed', (channel) => {
    const result = expectFail(parseCommand({ op: 'channel.open', id: 4, channel }))
    expect(result.error.message).toContain("'channel'")
    expect(result.error.replyCode).toBe(502)
    expect(result.id).toBe(4)
    expect(result.channel).toBeUndefined()
  })

  it.each([-1, 1.5, '1', null, NaN, 2 ** 53])('id %o is refused, channel echoed', (id) => {
    const result = expectFail(parseCommand({ op: 'channel.open', id, channel: 2 }))
    expect(result.error.message).toContain("'id'")
    expect(result.id).toBeUndefined()
    expect(result.channel).toBe(2)
  })

  it.each(['basic.nope', 'toString', '__proto__', 'constructor', 'hello', 'ok', ''])('unknown op %j is 503', (op) => {
    const result = expectFail(parseCommand({ op, id: 1, channel: 1 }))
    expect(result.error).toMatchObject({ name: 'FrameError', code: 'UNKNOWN_OP', replyCode: 503 })
    expect(result.id).toBe(1)
    expect(result.channel).toBe(1)
  })

  it('clips a huge unknown op in the message', () => {
    const result = expectFail(parseCommand({ op: 'x'.repeat(1_000_000), channel: 1 }))
    expect(result.error.message.length).toBeLessThan(200)
  })

  it.each([null, undefined, 1, 'basic.ack', true, [], [{ op: 'channel.open' }], () => 1, Symbol('x')])('%o is not a command', (raw) => {
    const result = expectFail(parseCommand(raw))
    expect(result.error).toMatchObject({ code: 'FRAME_ERROR', replyCode: 502 })
  })

  it('refuses a frame without op, echoing what it could read', () => {
    const result = expectFail(parseCommand({ id: 5, channel: 6 }))
    expect(result.error.message).toContain("'op'")
    expect(result).toMatchObject({ id: 5, channel: 6 })
  })
})

describe('parseCommand: hostile input', () => {
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error('get')
      },
      has() {
        throw new Error('has')
      },
      ownKeys() {
        throw new Error('ownKeys')
      },
      getPrototypeOf() {
        throw new Error('proto')
      },
    },
  )
  const revocable = Proxy.revocable({}, {})
  revocable.revoke()

  it('survives proxies that throw', () => {
    expectFail(parseCommand(throwing))
    expectFail(parseCommand(revocable.proxy))
    expectFail(parseCommand({ ...full['queue.declare'], arguments: throwing }))
    expectFail(parseCommand({ ...full['queue.declare'], arguments: revocable.proxy }))
    expectFail(parseCommand({ ...full['basic.publish'], properties: throwing }))
    expectFail(parseCommand({ ...full['basic.publish'], properties: { headers: throwing } }))
  })

  it('survives throwing getters and echoes what was read before', () => {
    const raw = { op: 'queue.declare', id: 8, channel: 2 }
    Object.defineProperty(raw, 'queue', {
      get() {
        throw new Error('boom')
      },
      enumerable: true,
    })
    const result = expectFail(parseCommand(raw))
    expect(result).toMatchObject({ id: 8, channel: 2 })
    expect(result.error.message).toContain('queue.declare')
    const table = {}
    Object.defineProperty(table, 'k', {
      get() {
        throw new Error('boom')
      },
      enumerable: true,
    })
    expectFail(parseCommand({ ...full['queue.declare'], arguments: table }))
  })

  it('reads each getter once, so the engine sees one value', () => {
    let reads = 0
    const raw: Raw = { op: 'queue.declare', channel: 1 }
    Object.defineProperty(raw, 'queue', {
      get() {
        reads++
        return reads === 1 ? 'q' : 12
      },
      enumerable: true,
    })
    expect(expectOk(parseCommand(raw)).queue).toBe('q')
    expect(reads).toBe(1)
  })

  it('refuses a huge name quickly', () => {
    const t0 = performance.now()
    expectFail(parseCommand({ op: 'queue.declare', channel: 1, queue: 'x'.repeat(50_000_000) }))
    expect(performance.now() - t0).toBeLessThan(50)
  })

  it('accepts cyclic tables (shallow checks only)', () => {
    const args: Raw = { a: 1 }
    args.self = args
    const frame = expectOk(parseCommand({ ...full['queue.declare'], arguments: args }))
    expect((frame.arguments as Raw).self).toBe(args)
  })

  it('is fast on the hot path', () => {
    const frame = full['basic.publish']
    const t0 = performance.now()
    for (let i = 0; i < 100_000; i++) parseCommand(frame)
    // Generous: about 1 µs per frame is expected.
    expect(performance.now() - t0).toBeLessThan(2_000)
  })
})

// ------------------------------------------------------------ fuzz

const valueOf: Record<string, fc.Arbitrary<unknown>> = {
  ...Object.fromEntries(NAMES.map((n) => [n, fc.string({ maxLength: 80, unit: 'binary' })])),
  ...Object.fromEntries(BOOLS.map((n) => [n, fc.boolean()])),
  arguments: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
  deliveryTag: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  prefetchCount: fc.integer({ min: 0, max: 65535 }),
  properties: fc.record(
    {
      contentType: fc.string({ maxLength: 30 }),
      headers: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
      deliveryMode: fc.constantFrom(1, 2),
      priority: fc.integer({ min: 0, max: 255 }),
      timestamp: fc.double({ noNaN: true, noDefaultInfinity: true }),
      expiration: fc.nat().map(String),
    },
    { requiredKeys: [] },
  ),
  body: fc.jsonValue(),
}

const validFrame: fc.Arbitrary<Raw> = fc.constantFrom(...(Object.keys(full) as CommandOp[])).chain((op) => {
  const fields: Record<string, fc.Arbitrary<unknown>> = {
    op: fc.constant(op),
    channel: fc.integer({ min: 1, max: 65535 }),
    id: fc.nat(),
  }
  for (const name of known(op)) if (!(name in fields)) fields[name] = valueOf[name]!
  return fc.record(fields, { requiredKeys: ['op', 'channel', ...required[op]] })
})

const anything = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: true,
  withObjectString: true,
  withBoxedValues: true,
  withSparseArray: true,
})

function revalidates(result: ParseResult) {
  if (!result.ok) {
    expect(result.error.name).toBe('FrameError')
    expect([502, 503]).toContain(result.error.replyCode)
    return
  }
  const again = parseCommand(result.frame)
  expect(again.ok).toBe(true)
  if (again.ok) expect(again.frame).toEqual(result.frame)
}

describe('parseCommand fuzz', () => {
  it('accepts every valid frame and returns it unchanged', () => {
    fc.assert(
      fc.property(validFrame, (raw) => {
        const result = parseCommand(raw)
        if (!result.ok) throw new Error(result.error.message)
        expect(result.frame).toEqual(raw)
      }),
      { numRuns: 1000 },
    )
  })

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(anything, (raw) => {
        revalidates(parseCommand(raw))
      }),
      { numRuns: 1000 },
    )
  })

  it('never throws on arbitrary objects with a known op', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMAND_OPS), fc.dictionary(fc.constantFrom('id', 'channel', ...Object.keys(wrong)), anything), (op, rest) => {
        revalidates(parseCommand({ ...rest, op }))
      }),
      { numRuns: 1000 },
    )
  })

  it('never throws on mutated valid frames', () => {
    const fieldNames = fc.constantFrom('op', 'id', 'channel', 'properties', 'x', ...Object.keys(wrong))
    const mutation = fc.oneof(
      fc.tuple(fc.constant('set' as const), fieldNames, anything),
      fc.tuple(fc.constant('delete' as const), fieldNames, fc.constant(undefined)),
      fc.tuple(fc.constant('prop' as const), fc.constantFrom('deliveryMode', 'priority', 'timestamp', 'headers', 'replyTo', 'z'), anything),
    )
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }), (raw, mutations) => {
        const frame: Raw = { ...raw }
        for (const [kind, name, value] of mutations) {
          if (kind === 'set') frame[name] = value
          else if (kind === 'delete') delete frame[name]
          else frame.properties = { ...(typeof frame.properties === 'object' ? frame.properties : {}), [name]: value }
        }
        revalidates(parseCommand(frame))
      }),
      { numRuns: 2000 },
    )
  })
})

// ------------------------------------------------------------ handshake and batches

describe('parseHello and friends', () => {
  it('parses a hello', () => {
    expect(parseHello({ op: 'hello', clientId: 'c1', protocol: 1, kind: 'window', name: 'tab', extra: 1 })).toEqual({
      op: 'hello',
      clientId: 'c1',
      protocol: 1,
      kind: 'window',
      name: 'tab',
    })
  })

  it('reads the session a hello names; a bad one proves nothing and is dropped', () => {
    const session = '0123456789abcdef0123456789abcdef'
    expect(parseHello({ op: 'hello', clientId: 'c1', protocol: 1, kind: 'window', session })).toEqual({
      op: 'hello',
      clientId: 'c1',
      protocol: 1,
      kind: 'window',
      session,
    })
    for (const bad of [5, '', 'x'.repeat(65), null, { toString: () => session }])
      expect(parseHello({ op: 'hello', clientId: 'c1', protocol: 1, kind: 'window', session: bad })).not.toHaveProperty('session')
  })

  it('is lenient on the label fields only', () => {
    expect(parseHello({ op: 'hello', clientId: 'c1', protocol: 1, kind: 'toaster', name: 5 })).toEqual({
      op: 'hello',
      clientId: 'c1',
      protocol: 1,
      kind: 'unknown',
    })
  })

  it.each([
    null,
    'hello',
    { op: 'hello', protocol: 1, kind: 'window' },
    { op: 'hello', clientId: '', protocol: 1, kind: 'window' },
    { op: 'hello', clientId: 'x'.repeat(129), protocol: 1, kind: 'window' },
    { op: 'hello', clientId: 'c', protocol: '1', kind: 'window' },
    { op: 'hello', clientId: 'c', protocol: -1, kind: 'window' },
    { op: 'goodbye', clientId: 'c', protocol: 1, kind: 'window' },
  ])('refuses hello %j', (raw) => {
    expect(parseHello(raw)).toBeNull()
  })

  it('parses goodbye and ping', () => {
    expect(parseGoodbye({ op: 'goodbye', clientId: 'c', session: 's1', x: 1 })).toEqual({ op: 'goodbye', clientId: 'c', session: 's1' })
    expect(parseGoodbye({ op: 'goodbye' })).toBeNull()
    // A goodbye ends only the session it names: one that names none is refused.
    expect(parseGoodbye({ op: 'goodbye', clientId: 'c' })).toBeNull()
    expect(parseGoodbye({ op: 'goodbye', clientId: 'c', session: 7 })).toBeNull()
    expect(parseGoodbye({ op: 'goodbye', clientId: 'c', session: 'x'.repeat(65) })).toBeNull()
    expect(parsePing({ op: 'ping', clientId: 'c', nonce: 3 })).toEqual({ op: 'ping', clientId: 'c', nonce: 3 })
    expect(parsePing({ op: 'ping', clientId: 'c', nonce: '3' })).toBeNull()
  })

  it('parses a batch envelope', () => {
    const frames = [{ op: 'channel.open', channel: 1 }, 5]
    const batch = parseClientBatch({ from: 'c1', frames })
    expect(batch).toEqual({ from: 'c1', frames })
    expect(batch!.frames).not.toBe(frames)
    expect(parseClientBatch({ from: 'c1', frames: [] })).toEqual({ from: 'c1', frames: [] })
    expect(parseClientBatch({ from: 'c1', session: 's1', frames: [] })).toEqual({ from: 'c1', session: 's1', frames: [] })
    expect(parseClientBatch({ from: 'c1', frames: new Array(10_000).fill(0) })?.frames).toHaveLength(10_000)
  })

  it.each([
    null,
    [],
    { from: 'c1' },
    { from: '', frames: [] },
    { from: 1, frames: [] },
    { from: 'x'.repeat(129), frames: [] },
    { from: 'c1', frames: {} },
    { from: 'c1', frames: 'abc' },
    { from: 'c1', frames: new Array(10_001).fill(0) },
    { from: 'c1', session: 1, frames: [] },
    { from: 'c1', session: '', frames: [] },
    { from: 'c1', session: 'x'.repeat(65), frames: [] },
  ])('refuses batch %j', (raw) => {
    expect(parseClientBatch(raw)).toBeNull()
  })

  it('never throws', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('x')
        },
      },
    )
    const frames = new Proxy([], {
      get(target, key) {
        if (key === 'length') return 3
        throw new Error('x')
      },
    })
    for (const parse of [parseHello, parseGoodbye, parsePing, parseClientBatch, parseServerFrame]) {
      expect(parse(hostile)).toBeNull()
      fc.assert(fc.property(anything, (raw) => void parse(raw)), { numRuns: 200 })
    }
    expect(parseClientBatch({ from: 'c', frames })).toBeNull()
  })
})

describe('parseServerFrame', () => {
  const err = { name: 'ChannelError', code: 'NOT_FOUND', message: 'no queue', replyCode: 404, closes: 'channel' }
  const good: Raw[] = [
    { op: 'ok', id: 1, result: { queue: 'q' } },
    { op: 'ok', id: 0, result: undefined },
    { op: 'ok', id: 3, through: 9, result: { routed: true } },
    { op: 'ok', id: 3, through: 3 + 65535, result: undefined },
    { op: 'error', id: 2, error: err },
    { op: 'error', id: 2, error: { name: 'E', code: 'C', message: 'm' } },
    {
      op: 'basic.deliver',
      channel: 1,
      consumerTag: 't',
      deliveryTag: 1,
      redelivered: false,
      exchange: '',
      routingKey: 'q',
      properties: {},
      body: 'x',
    },
    { op: 'basic.return', channel: 1, replyCode: 312, replyText: 'NO_ROUTE', exchange: 'e', routingKey: 'k', properties: {}, body: 1 },
    { op: 'basic.cancel-notify', channel: 1, consumerTag: 't' },
    { op: 'channel.closed', channel: 1, error: err },
    { op: 'connection.closed', error: { ...err, closes: 'connection', replyCode: 541 } },
    { op: 'welcome', clientId: 'c', protocol: 1, epoch: 3, brokerId: 'b', session: 's' },
    { op: 'welcome', clientId: 'c', protocol: 1, epoch: 3, brokerId: 'b', session: 's', storage: 'unavailable' },
    { op: 'pong', nonce: 1, epoch: 3 },
    { op: 'unknown-session', clientId: 'c', session: 's', epoch: 3 },
    { op: 'unknown-session', clientId: 'c', epoch: 3 },
  ]
  it.each(good)('accepts %j', (raw) => {
    expect(parseServerFrame(raw)).toBe(raw)
  })

  const bad: unknown[] = [
    null,
    'ok',
    { op: 'nope' },
    { op: 'ok' },
    { op: 'ok', id: '1' },
    { op: 'ok', id: 3, through: 3, result: undefined },
    { op: 'ok', id: 3, through: 2, result: undefined },
    { op: 'ok', id: 3, through: 4.5, result: undefined },
    { op: 'ok', id: 3, through: '9', result: undefined },
    { op: 'ok', id: 3, through: 3 + 65536, result: undefined },
    { op: 'error', id: 1, error: 'boom' },
    { op: 'error', id: 1, error: { name: 'E', code: 'C' } },
    { op: 'error', id: 1, error: { name: 'E', code: 'C', message: 'm', closes: 'everything' } },
    { op: 'basic.deliver', channel: 1, consumerTag: 't', deliveryTag: 1, exchange: '', routingKey: 'q', properties: {} },
    { op: 'basic.deliver', channel: 0, consumerTag: 't', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', properties: {} },
    { op: 'basic.return', channel: 1, replyCode: '312', replyText: '', exchange: '', routingKey: '', properties: {} },
    { op: 'basic.cancel-notify', channel: 1 },
    { op: 'channel.closed', channel: 1 },
    { op: 'connection.closed', error: null },
    { op: 'welcome', clientId: 'c', protocol: 1, epoch: 3 },
    { op: 'welcome', clientId: 'c', protocol: 1, epoch: 3, brokerId: 'b', session: 's', storage: 'disk' },
    { op: 'welcome', clientId: 'c', protocol: 1, epoch: 3, brokerId: 'b' },
    { op: 'pong', nonce: 1 },
    { op: 'unknown-session', epoch: 3 },
    { op: 'unknown-session', clientId: 'c', session: 5, epoch: 3 },
    { op: 'unknown-client', clientId: 'c', epoch: 3 },
    { op: 'channel.open', channel: 1 },
  ]
  it.each(bad)('refuses %j', (raw) => {
    expect(parseServerFrame(raw)).toBeNull()
  })
})

describe('fitsUtf8', () => {
  it('agrees with TextEncoder', () => {
    const encoder = new TextEncoder()
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constant('a'), fc.constant('é'), fc.constant('€'), fc.constant('😀'), fc.constant('\ud800'), fc.constant('\udc00')), maxLength: 200 }), fc.integer({ min: 0, max: 300 }), (s, max) => {
        expect(fitsUtf8(s, max)).toBe(encoder.encode(s).length <= max)
      }),
      { numRuns: 2000 },
    )
  })
})
