/**
 * Runtime guards for frames that cross a port. Never trust a port: a buggy or hostile tab
 * must not crash the broker, so every inbound frame is checked field by field and copied
 * into a fresh object holding only the known fields. Hand-written (this runs per frame on
 * the hot path) and total: no input makes these functions throw, whatever getters, proxies,
 * cycles or prototypes it has.
 */
import { COMPACT_PUBLISH, FLAG_MANDATORY, FLAG_RELAXED, FLAG_STRICT, PUBLISH_LENGTH } from './compact.js'
import { wireError, type ErrorData } from './errors.js'
import { isChannel, isIndex, isIntIn, MAX_CHANNEL } from './server-guards.js'
import type {
  BasicPublish,
  ClientCommand,
  ClientKind,
  FieldTable,
  Goodbye,
  Hello,
  MessageProperties,
  Ping,
} from './frames.js'

export type ParseResult =
  | { ok: true; frame: ClientCommand }
  | { ok: false; error: ErrorData; id?: number; channel?: number }

/** AMQP shortstr: names, keys and tags are at most 255 bytes of UTF-8. */
export const MAX_SHORTSTR_BYTES = 255
export { MAX_CHANNEL } from './server-guards.js'
export const MAX_CLIENT_ID_LENGTH = 128
export const MAX_BATCH_FRAMES = 10_000
/** Session ids are made by the broker (see session.ts); anything longer is not one. */
export const MAX_SESSION_ID_LENGTH = 64

// ---------------------------------------------------------------- primitive checks

/** UTF-8 byte length at most `max`, without encoding (a UTF-16 unit is at most 3 bytes). */
export function fitsUtf8(s: string, max: number = MAX_SHORTSTR_BYTES): boolean {
  const n = s.length
  if (n * 3 <= max) return true
  if (n > max) return false
  let bytes = 0
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
    if (bytes > max) return false
  }
  return true
}

const isShortstr = (v: unknown): v is string => typeof v === 'string' && fitsUtf8(v)


/** A table from a structured clone: an object whose prototype is Object.prototype (of any realm) or null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null
}

/** Own enumerable string keys only, read once each (getters run here, not later in the engine). */
function copyTable(table: Record<string, unknown>): FieldTable {
  const out: FieldTable = {}
  for (const key of Object.keys(table)) {
    // A plain assignment to '__proto__' would set the prototype instead of a key.
    const value = table[key]
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
    else out[key] = value
  }
  return out
}

/** A short, safe description of a bad value for error messages. */
function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (typeof v === 'object') return 'an object'
  return `a ${typeof v}`
}

const clip = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s)

// ---------------------------------------------------------------- commands

type Kind = 'name' | 'bool' | 'table' | 'deliveryTag' | 'prefetch' | 'properties' | 'body' | 'durability'

type Field = readonly [name: string, kind: Kind, required: boolean]

const EXPECT: Record<Kind, string> = {
  name: `a string of at most ${MAX_SHORTSTR_BYTES} UTF-8 bytes`,
  bool: 'a boolean',
  table: 'a plain object',
  deliveryTag: 'a positive integer',
  prefetch: `an integer from 0 to ${MAX_CHANNEL}`,
  properties: 'a plain object',
  body: 'a structured-clone-able value',
  durability: "'relaxed' or 'strict'",
}

const req = (name: string, kind: Kind): Field => [name, kind, true]
const opt = (name: string, kind: Kind): Field => [name, kind, false]

