// Serializers, compression and accept lists, over a broker.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  getSerializer,
  Queue,
  registerSerializer,
  SerializerNotInstalledError,
  unregisterSerializer,
  type Message,
} from '../../src/index.js'
import { compress, decode, decompress, encode } from '../../src/client/serialization.js'
import { getCompression, registerCompression, unregisterCompression } from '../../src/compression.js'
import { setup, type Setup } from './helpers.js'

describe('serializer registry', () => {
  it('encodes json, text, binary and structured bodies', () => {
    expect(encode({ a: 1 })).toEqual({ body: '{"a":1}', contentType: 'application/json', contentEncoding: 'utf-8' })
    // Like Kombu's producer: a string still goes through the default (json) serializer.
    expect(encode('hi').body).toBe('"hi"')
    expect(encode('hi', { serializer: 'text' })).toEqual({ body: 'hi', contentType: 'text/plain', contentEncoding: 'utf-8' })
    const bytes = new Uint8Array([1, 2, 3])
    expect(encode(bytes.buffer, { serializer: 'binary' }).body).toEqual(bytes)
    const date = new Date(0)
    expect(encode(date, { serializer: 'structured' }).body).toBe(date)
  })

  it('sends the body as it is when a content type is given', () => {
    expect(encode('<b/>', { contentType: 'text/html' })).toEqual({ body: '<b/>', contentType: 'text/html', contentEncoding: 'utf-8' })
    const bytes = new Uint8Array([9])
    expect(encode(bytes, { contentType: 'image/png' })).toEqual({ body: bytes, contentType: 'image/png', contentEncoding: 'binary' })
  })

  it('returns bodies of unknown content types as they are', () => {
    expect(decode('raw', 'application/x-unknown')).toBe('raw')
    expect(decode('raw', undefined)).toBe('raw')
  })

  it('fails with typed errors', () => {
    expect(() => encode(undefined)).toThrow(EncodeError)
    expect(() => encode(1, { serializer: 'text' })).toThrow(EncodeError)
    expect(() => encode(1, { serializer: 'nope' })).toThrow(SerializerNotInstalledError)
    expect(() => decode('{', 'application/json')).toThrow(DecodeError)
    expect(() => decode('{}', 'application/json', new Set(['text/plain']))).toThrow(ContentDisallowedError)
  })

  it('takes custom serializers', () => {
    registerSerializer('csv', {
      contentType: 'text/csv',
      contentEncoding: 'utf-8',
      encode: (rows) => (rows as string[][]).map((r) => r.join(',')).join('\n'),
      decode: (body) => String(body).split('\n').map((line) => line.split(',')),
    })
    try {
      const encoded = encode([['a', 'b']], { serializer: 'csv' })
      expect(encoded.body).toBe('a,b')
      expect(decode(encoded.body, encoded.contentType)).toEqual([['a', 'b']])
      expect(getSerializer('csv').contentType).toBe('text/csv')
    } finally {
      unregisterSerializer('csv')
    }
    expect(() => getSerializer('csv')).toThrow(SerializerNotInstalledError)
  })

  it('compresses with gzip and deflate, naming the method in a header value', async () => {
    for (const [name, mime] of [
      ['gzip', 'application/x-gzip'],
      ['deflate', 'application/x-deflate'],
    ] as const) {
      const { body, header } = await compress('a'.repeat(1000), name)
      expect(header).toBe(mime)
      expect(body.byteLength).toBeLessThan(100)
      expect(new TextDecoder().decode(await decompress(body, mime))).toBe('a'.repeat(1000))
    }
    await expect(compress({ not: 'bytes' }, 'gzip')).rejects.toBeInstanceOf(EncodeError)
    await expect(compress('x', 'lzma')).rejects.toBeInstanceOf(SerializerNotInstalledError)
  })
})

