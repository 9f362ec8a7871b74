/** Where dead messages go: republished to their queue's dead-letter exchange (DLX). */
import { deadLetterProperties, isDeadLetterCycle, originalRoutingKeys, type DeathReason } from './dead-letter.js'
import type { QueuedMessage } from './message.js'
import { parseExpirationSafe, route } from './publishing.js'
import type { QueueState } from './queue.js'
import type { VhostState } from './vhost.js'

/** Republishes a dead message to the queue's DLX; a missing DLX drops it silently. */
export function deadLetter(vhost: VhostState, queue: QueueState, message: QueuedMessage, reason: DeathReason): void {
  const dlxName = queue.options.deadLetterExchange
  if (dlxName === undefined) return
  const dlx = vhost.exchanges.get(dlxName)
  if (!dlx) return
  queue.counters.deadLettered++
  const dlrk = queue.options.deadLetterRoutingKey
  const properties = deadLetterProperties(message.properties, queue.name, reason, message.exchange, message.routingKey, vhost.clock.now(), dlrk !== undefined)
  const keys = dlrk !== undefined ? [dlrk] : originalRoutingKeys(message.routingKey, message.properties.headers)
  const targets = new Set<QueueState>()
  for (const key of keys) for (const target of route(vhost, dlx, key, properties.headers)) targets.add(target)
  const incoming = {
    exchange: dlxName,
    routingKey: dlrk ?? message.routingKey,
    properties,
    body: message.body,
    size: message.size,
    ttl: parseExpirationSafe(properties.expiration),
    persistent: properties.deliveryMode === 2,
  }
  for (const target of targets) {
    if (isDeadLetterCycle(properties.headers, target.name)) continue
    const write = target.type.enqueue(target, incoming, {})
    if (write instanceof Promise) write.catch(() => vhost.stats.storageFailures++)
  }
}