const COMMANDS: ReadonlyMap<string, readonly Field[]> = /* @__PURE__ */ new Map<ClientCommand['op'], readonly Field[]>([
  ['channel.open', []],
  ['channel.close', []],
  ['basic.qos', [req('prefetchCount', 'prefetch'), opt('global', 'bool')]],
  [
    'exchange.declare',
    [
      req('exchange', 'name'),
      // Optional on the wire: a passive declare checks existence only, whatever the type (RabbitMQ).
      opt('type', 'name'),
      opt('durable', 'bool'),
      opt('autoDelete', 'bool'),
      opt('internal', 'bool'),
      opt('passive', 'bool'),
      opt('arguments', 'table'),
    ],
  ],
  ['exchange.delete', [req('exchange', 'name'), opt('ifUnused', 'bool')]],
  [
    'exchange.bind',
    [req('destination', 'name'), req('source', 'name'), opt('routingKey', 'name'), opt('arguments', 'table')],
  ],
  [
    'exchange.unbind',
    [req('destination', 'name'), req('source', 'name'), opt('routingKey', 'name'), opt('arguments', 'table')],
  ],
  [
    'queue.declare',
    [
      req('queue', 'name'),
      opt('durable', 'bool'),
      opt('exclusive', 'bool'),
      opt('autoDelete', 'bool'),
      opt('passive', 'bool'),
      opt('arguments', 'table'),
    ],
  ],
  ['queue.bind', [req('queue', 'name'), req('exchange', 'name'), opt('routingKey', 'name'), opt('arguments', 'table')]],
  ['queue.unbind', [req('queue', 'name'), req('exchange', 'name'), opt('routingKey', 'name'), opt('arguments', 'table')]],
  ['queue.purge', [req('queue', 'name')]],
  ['queue.delete', [req('queue', 'name'), opt('ifUnused', 'bool'), opt('ifEmpty', 'bool')]],
  [
    'basic.publish',
    [
      req('exchange', 'name'),
      req('routingKey', 'name'),
      opt('mandatory', 'bool'),
      req('properties', 'properties'),
      opt('body', 'body'),
      opt('durability', 'durability'),
      opt('publishId', 'name'),
      opt('retryOf', 'name'),
    ],
  ],
  [
    'basic.consume',
    [
      req('queue', 'name'),
      opt('consumerTag', 'name'),
      opt('noAck', 'bool'),
      opt('exclusive', 'bool'),
      opt('arguments', 'table'),
    ],
  ],
  ['basic.cancel', [req('consumerTag', 'name')]],
  ['basic.get', [req('queue', 'name'), opt('noAck', 'bool')]],
  ['basic.ack', [req('deliveryTag', 'deliveryTag'), opt('multiple', 'bool')]],
  ['basic.nack', [req('deliveryTag', 'deliveryTag'), opt('multiple', 'bool'), opt('requeue', 'bool')]],
  ['basic.reject', [req('deliveryTag', 'deliveryTag'), opt('requeue', 'bool')]],
  ['basic.recover', [opt('requeue', 'bool')]],
])

/** The ops `parseCommand` knows, for tests and tools. */
export const COMMAND_OPS: readonly ClientCommand['op'][] = /* @__PURE__ */ Array.from(COMMANDS.keys()) as ClientCommand['op'][]

/** Marks a failed field check; the message says what was expected. */
class Invalid {
  constructor(readonly message: string) {}
}

const PROPERTY_STRINGS = [
  'contentType',
  'contentEncoding',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'type',
  'appId',
  'userId',
] as const

function checkProperties(v: unknown): MessageProperties | Invalid {
  if (!isPlainObject(v)) return new Invalid(`'properties' must be a plain object (got ${describe(v)})`)
  const out: Record<string, unknown> = {}
  for (const name of PROPERTY_STRINGS) {
    const value = v[name]
    if (value === undefined) continue
    if (!isShortstr(value)) return new Invalid(`'properties.${name}' must be ${EXPECT.name} (got ${describe(value)})`)
    out[name] = value
  }
  const headers = v.headers
  if (headers !== undefined) {
    if (!isPlainObject(headers)) return new Invalid(`'properties.headers' must be a plain object (got ${describe(headers)})`)
    out.headers = copyTable(headers)
  }
  const deliveryMode = v.deliveryMode
  if (deliveryMode !== undefined) {
    if (deliveryMode !== 1 && deliveryMode !== 2)
      return new Invalid(`'properties.deliveryMode' must be 1 or 2 (got ${describe(deliveryMode)})`)
    out.deliveryMode = deliveryMode
  }
  const priority = v.priority
  if (priority !== undefined) {
    if (!isIntIn(priority, 0, 255))
      return new Invalid(`'properties.priority' must be an integer from 0 to 255 (got ${describe(priority)})`)
    out.priority = priority
  }
  const timestamp = v.timestamp
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp))
      return new Invalid(`'properties.timestamp' must be a finite number (got ${describe(timestamp)})`)
    out.timestamp = timestamp
  }
  return out as MessageProperties
}

