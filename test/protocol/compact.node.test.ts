// Compact publishes and deliveries (src/protocol/compact.ts): each stands for exactly the frame
// it encodes, the broker's guard checks a compact publish as strictly as an object one (a bad
// one is a typed error that echoes id and channel, never a throw), and the client's check
// refuses a malformed compact delivery.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { COMPACT_PUBLISH, PUBLISH_LENGTH, serverToWire, toWire, type CompactPublish } from '../../src/protocol/compact.js'
import type { BasicDeliver, BasicPublish } from '../../src/protocol/frames.js'
import { parseCommand, parseServerFrame } from '../../src/protocol/guards.js'

const usual = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1 as const }
const publish: BasicPublish = { op: 'basic.publish', id: 7, channel: 2, exchange: 'ex', routingKey: 'rk', properties: usual, body: '{"n":1}', publishId: 'p.1' }

const parsed = (raw: unknown) => {
  const result = parseCommand(raw)
  if (!result.ok) throw new Error(`refused: ${result.error.message}`)
  return result.frame
}

describe('compact basic.publish', () => {
  it('is an array, with the usual properties flat', () => {
    const wire = toWire(publish) as CompactPublish
    expect(Array.isArray(wire)).toBe(true)
    expect(wire).toHaveLength(PUBLISH_LENGTH)
    expect(wire[0]).toBe(COMPACT_PUBLISH)
    expect(wire[12]).toBeUndefined()
    // Structured clone writes no key strings for it.
    expect(JSON.stringify(wire)).not.toContain('contentType')
  })

  it('parses into the same frame as the object form', () => {
    const cases: BasicPublish[] = [
      publish,
      { ...publish, mandatory: true, durability: 'strict', retryOf: 'broker-1' },
      { ...publish, durability: 'relaxed', id: undefined as never },
      { ...publish, properties: { ...usual, headers: { a: 1 }, priority: 3, expiration: '100' } },
      { ...publish, properties: {} },
      { ...publish, properties: { contentType: 'text/plain' } },
    ]
    for (const frame of cases) {
      const object = parsed(JSON.parse(JSON.stringify(frame)))
      const compact = parsed(structuredClone(toWire(frame)))
      // The object form keeps an explicit mandatory: false; the compact one leaves it out.
      expect({ mandatory: false, ...compact }).toEqual({ mandatory: false, ...object })
    }
    const { body: _body, ...noBody } = publish
    expect('body' in parsed(toWire(noBody as BasicPublish))).toBe(false)
  })

  it('leaves other frames as they are', () => {
    const ack = { op: 'basic.ack', channel: 1, deliveryTag: 3, multiple: true }
    expect(toWire(ack)).toBe(ack)
  })

  const good = (): unknown[] => [...(toWire(publish) as CompactPublish)]
  const bad: Array<[string, (a: unknown[]) => void]> = [
    ['a short array', (a) => void a.pop()],
    ['a long array', (a) => void a.push(0)],
    ['a bad exchange', (a) => void (a[3] = 5)],
    ['a routing key over 255 bytes', (a) => void (a[4] = 'x'.repeat(256))],
    ['flags out of range', (a) => void (a[5] = 8)],
    ['both durabilities', (a) => void (a[5] = 6)],
    ['a fractional flag', (a) => void (a[5] = 0.5)],
    ['a function body', (a) => void (a[6] = () => 1)],
    ['a bad publish id', (a) => void (a[7] = {})],
    ['a bad retryOf', (a) => void (a[8] = 1)],
    ['a bad content type', (a) => void (a[9] = null)],
    ['no content encoding', (a) => void (a[10] = undefined)],
    ['delivery mode 3', (a) => void (a[11] = 3)],
    ['flat slots next to a properties object', (a) => void (a[12] = { priority: 1 })],
    ['a bad properties object', (a) => void ((a[9] = a[10] = a[11] = undefined), (a[12] = { priority: 300 }))],
    ['an array as properties', (a) => void ((a[9] = a[10] = a[11] = undefined), (a[12] = []))],
  ]
  it.each(bad)('refuses %s with a 502 that echoes id and channel', (_name, spoil) => {
    const raw = good()
    spoil(raw)
    const result = parseCommand(raw)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error).toMatchObject({ code: 'FRAME_ERROR', replyCode: 502 })
    expect(result).toMatchObject({ id: 7, channel: 2 })
  })

  it('refuses an unknown numeric tag with a 503, and any other array with a 502', () => {
    const unknown = parseCommand([99, 1, 4])
    expect(unknown).toMatchObject({ ok: false, id: 4, channel: 1, error: { code: 'UNKNOWN_OP', replyCode: 503 } })
    expect(parseCommand(['basic.publish'])).toMatchObject({ ok: false, error: { code: 'FRAME_ERROR' } })
    expect(parseCommand([])).toMatchObject({ ok: false, error: { code: 'FRAME_ERROR' } })
  })

  it('refuses a bad id or channel, echoing what it could read', () => {
    const noChannel = good()
    noChannel[1] = 0
    expect(parseCommand(noChannel)).toMatchObject({ ok: false, id: 7, error: { code: 'FRAME_ERROR' } })
    const badId = good()
    badId[2] = -1
    expect(parseCommand(badId)).toMatchObject({ ok: false, channel: 2, error: { code: 'FRAME_ERROR' } })
  })

  it('survives throwing getters in the array', () => {
    const raw = good()
    Object.defineProperty(raw, 4, {
      get() {
        throw new Error('boom')
      },
    })
    expect(parseCommand(raw)).toMatchObject({ ok: false, id: 7, channel: 2, error: { code: 'FRAME_ERROR' } })
  })

  it('never throws on arbitrary arrays, nor on mutated valid ones', () => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 16 }), (raw) => {
        parseCommand(raw)
        parseCommand([COMPACT_PUBLISH, ...raw])
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.nat(PUBLISH_LENGTH - 1), fc.anything(), (index, value) => {
        const raw = good()
        raw[index] = value
        const result = parseCommand(raw)
        if (result.ok) expect(result.frame.op).toBe('basic.publish')
      }),
      { numRuns: 500 },
    )
  })
})

