import type { FieldTable } from '../protocol/frames.js'
import { preconditionFailed } from './errors.js'
import { tableKey } from '../protocol/table-key.js'

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx'

/** The x-arguments the engine acts on, validated as RabbitMQ validates them. */
export interface QueueArguments {
  messageTtl?: number
  expires?: number
  maxLength?: number
  maxLengthBytes?: number
  overflow: Overflow
  deadLetterExchange?: string
  deadLetterRoutingKey?: string
  maxPriority?: number
  singleActiveConsumer: boolean
  deliveryLimit?: number
}

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value)

function nonNegative(args: FieldTable, key: string): number | undefined {
  const value = args[key]
  if (value === undefined) return undefined
  if (!isInt(value) || value < 0) throw preconditionFailed(`invalid arg '${key}': ${String(value)} is not a non-negative integer`)
  return value
}

export function parseQueueArguments(args: FieldTable): QueueArguments {
  const parsed: QueueArguments = { overflow: 'drop-head', singleActiveConsumer: false }
  const ttl = nonNegative(args, 'x-message-ttl')
  if (ttl !== undefined) parsed.messageTtl = ttl
  const expires = nonNegative(args, 'x-expires')
  if (expires !== undefined) {
    if (expires === 0) throw preconditionFailed(`invalid arg 'x-expires': must be positive`)
    parsed.expires = expires
  }
  const maxLength = nonNegative(args, 'x-max-length')
  if (maxLength !== undefined) parsed.maxLength = maxLength
  const maxLengthBytes = nonNegative(args, 'x-max-length-bytes')
  if (maxLengthBytes !== undefined) parsed.maxLengthBytes = maxLengthBytes
  const overflow = args['x-overflow']
  if (overflow !== undefined) {
    if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx')
      throw preconditionFailed(`invalid arg 'x-overflow': ${String(overflow)}`)
    parsed.overflow = overflow
  }
  const dlx = args['x-dead-letter-exchange']
  if (dlx !== undefined) {
    if (typeof dlx !== 'string') throw preconditionFailed(`invalid arg 'x-dead-letter-exchange': not a string`)
    parsed.deadLetterExchange = dlx
  }
  const dlrk = args['x-dead-letter-routing-key']
  if (dlrk !== undefined) {
    if (typeof dlrk !== 'string') throw preconditionFailed(`invalid arg 'x-dead-letter-routing-key': not a string`)
    if (dlx === undefined) throw preconditionFailed(`invalid arg 'x-dead-letter-routing-key': requires x-dead-letter-exchange`)
    parsed.deadLetterRoutingKey = dlrk
  }
  const maxPriority = args['x-max-priority']
  if (maxPriority !== undefined) {
    if (!isInt(maxPriority) || maxPriority < 1 || maxPriority > 255)
      throw preconditionFailed(`invalid arg 'x-max-priority': ${String(maxPriority)} is not an integer in 1..255`)
    parsed.maxPriority = maxPriority
  }
  const sac = args['x-single-active-consumer']
  if (sac !== undefined) {
    if (typeof sac !== 'boolean') throw preconditionFailed(`invalid arg 'x-single-active-consumer': not a boolean`)
    parsed.singleActiveConsumer = sac
  }
  const limit = args['x-delivery-limit']
  if (limit !== undefined) {
    if (!isInt(limit) || limit < -1) throw preconditionFailed(`invalid arg 'x-delivery-limit': ${String(limit)}`)
    if (limit >= 0) parsed.deliveryLimit = limit
  }
  return parsed
}

/**
 * The arguments that take part in the redeclare equivalence check (RabbitMQ ignores the others).
 * x-queue-type is compared as a type, absent meaning classic (topology.ts).
 */
const EQUIVALENCE_KEYS = [
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-overflow',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-max-priority',
  'x-single-active-consumer',
  'x-delivery-limit',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
]

export function inequivalentArgument(a: FieldTable, b: FieldTable): string | undefined {
  return EQUIVALENCE_KEYS.find((key) => tableKey({ v: a[key] }) !== tableKey({ v: b[key] }))
}

/** Parses a per-message `expiration` (a string of ms); invalid → 406, like RabbitMQ. */
export function parseExpiration(expiration: string | undefined): number | undefined {
  if (expiration === undefined) return undefined
  if (!/^\d+$/.test(expiration)) throw preconditionFailed(`invalid expiration '${expiration}'`)
  const ms = Number(expiration)
  if (!Number.isSafeInteger(ms)) throw preconditionFailed(`invalid expiration '${expiration}'`)
  return ms
}