describe('over a broker', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  const roundTrip = async (body: unknown, options: Record<string, unknown> = {}, accept?: string[]) => {
    const conn = await env.connect()
    const queue = new Queue('rt').bind(conn)
    await queue.declare()
    await conn.producer().publish(body, { routingKey: 'rt', ...options })
    const message = await queue.get({ noAck: true, ...(accept ? { accept } : {}) })
    return message!
  }

  it('json round trip', async () => {
    const message = await roundTrip({ list: [1, 'two', null] })
    expect(message.body).toEqual({ list: [1, 'two', null] })
    expect(message.rawBody).toBe('{"list":[1,"two",null]}')
  })

  it('structured clone round trip keeps Dates, Maps and typed arrays', async () => {
    const body = { when: new Date(86_400_000), map: new Map([['k', 1]]), bytes: new Float64Array([1.5]) }
    const message = await roundTrip(body, { serializer: 'structured' })
    expect(message.contentType).toBe('application/x-structured-clone')
    const decoded = message.body as typeof body
    expect(decoded.when).toBeInstanceOf(Date)
    expect(decoded.when.getTime()).toBe(86_400_000)
    expect(decoded.map.get('k')).toBe(1)
    expect(decoded.bytes).toBeInstanceOf(Float64Array)
    expect(decoded.bytes[0]).toBe(1.5)
  })

  it('text and binary round trips', async () => {
    expect((await roundTrip('plain', { serializer: 'text' })).body).toBe('plain')
    const bytes = await roundTrip(new Uint8Array([0, 255]), { serializer: 'binary' })
    expect(bytes.body).toEqual(new Uint8Array([0, 255]))
    expect(bytes.contentType).toBe('application/octet-stream')
  })

  it('compressed round trip (gzip and deflate)', async () => {
    for (const compression of ['gzip', 'deflate']) {
      const message = await roundTrip({ big: 'x'.repeat(5000) }, { compression })
      expect(message.headers['compression']).toBe(compression === 'gzip' ? 'application/x-gzip' : 'application/x-deflate')
      expect(message.body).toEqual({ big: 'x'.repeat(5000) })
    }
  })

  it("a compression registered through 'warren/compression' is used by publish and delivery, and found by name or content type", async () => {
    const reverse = { contentType: 'application/x-reversed', compress: async (b: Uint8Array) => b.slice().reverse(), decompress: async (b: Uint8Array) => b.slice().reverse() }
    registerCompression('reversed', reverse)
    try {
      expect(getCompression('reversed')).toBe(reverse)
      expect(getCompression('application/x-reversed')).toBe(reverse)
      const message = await roundTrip({ hello: 'world' }, { compression: 'reversed' })
      expect(message.headers['compression']).toBe('application/x-reversed')
      const { body } = await compress('abc', 'reversed')
      expect(new TextDecoder().decode(body)).toBe('cba')
      expect(message.body).toEqual({ hello: 'world' })
    } finally {
      unregisterCompression('reversed')
    }
    expect(() => getCompression('reversed')).toThrow(SerializerNotInstalledError)
    expect(() => unregisterCompression('reversed')).toThrow(SerializerNotInstalledError)
    await expect(compress('x', 'reversed')).rejects.toBeInstanceOf(SerializerNotInstalledError)
  })

  it('a body that cannot be decoded throws DecodeError when read', async () => {
    const message = await roundTrip('{broken', { contentType: 'application/json' })
    expect(message.rawBody).toBe('{broken')
    expect(() => message.body).toThrow(DecodeError)
  })

  it('get enforces an accept list when the body is read', async () => {
    const message = await roundTrip('x', { serializer: 'text' }, ['json'])
    expect(() => message.body).toThrow(ContentDisallowedError)
  })

  it('a consumer routes refused content to onDecodeError', async () => {
    const conn = await env.connect()
    const queue = new Queue('strict')
    await conn.maybeDeclare(queue)
    const producer = conn.producer({ routingKey: 'strict' })
    await producer.publish('text', { serializer: 'text' })
    await producer.publish({ ok: true })
    const refused: Array<[Message<unknown>, unknown]> = []
    const bodies: unknown[] = []
    const consumer = conn.consumer(queue, {
      accept: ['json'],
      callbacks: [(body, message) => (bodies.push(body), message.ack())],
      onDecodeError: (message, error) => {
        refused.push([message, error])
        message.reject()
      },
    })
    await consumer.consume()
    await conn.drainEvents({ timeout: 1000 })
    expect(refused).toHaveLength(1)
    expect(refused[0]![1]).toBeInstanceOf(ContentDisallowedError)
    expect(refused[0]![0].rawBody).toBe('text')
    expect(bodies).toEqual([{ ok: true }])
  })

  it('without onDecodeError a refused message is rejected and reported on status', async () => {
    const conn = await env.connect()
    const queue = new Queue('strict2')
    await conn.maybeDeclare(queue)
    const statuses = conn.status[Symbol.asyncIterator]()
    await conn.producer().publish('nope', { routingKey: 'strict2', serializer: 'text' })
    const consumer = conn.consumer(queue, { accept: ['application/json'], callbacks: [() => {}] })
    await consumer.consume()
    const event = await statuses.next()
    expect(event.value).toMatchObject({ type: 'error' })
    expect((event.value as { error: unknown }).error).toBeInstanceOf(ContentDisallowedError)
    await consumer.cancel()
    expect((await queue.bind(conn).queueDeclare({ passive: true })).messageCount).toBe(0)
  })
})