function checkField(name: string, kind: Kind, v: unknown): unknown {
  switch (kind) {
    case 'name':
      if (isShortstr(v)) return v
      break
    case 'bool':
      if (typeof v === 'boolean') return v
      break
    case 'table':
      if (isPlainObject(v)) return copyTable(v)
      break
    case 'deliveryTag':
      // 0 is allowed here only with multiple=true (AMQP: "everything outstanding"); checked after the loop.
      if (isIndex(v)) return v
      break
    case 'prefetch':
      if (isIntIn(v, 0, MAX_CHANNEL)) return v
      break
    case 'properties':
      return checkProperties(v)
    case 'body':
      if (typeof v !== 'function' && typeof v !== 'symbol') return v
      break
    case 'durability':
      if (v === 'relaxed' || v === 'strict') return v
      break
  }
  return new Invalid(`'${name}' must be ${EXPECT[kind]} (got ${describe(v)})`)
}

const syntaxError = (message: string): ErrorData => wireError('FRAME_ERROR', message)

function failure(error: ErrorData, id: number | undefined, channel: number | undefined): ParseResult {
  const result: { ok: false; error: ErrorData; id?: number; channel?: number } = { ok: false, error }
  if (id !== undefined) result.id = id
  if (channel !== undefined) result.channel = channel
  return result
}

/**
 * Checks one untrusted client command. On success the frame is a fresh object with only
 * the known fields; on failure the error is a 502 SYNTAX_ERROR (503 COMMAND_INVALID for an
 * unknown op) with `id` and `channel` echoed back when they could be read, so the engine
 * can reply and decide what to close.
 */
export function parseCommand(raw: unknown): ParseResult {
  let id: number | undefined
  let channel: number | undefined
  let op = 'frame'
  try {
    if (Array.isArray(raw)) return parseCompact(raw)
    if (typeof raw !== 'object' || raw === null)
      return failure(syntaxError(`a command must be an object (got ${describe(raw)})`), undefined, undefined)
    const r = raw as Record<string, unknown>
    const rawOp = r.op
    const rawId = r.id
    const rawChannel = r.channel
    const idOk = rawId === undefined || isIndex(rawId)
    if (idOk) id = rawId as number | undefined
    if (isChannel(rawChannel)) channel = rawChannel
    if (typeof rawOp !== 'string')
      return failure(syntaxError(`a command must have a string 'op' (got ${describe(rawOp)})`), id, channel)
    const fields = COMMANDS.get(rawOp)
    if (fields === undefined)
      return failure(wireError('UNKNOWN_OP', `unknown command '${clip(rawOp)}'`), id, channel)
    op = rawOp
    if (!idOk) return failure(syntaxError(`${op}: 'id' must be a non-negative integer (got ${describe(rawId)})`), id, channel)
    if (channel === undefined)
      return failure(
        syntaxError(`${op}: 'channel' must be an integer from 1 to ${MAX_CHANNEL} (got ${describe(rawChannel)})`),
        id,
        channel,
      )
    const frame: Record<string, unknown> = { op, channel }
    if (id !== undefined) frame.id = id
    for (const [name, kind, required] of fields) {
      const value = r[name]
      if (value === undefined) {
        if (required) return failure(syntaxError(`${op}: '${name}' is required (${EXPECT[kind]})`), id, channel)
        continue
      }
      const checked = checkField(name, kind, value)
      if (checked instanceof Invalid) return failure(syntaxError(`${op}: ${checked.message}`), id, channel)
      frame[name] = checked
    }
    if (frame.deliveryTag === 0 && frame.multiple !== true)
      return failure(syntaxError(`${op}: 'deliveryTag' must be a positive integer (0 only with multiple=true)`), id, channel)
    return { ok: true, frame: frame as unknown as ClientCommand }
  } catch {
    // A getter or proxy threw while we read the frame.
    return failure(syntaxError(`${op}: the command could not be read`), id, channel)
  }
}

