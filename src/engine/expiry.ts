/**
 * Time running out, and where dead messages go: queue expiry (x-expires), message TTL at the
 * head of a queue, and dead-lettering to a queue's DLX.
 */
import { deadLetterProperties, isDeadLetterCycle, originalRoutingKeys, type DeathReason } from './dead-letter.js'
import { refill } from './bounded-memory.js'
import type { QueuedMessage } from './message.js'
import { forget } from './persistence.js'
import { enqueue, parseExpirationSafe, route } from './publishing.js'
import type { QueueState } from './queue.js'
import { deleteQueue } from './topology.js'
import type { VhostState } from './vhost.js'

/**
 * x-expires: a queue unused for that long is deleted; any use restarts the clock. A use only
 * records its time: the one pending timer re-arms for the rest when it fires early, so a
 * basic.get loop does not cancel and set a timer per call.
 */
export function touch(vhost: VhostState, queue: QueueState): void {
  const expires = queue.options.expires
  if (expires === undefined || queue.deleted) return
  queue.lastUsedAt = vhost.clock.now()
  if (!queue.cancelExpiryTimer) armQueueExpiry(vhost, queue, expires, expires)
}

function armQueueExpiry(vhost: VhostState, queue: QueueState, expires: number, delay: number): void {
  queue.cancelExpiryTimer = vhost.clock.schedule(delay, () => {
    queue.cancelExpiryTimer = undefined
    // In use: the last consumer to leave touches the queue again, which re-arms.
    if (queue.deleted || vhost.stopped || queue.consumers.length > 0) return
    const left = queue.lastUsedAt + expires - vhost.clock.now()
    if (left > 0) armQueueExpiry(vhost, queue, expires, left)
    else deleteQueue(vhost, queue)
  })
}

/**
 * Keeps the queue's one timer on its head's deadline. A pending timer due no later than
 * that is kept: it re-arms when it fires, so consuming from a TTL queue does not cancel and
 * set a timer per message.
 */
export function scheduleHeadExpiry(vhost: VhostState, queue: QueueState): void {
  const at = queue.deleted || vhost.stopped ? undefined : queue.ready.peek()?.expiresAt
  if (at === undefined) {
    queue.cancelHeadTimer?.()
    return
  }
  if (queue.cancelHeadTimer && queue.headTimerAt !== undefined && queue.headTimerAt <= at) return
  queue.cancelHeadTimer?.()
  const cancel = vhost.clock.schedule(Math.max(0, at - vhost.clock.now()), () => {
    queue.cancelHeadTimer = undefined
    queue.headTimerAt = undefined
    expireHead(vhost, queue)
  })
  queue.headTimerAt = at
  // Whoever cancels (purge, delete, stop) also clears the state this check relies on.
  queue.cancelHeadTimer = () => {
    cancel()
    queue.cancelHeadTimer = undefined
    queue.headTimerAt = undefined
  }
}

/** Removes expired messages at the head (only the head: RabbitMQ's rule). */
function expireHead(vhost: VhostState, queue: QueueState): void {
  const now = vhost.clock.now()
  for (;;) {
    const head = queue.ready.peek()
    if (!head || head.expiresAt === undefined || head.expiresAt > now) break
    queue.shift()
    forget(vhost, queue, [head])
    expire(vhost, queue, head)
  }
  scheduleHeadExpiry(vhost, queue)
  refill(vhost, queue)
}

export function expire(vhost: VhostState, queue: QueueState, message: QueuedMessage): void {
  queue.counters.expired++
  deadLetter(vhost, queue, message, 'expired')
}

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
  const persistent = properties.deliveryMode === 2
  for (const target of targets) {
    if (isDeadLetterCycle(properties.headers, target.name)) continue
    const routingKey = dlrk ?? message.routingKey
    const expiration = parseExpirationSafe(properties.expiration)
    const write = enqueue(vhost, target, dlxName, routingKey, properties, message.body, message.size, expiration, persistent)
    if (write instanceof Promise) write.catch(() => vhost.stats.storageFailures++)
  }
}
