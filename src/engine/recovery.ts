import type { Storage } from '../storage/types.js'
import type { Broker } from './broker.js'
import { DELAYED_EXCHANGE_TYPE, delayedStoreName, delayedTypeOrUndefined, delayOf } from './delayed.js'
import { EXCHANGE_TYPES, Exchange, isExchangeTypeName, makeBinding } from './exchange.js'
import { fromStored } from './paging.js'
import { QueueState } from './queue.js'
import { parseQueueArguments } from './queue-arguments.js'

const PAGE = 10_000
const ROUTED = { routed: true }
/** Queues whose messages load at the same time during recovery. */
const RECOVERY_CONCURRENCY = 32

/**
 * Rebuilds durable state after a broker start: definitions first, then each queue's
 * messages in order. Every recovered message is flagged redelivered: it may have been
 * delivered before the restart, and `false` must guarantee that nobody saw it.
 */
export async function recoverState(broker: Broker, storage: Storage, now: number): Promise<void> {
  const definitions = await storage.loadDefinitions()
  for (const stored of definitions.exchanges) {
    if (!isExchangeTypeName(stored.type) || broker.exchanges.has(stored.name)) continue
    if (stored.type === DELAYED_EXCHANGE_TYPE && !delayedTypeOrUndefined(stored.arguments, EXCHANGE_TYPES)) continue
    broker.exchanges.set(
      stored.name,
      new Exchange(stored.name, stored.type, true, stored.autoDelete, stored.internal, stored.arguments),
    )
  }
  for (const stored of definitions.queues) {
    let options
    try {
      options = parseQueueArguments(stored.arguments)
    } catch {
      continue
    }
    const queue = new QueueState(stored.name, true, undefined, stored.autoDelete, stored.arguments, options)
    queue.enablePaging(broker.queueWindow)
    broker.queues.set(stored.name, queue)
  }
  for (const stored of definitions.bindings) {
    const source = broker.exchanges.get(stored.source)
    const destinationExists =
      stored.destinationKind === 'queue' ? broker.queues.has(stored.destination) : broker.exchanges.has(stored.destination)
    if (!source || !destinationExists) continue
    source.addBinding(makeBinding(stored.source, stored.destinationKind, stored.destination, stored.routingKey, stored.arguments))
  }
  // Queues load independently: many reads in flight at once, not one queue after another
  // (10,000 queues one at a time took seconds on IndexedDB).
  const queues = [...broker.queues.values()]
  let next = 0
  const worker = async () => {
    while (next < queues.length) await recoverMessages(broker, queues[next++]!, storage, now)
  }
  await Promise.all(Array.from({ length: Math.min(RECOVERY_CONCURRENCY, queues.length) }, worker))
  for (const exchange of broker.exchanges.values())
    if (exchange.type === DELAYED_EXCHANGE_TYPE && exchange.durable) await recoverDelayed(broker, storage, exchange.name)
}

/** Loads a recovered queue's first window of messages and where its seqs continue. */
async function recoverMessages(broker: Broker, queue: QueueState, storage: Storage, now: number): Promise<void> {
  // Only the first window comes into memory; the rest stays paged (see paging.ts).
  const window = queue.paging?.window ?? Infinity
  let after = 0
  let loaded = 0
  let bytes = 0
  while (loaded < window) {
    const limit = Math.min(PAGE, window - loaded)
    const page = await storage.loadMessages(queue.name, after, limit)
    for (const stored of page) {
      queue.push(fromStored(stored, true))
      // A retry of a message the last broker took but did not confirm is a duplicate here too.
      if (stored.publishId !== undefined) broker.dedup.remember(stored.publishId, now, ROUTED)
      after = stored.seq
      bytes += stored.size
    }
    loaded += page.length
    if (page.length < limit) break
  }
  // Seqs are never reused: continue above the highest ever stored, even if it is gone.
  const lastSeq = Math.max(after, await storage.lastSeq(queue.name))
  queue.nextSeq = lastSeq + 1
  const paging = queue.paging
  if (paging && loaded >= window) {
    paging.count = Math.max(0, (await storage.countMessages(queue.name)) - loaded)
    // Sizes of the paged ones are unknown until they load: estimate from the first window.
    paging.bytes = loaded > 0 ? Math.round((bytes / loaded) * paging.count) : 0
    paging.cursor = after
    paging.recoveredUpTo = lastSeq
  }
}

/** What a durable delayed exchange was holding; overdue messages fall due as soon as the broker starts. */
async function recoverDelayed(broker: Broker, storage: Storage, exchange: string): Promise<void> {
  const name = delayedStoreName(exchange)
  let after = 0
  for (;;) {
    const page = await storage.loadMessages(name, after, PAGE)
    for (const stored of page) {
      broker.delayed.restore(exchange, {
        seq: stored.seq,
        dueAt: stored.dueAt ?? 0,
        delay: delayOf(stored.properties.headers) ?? 0,
        routingKey: stored.routingKey,
        properties: stored.properties,
        body: stored.body,
        size: stored.size,
        stored: true,
      })
      after = stored.seq
    }
    if (page.length < PAGE) break
  }
  broker.delayed.continueAfter(exchange, await storage.lastSeq(name))
}