/**
 * A compact publish (compact.ts), checked field by field like the object form, into the same
 * fresh BasicPublish. Any other array is refused: 503 for an unknown tag, else 502.
 */
function parseCompact(a: readonly unknown[]): ParseResult {
  const op = 'basic.publish'
  let id: number | undefined
  let channel: number | undefined
  try {
    const rawId = a[2]
    const rawChannel = a[1]
    const idOk = rawId === undefined || isIndex(rawId)
    if (idOk) id = rawId as number | undefined
    if (isChannel(rawChannel)) channel = rawChannel
    const tag = a[0]
    if (tag !== COMPACT_PUBLISH)
      return typeof tag === 'number'
        ? failure(wireError('UNKNOWN_OP', `unknown compact command ${describe(tag)}`), id, channel)
        : failure(syntaxError(`a command must be an object, or an array starting with a number (got ${describe(a)})`), id, channel)
    const bad = (message: string) => failure(syntaxError(`${op}: ${message}`), id, channel)
    if (a.length !== PUBLISH_LENGTH) return bad(`a compact publish has ${PUBLISH_LENGTH} elements (got ${a.length})`)
    if (!idOk) return bad(`'id' must be a non-negative integer (got ${describe(rawId)})`)
    if (channel === undefined) return bad(`'channel' must be an integer from 1 to ${MAX_CHANNEL} (got ${describe(rawChannel)})`)
    const exchange = a[3]
    const routingKey = a[4]
    const flags = a[5]
    const body = a[6]
    const publishId = a[7]
    const retryOf = a[8]
    const props = a[12]
    if (!isShortstr(exchange)) return bad(`'exchange' must be ${EXPECT.name} (got ${describe(exchange)})`)
    if (!isShortstr(routingKey)) return bad(`'routingKey' must be ${EXPECT.name} (got ${describe(routingKey)})`)
    if (!isIntIn(flags, 0, FLAG_MANDATORY | FLAG_RELAXED | FLAG_STRICT) || (flags & FLAG_RELAXED && flags & FLAG_STRICT))
      return bad(`'flags' must be an integer from 0 to 5 (got ${describe(flags)})`)
    if (typeof body === 'function' || typeof body === 'symbol') return bad(`'body' must be ${EXPECT.body} (got ${describe(body)})`)
    if (publishId !== undefined && !isShortstr(publishId)) return bad(`'publishId' must be ${EXPECT.name} (got ${describe(publishId)})`)
    if (retryOf !== undefined && !isShortstr(retryOf)) return bad(`'retryOf' must be ${EXPECT.name} (got ${describe(retryOf)})`)
    let properties: MessageProperties
    if (props === undefined) {
      const contentType = a[9]
      const contentEncoding = a[10]
      const deliveryMode = a[11]
      if (!isShortstr(contentType)) return bad(`'contentType' must be ${EXPECT.name} (got ${describe(contentType)})`)
      if (!isShortstr(contentEncoding)) return bad(`'contentEncoding' must be ${EXPECT.name} (got ${describe(contentEncoding)})`)
      if (deliveryMode !== 1 && deliveryMode !== 2) return bad(`'deliveryMode' must be 1 or 2 (got ${describe(deliveryMode)})`)
      properties = { contentType, contentEncoding, deliveryMode }
    } else {
      if (a[9] !== undefined || a[10] !== undefined || a[11] !== undefined)
        return bad('with the properties object, the flat content type, encoding and delivery mode must be empty')
      const checked = checkProperties(props)
      if (checked instanceof Invalid) return bad(checked.message)
      properties = checked
    }
    const frame = { op, channel, exchange, routingKey, properties } as { -readonly [K in keyof BasicPublish]: BasicPublish[K] }
    if (id !== undefined) frame.id = id
    if (body !== undefined) frame.body = body
    if (flags & FLAG_MANDATORY) frame.mandatory = true
    if (flags & FLAG_STRICT) frame.durability = 'strict'
    else if (flags & FLAG_RELAXED) frame.durability = 'relaxed'
    if (publishId !== undefined) frame.publishId = publishId
    if (retryOf !== undefined) frame.retryOf = retryOf
    return { ok: true, frame }
  } catch {
    return failure(syntaxError(`${op}: the command could not be read`), id, channel)
  }
}

