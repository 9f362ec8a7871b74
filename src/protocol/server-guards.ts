/**
 * The client side's checks of what the broker sends: shallow (the client trusts the broker
 * more than the broker trusts clients) and kept apart from the command guards (guards.ts), so
 * a page's bundle carries only these.
 */
import { fromWireDeliver } from './compact.js'
import type { ErrorData } from './errors.js'
import type { ServerFrame } from './frames.js'

export const MAX_CHANNEL = 65535
/** The most request ids one `ok` frame answers (`id` through `through`). */
export const MAX_OK_RANGE = 65536

export const isIntIn = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max

export const isIndex = (v: unknown): v is number => isIntIn(v, 0, Number.MAX_SAFE_INTEGER)

export const isChannel = (v: unknown): v is number => isIntIn(v, 1, MAX_CHANNEL)

const isString = (v: unknown): v is string => typeof v === 'string'
const isNumber = (v: unknown): v is number => typeof v === 'number'
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null

export function isErrorData(v: unknown): v is ErrorData {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  const replyCode = e.replyCode
  const closes = e.closes
  return (
    isString(e.name) &&
    isString(e.code) &&
    isString(e.message) &&
    (replyCode === undefined || isNumber(replyCode)) &&
    (closes === undefined || closes === 'channel' || closes === 'connection')
  )
}

type Shallow = (r: Record<string, unknown>) => boolean

const isStorageState = (v: unknown): boolean => v === undefined || v === 'durable' || v === 'memory' || v === 'unavailable'

const SERVER_FRAMES: ReadonlyMap<string, Shallow> = new Map<ServerFrame['op'], Shallow>([
  ['ok', (r) => isIndex(r.id) && (r.through === undefined || (isIndex(r.through) && r.through > r.id && r.through - r.id < MAX_OK_RANGE))],
  ['error', (r) => isIndex(r.id) && isErrorData(r.error)],
  [
    'basic.deliver',
    (r) =>
      isChannel(r.channel) &&
      isString(r.consumerTag) &&
      isIndex(r.deliveryTag) &&
      typeof r.redelivered === 'boolean' &&
      isString(r.exchange) &&
      isString(r.routingKey) &&
      isObject(r.properties),
  ],
  [
    'basic.return',
    (r) =>
      isChannel(r.channel) &&
      isNumber(r.replyCode) &&
      isString(r.replyText) &&
      isString(r.exchange) &&
      isString(r.routingKey) &&
      isObject(r.properties),
  ],
  ['basic.cancel-notify', (r) => isChannel(r.channel) && isString(r.consumerTag)],
  ['channel.closed', (r) => isChannel(r.channel) && isErrorData(r.error)],
  ['connection.closed', (r) => isErrorData(r.error)],
  ['welcome', (r) => isString(r.clientId) && isIndex(r.protocol) && isNumber(r.epoch) && isString(r.brokerId) && isString(r.session) && isStorageState(r.storage)],
  ['pong', (r) => isNumber(r.nonce) && isNumber(r.epoch)],
  ['unknown-session', (r) => isString(r.clientId) && (r.session === undefined || isString(r.session)) && isNumber(r.epoch)],
])

/**
 * Shallow check of a frame from the broker (the client side trusts the broker more than the
 * broker trusts clients): a known op and the right types for the required fields. Returns the
 * frame itself, not a copy, to keep deliveries cheap.
 */
export function parseServerFrame(raw: unknown): ServerFrame | null {
  try {
    if (typeof raw !== 'object' || raw === null) return null
    // A compact delivery (compact.ts) is checked as the object it stands for.
    const r = Array.isArray(raw) ? fromWireDeliver(raw) : (raw as Record<string, unknown>)
    if (r === undefined) return null
    const op = r.op
    if (typeof op !== 'string') return null
    const check = SERVER_FRAMES.get(op)
    return check !== undefined && check(r) ? (r as unknown as ServerFrame) : null
  } catch {
    return null
  }
}

