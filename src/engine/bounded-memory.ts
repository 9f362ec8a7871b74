/**
 * Bounded memory: the vhost's limits on ready messages held in memory (a client's publish past
 * them is nacked). Each queue type says what it keeps in memory (QueueType.memory); paged
 * queues keep the tail of a long durable queue in storage only (paging.ts).
 */
import { DELAYED_EXCHANGE_TYPE } from './delayed.js'
import { NackError } from './errors.js'
import type { VhostState } from './vhost.js'

/** How stale the memory figure checked against the limits may get (broker clock, ms); see overMemoryLimit. */
const MEMORY_RECOUNT_MS = 16

/**
 * Whether one more in-memory ready message of `size` bytes would pass the vhost's limits.
 * Counting walks every queue, so it is done at most once per MEMORY_RECOUNT_MS of broker
 * time; messages accepted in between are added to the count, and those that left are not
 * taken off until the next one (so the figure can only be too high, never too low).
 */
export function overMemoryLimit(vhost: VhostState, size: number): boolean {
  if (vhost.maxReadyMessages === Infinity && vhost.maxReadyBytes === Infinity) return false
  const memory = vhost.memory
  const now = vhost.clock.now()
  if (now - memory.countedAt >= MEMORY_RECOUNT_MS) {
    let messages = 0
    let bytes = 0
    for (const queue of vhost.queues.values()) {
      const held = queue.type.memory(queue)
      messages += held.messages
      bytes += held.bytes
    }
    for (const exchange of vhost.exchanges.values()) if (exchange.type === DELAYED_EXCHANGE_TYPE) messages += vhost.delayed.pending(exchange.name)
    memory.messages = messages
    memory.bytes = bytes
    memory.countedAt = now
  }
  if (memory.messages + 1 > vhost.maxReadyMessages || memory.bytes + size > vhost.maxReadyBytes) return true
  memory.messages++
  memory.bytes += size
  return false
}

export function memoryLimitNack(vhost: VhostState): NackError {
  return new NackError(
    `the broker of vhost '${vhost.name}' holds as many ready messages in memory as it may (maxReadyMessages ${vhost.maxReadyMessages}, maxReadyBytes ${vhost.maxReadyBytes}): consume some, or use durable queues and persistent messages, which are paged out to storage`,
    'RESOURCE_LIMIT',
  )
}
