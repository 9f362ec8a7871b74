/**
 * The broker's writes to storage: how a change is written (waited for, or in the background),
 * with which durability, and the records queues, messages and bindings are stored as.
 */
import type { Durability, StorageOp, StoredMessage } from '../storage/types.js'
import { delayedStoreName, type HeldMessage } from './delayed.js'
import type { Binding } from './exchange.js'
import type { QueuedMessage } from './message.js'
import type { VhostState } from './vhost.js'

export function write(vhost: VhostState, ops: StorageOp[], durability: Durability = vhost.durability): Promise<void> {
  if (!vhost.storage || ops.length === 0) return Promise.resolve()
  return vhost.storage.apply(ops, durability).catch((error: unknown) => {
    vhost.stats.storageFailures++
    throw error
  })
}

export function writeInBackground(vhost: VhostState, ops: StorageOp[]): void {
  if (!vhost.storage || ops.length === 0) return
  write(vhost, ops).catch(() => undefined)
}

export function storedBinding(binding: Binding) {
  return {
    source: binding.source,
    destination: binding.destination,
    destinationKind: binding.destinationKind,
    routingKey: binding.routingKey,
    arguments: binding.arguments,
  }
}

/** A held delayed message is stored as a message of a storage-only "queue" named after its exchange. */
export function storedHeld(exchange: string, message: HeldMessage): StorageOp {
  return {
    kind: 'message.put',
    message: {
      queue: delayedStoreName(exchange),
      seq: message.seq,
      exchange,
      routingKey: message.routingKey,
      properties: message.properties,
      body: message.body,
      size: message.size,
      redelivered: false,
      deliveryCount: 0,
      dueAt: message.dueAt,
    },
  }
}

/** A queued message as storage keeps it. */
export function storedPut(queue: string, message: QueuedMessage): StorageOp {
  const stored: StoredMessage = {
    queue,
    seq: message.seq,
    exchange: message.exchange,
    routingKey: message.routingKey,
    properties: message.properties,
    body: message.body,
    size: message.size,
    ...(message.expiresAt !== undefined ? { expiresAt: message.expiresAt } : {}),
    redelivered: message.redelivered,
    deliveryCount: message.deliveryCount,
  }
  if (message.publishId !== undefined) stored.publishId = message.publishId
  return { kind: 'message.put', message: stored }
}
