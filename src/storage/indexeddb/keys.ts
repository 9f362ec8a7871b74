/**
 * Identity of stored things, shared by every Storage so that all implementations agree
 * on when two bindings are "the same" (AMQP: same source, destination, routing key and
 * arguments). No IndexedDB here: memory.ts imports it too.
 */
import type { FieldTable } from '../../protocol/frames.js'
import { tableKey } from '../../protocol/table-key.js'
import type { StorageOp, StoredBinding, StoredStreamSegment } from '../types.js'

/** The binding's arguments as a canonical string (persisted in binding keys). */
export function argsKey(args: unknown): string {
  return tableKey(args as FieldTable | undefined)
}

/** One string that identifies a binding (used as a Map key by the memory storage). */
export function bindingId(b: StoredBinding): string {
  return JSON.stringify([b.source, b.destinationKind, b.destination, b.routingKey, argsKey(b.arguments)])
}

const KINDS = new Set<string>([
  'exchange.put', 'exchange.delete', 'queue.put', 'queue.delete', 'queue.purge',
  'binding.put', 'binding.delete', 'message.put', 'message.delete', 'message.update',
  'message.deleteRange', 'stream.append', 'stream.truncate',
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
    : op.kind === 'stream.truncate' ? [op.stream, op.before]
    : op.kind === 'stream.append' ? streamKey(op)
    : undefined
  if (key && (typeof key[0] !== 'string' || key.slice(1).some((n) => typeof n !== 'number' || Number.isNaN(n)))) {
    return `invalid message key ${JSON.stringify(key)}`
  }
  return undefined
}

/** An append's key: every entry must belong to the segment's stream and fall inside the segment. */
function streamKey(op: Extract<StorageOp, { kind: 'stream.append' }>): unknown[] {
  const segment = op.segment as StoredStreamSegment | undefined
  if (!segment || !Array.isArray(op.entries)) return [undefined]
  for (const e of op.entries) {
    if (e?.stream !== segment.stream || !(e.offset >= segment.firstOffset && e.offset <= segment.lastOffset)) {
      return [segment.stream, e?.offset ?? NaN, NaN]
    }
  }
  return [segment.stream, segment.firstOffset, segment.lastOffset]
}