// ---------------------------------------------------------------- link handshake

const CLIENT_KINDS: ReadonlySet<unknown> = new Set<ClientKind>([
  'window',
  'iframe',
  'dedicated-worker',
  'shared-worker',
  'service-worker',
  'node',
  'unknown',
])

const isClientId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_CLIENT_ID_LENGTH

const isSessionId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_SESSION_ID_LENGTH

/** The object when it is one with this `op`, else undefined. */
function read(raw: unknown, op: string): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Record<string, unknown>
  return r.op === op ? r : undefined
}

/**
 * A client's hello. An unrecognised `kind` becomes 'unknown' (newer clients may know more
 * kinds), a bad `name` is dropped (it is only a label) and so is a bad `session` (the hello
 * then proves nothing); a bad id or protocol is refused.
 */
export function parseHello(raw: unknown): Hello | null {
  try {
    const r = read(raw, 'hello')
    if (r === undefined) return null
    const clientId = r.clientId
    const protocol = r.protocol
    if (!isClientId(clientId) || !isIndex(protocol)) return null
    const rawKind = r.kind
    const kind = CLIENT_KINDS.has(rawKind) ? (rawKind as ClientKind) : 'unknown'
    const name = r.name
    const session = r.session
    const hello: { -readonly [K in keyof Hello]: Hello[K] } = { op: 'hello', clientId, protocol, kind }
    if (isShortstr(name)) hello.name = name
    if (isSessionId(session)) hello.session = session
    return hello
  } catch {
    return null
  }
}

export function parseGoodbye(raw: unknown): Goodbye | null {
  try {
    const r = read(raw, 'goodbye')
    if (r === undefined) return null
    const clientId = r.clientId
    const session = r.session
    return isClientId(clientId) && isSessionId(session) ? { op: 'goodbye', clientId, session } : null
  } catch {
    return null
  }
}

export function parsePing(raw: unknown): Ping | null {
  try {
    const r = read(raw, 'ping')
    if (r === undefined) return null
    const clientId = r.clientId
    const nonce = r.nonce
    return isClientId(clientId) && typeof nonce === 'number' && Number.isFinite(nonce) ? { op: 'ping', clientId, nonce } : null
  } catch {
    return null
  }
}

/**
 * A batch's envelope; the frames are copied into a fresh array but not checked (each goes
 * through a parser). A `session` that is not a session id is refused with the batch: a
 * client's batch names its session or none.
 */
export function parseClientBatch(raw: unknown): { from: string; session: string | undefined; frames: unknown[] } | null {
  try {
    if (typeof raw !== 'object' || raw === null) return null
    const r = raw as Record<string, unknown>
    const from = r.from
    const session = r.session
    const frames = r.frames
    if (!isClientId(from) || !Array.isArray(frames)) return null
    if (session !== undefined && !isSessionId(session)) return null
    const n = frames.length
    if (!isIntIn(n, 0, MAX_BATCH_FRAMES)) return null
    const copy = new Array<unknown>(n)
    for (let i = 0; i < n; i++) copy[i] = frames[i]
    return { from, session, frames: copy }
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- server frames (client side)

// isErrorData and parseServerFrame (the client side's checks) live in server-guards.ts, so the
// client's bundle does not carry the command guards.
export { isErrorData, parseServerFrame } from './server-guards.js'
