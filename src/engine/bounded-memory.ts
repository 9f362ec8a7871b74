/**
 * Bounded memory: the vhost's limits on ready messages held in memory (a client's publish past
 * them is nacked), and the glue between queues and their pagers (paging.ts), which keep the
 * tail of a long durable queue in storage only.
 */
import type { Storage } from '../storage/types.js'
import { DELAYED_EXCHANGE_TYPE } from './delayed.js'
import { drain } from './delivery.js'
import { NackError } from './errors.js'
import type { QueuedMessage } from './message.js'
import type { Paging, PagingHost } from './paging.js'
import { dropHeadOverLimit } from './publishing.js'
import type { QueueState } from './queue.js'
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
      messages += queue.ready.length
      bytes += queue.readyBytes
      const paging = queue.paging
      if (paging) {
        messages += paging.size - paging.count
        bytes += paging.overflowBytes
      }
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

/** Keeps a message out of memory when the queue's tail is on disk or its window is full. */
export function pageOut(vhost: VhostState, queue: QueueState, paging: Paging, message: QueuedMessage, write: Promise<void> | undefined): boolean {
  if (write && paging.shouldPage(queue.ready.length)) {
    // If every paged write fails, nothing is on disk any more: the held transients go to memory.
    paging.pageOut(message, write, (overflow) => pagedIn(vhost, queue, overflow))
  } else if (paging.onDisk) paging.hold(message)
  else return false
  dropHeadOverLimit(vhost, queue)
  return true
}

/** Loads the next page of a queue whose tail is on disk, once its memory part runs low. */
export function refill(vhost: VhostState, queue: QueueState): void {
  if (queue.paging?.onDisk && vhost.storage) queue.paging.refill(queue, pagingHost(vhost, queue, vhost.storage))
}

export function pagingHost(vhost: VhostState, queue: QueueState, storage: Storage): PagingHost {
  return {
    storage,
    clock: vhost.clock,
    get stopped() {
      return vhost.stopped
    },
    loaded: (messages) => pagedIn(vhost, queue, messages),
    failed: () => {
      vhost.stats.storageFailures++
    },
  }
}

/** Messages back from disk (or overflow): in memory again, then trimmed, timed and delivered. */
function pagedIn(vhost: VhostState, queue: QueueState, messages: QueuedMessage[]): void {
  if (queue.deleted) return
  for (const message of messages) queue.push(message)
  dropHeadOverLimit(vhost, queue)
  drain(vhost, queue)
}