describe('compact basic.deliver', () => {
  const deliver: BasicDeliver = {
    op: 'basic.deliver',
    channel: 3,
    consumerTag: 'ctag-1',
    deliveryTag: 9,
    redelivered: true,
    exchange: '',
    routingKey: 'q',
    properties: usual,
    body: '{"n":1}',
  }

  it('reads back as the frame it encodes, flat or with its properties object', () => {
    for (const frame of [deliver, { ...deliver, properties: { ...usual, headers: { 'x-death': [] } } }, { ...deliver, properties: {} }]) {
      const wire = structuredClone(serverToWire(frame))
      expect(Array.isArray(wire)).toBe(true)
      expect(parseServerFrame(wire)).toEqual(frame)
    }
  })

  it('leaves other server frames as they are', () => {
    const ok = { op: 'ok', id: 1, result: {} }
    expect(serverToWire(ok)).toBe(ok)
  })

  it('refuses malformed compact deliveries', () => {
    const good = () => [...(serverToWire(deliver) as unknown[])]
    const spoilt: Array<(a: unknown[]) => void> = [
      (a) => void (a[0] = 1),
      (a) => void a.pop(),
      (a) => void (a[1] = 0),
      (a) => void (a[2] = 5),
      (a) => void (a[3] = -1),
      (a) => void (a[4] = 1),
      (a) => void (a[6] = null),
      (a) => void ((a[8] = a[9] = a[10] = undefined), (a[11] = 'props')),
    ]
    for (const spoil of spoilt) {
      const raw = good()
      spoil(raw)
      expect(parseServerFrame(raw)).toBeNull()
    }
    expect(parseServerFrame([])).toBeNull()
  })
})
