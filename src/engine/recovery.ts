import type { Storage } from '../storage/types.js'
import type { Broker } from './broker.js'
import { DELAYED_EXCHANGE_TYPE, delayedStoreName, delayedTypeOrUndefined, delayOf } from './delayed.js'
import { EXCHANGE_TYPES, Exchange, isExchangeTypeName, makeBinding } from './exchange.js'

const PAGE = 10_000
/** Queues whose messages load at the same time during recovery. */
const RECOVERY_CONCURRENCY = 32

/**
 * Rebuilds durable state after a broker start: definitions first, then each queue's
 * messages, loaded by its type (QueueType.recover).
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
    const declaration = { name: stored.name, durable: true, owner: undefined, autoDelete: stored.autoDelete, args: stored.arguments, serverNamed: false }
    try {
      const type = broker.queueTypes.resolve(stored.arguments)
      broker.queues.set(stored.name, type.create(declaration, type.validate(declaration)))
    } catch {
      continue
    }
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
    while (next < queues.length) {
      const queue = queues[next++]!
      await queue.type.recover(queue, storage, now)
    }
  }
  await Promise.all(Array.from({ length: Math.min(RECOVERY_CONCURRENCY, queues.length) }, worker))
  for (const exchange of broker.exchanges.values())
    if (exchange.type === DELAYED_EXCHANGE_TYPE && exchange.durable) await recoverDelayed(broker, storage, exchange.name)
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
