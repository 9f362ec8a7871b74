/**
 * Identity of stored things, shared by every Storage so that all implementations agree
 * on when two bindings are "the same" (AMQP: same source, destination, routing key and
 * arguments). No IndexedDB here: memory.ts imports it too.
 */
import type { StorageOp, StoredBinding } from '../types.js'

/**
 * A canonical string for a FieldTable: keys sorted, so `{a, b}` and `{b, a}` match.
 * It is the binding's identity, not a hash, so two different tables never collide.
 */
export function argsKey(args: unknown): string {
  return canonical(args ?? {})
}

function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // JSON has no NaN/Infinity; keep them distinct from null.
      return Number.isFinite(value) ? String(value) : `{"$num":"${String(value)}"}`
    case 'boolean':
      return String(value)
    case 'bigint':
      return `{"$bigint":"${value.toString()}"}`
    case 'object':
      break
    default:
      return JSON.stringify(String(value))
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value instanceof Date) return `{"$date":${value.getTime()}}`
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    return `{"$bytes":"${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}"}`
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`
}

/** One string that identifies a binding (used as a Map key by the memory storage). */
export function bindingId(b: StoredBinding): string {
  return JSON.stringify([b.source, b.destinationKind, b.destination, b.routingKey, argsKey(b.arguments)])
}

const KINDS = new Set<string>([
  'exchange.put', 'exchange.delete', 'queue.put', 'queue.delete', 'queue.purge',
  'binding.put', 'binding.delete', 'message.put', 'message.delete', 'message.update',
  'message.deleteRange',
])

/**
 * What is wrong with an op, checked before it joins a batch: an unknown kind, or a message
 * key IndexedDB would refuse (queue not a string, seq not a number or NaN). Both storages
 * refuse the same things, and one caller's bad op never fails a whole batch.
 */
export function invalidOp(op: StorageOp): string | undefined {
  const kind = (op as { kind?: unknown } | null)?.kind
  if (typeof kind !== 'string' || !KINDS.has(kind)) return `unknown storage op ${JSON.stringify(kind)}`
  const key =
    op.kind === 'message.put' ? [op.message?.queue, op.message?.seq]
    : op.kind === 'message.delete' || op.kind === 'message.update' ? [op.queue, op.seq]
    : op.kind === 'queue.purge' ? [op.name, op.upToSeq]
    : op.kind === 'message.deleteRange' ? [op.queue, op.fromSeq, op.toSeq]
    : undefined
  if (key && (typeof key[0] !== 'string' || key.slice(1).some((n) => typeof n !== 'number' || Number.isNaN(n)))) {
    return `invalid message key ${JSON.stringify(key)}`
  }
  return undefined
}
