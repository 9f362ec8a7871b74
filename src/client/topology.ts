/**
 * The entities one connection declared, in declaration order, so that after a broker restart
 * (a new epoch) or a lost session the connection can declare them again (RabbitMQ clients call
 * this topology recovery). Server-named queues get a new name on redeclare; `resolve` maps an
 * old name to the current one for consumers, bindings and Queue objects.
 */
import type {
  ExchangeBind,
  ExchangeDeclare,
  QueueBind,
  QueueDeclare,
} from '../protocol/frames.js'

type Args<T> = Omit<T, 'op' | 'id' | 'channel'>
export type ExchangeArgs = Args<ExchangeDeclare>
export type QueueArgs = Args<QueueDeclare>
export type QueueBindArgs = Args<QueueBind>
export type ExchangeBindArgs = Args<ExchangeBind>

/** What replay needs: something that can run a declare/bind and give its reply. */
export interface TopologyRunner {
  exchangeDeclare(args: ExchangeArgs): Promise<unknown>
  queueDeclare(args: QueueArgs): Promise<{ queue: string }>
  exchangeBind(args: ExchangeBindArgs): Promise<unknown>
  queueBind(args: QueueBindArgs): Promise<unknown>
}

interface QueueRecord {
  args: QueueArgs
  /** Declared with an empty name: the broker picks a new one on every declare. */
  serverNamed: boolean
}

const bindingKey = (a: string, b: string, routingKey = '', args: object = {}) =>
  JSON.stringify([a, b, routingKey, args])

export class Topology {
  readonly #exchanges = new Map<string, ExchangeArgs>()
  readonly #queues = new Map<string, QueueRecord>()
  readonly #queueBindings = new Map<string, QueueBindArgs>()
  readonly #exchangeBindings = new Map<string, ExchangeBindArgs>()
  readonly #renames = new Map<string, string>()

  /** The current name of a queue that may have been renamed by recovery. */
  resolve(queue: string): string {
    let name = queue
    for (let seen = 0; this.#renames.has(name) && seen < 1000; seen++) name = this.#renames.get(name)!
    return name
  }

  get size(): number {
    return this.#exchanges.size + this.#queues.size + this.#queueBindings.size + this.#exchangeBindings.size
  }

  recordExchange(args: ExchangeArgs): void {
    if (args.passive) return
    this.#exchanges.set(args.exchange, { ...args })
  }

  forgetExchange(name: string): void {
    this.#exchanges.delete(name)
    for (const [key, b] of this.#queueBindings) if (b.exchange === name) this.#queueBindings.delete(key)
    for (const [key, b] of this.#exchangeBindings) {
      if (b.source === name || b.destination === name) this.#exchangeBindings.delete(key)
    }
  }

  recordQueue(name: string, args: QueueArgs): void {
    if (args.passive) return
    const previous = this.#queues.get(name)
    this.#queues.set(name, { args: { ...args, queue: name }, serverNamed: previous?.serverNamed ?? args.queue === '' })
  }

  forgetQueue(name: string): void {
    this.#queues.delete(name)
    for (const [key, b] of this.#queueBindings) if (b.queue === name) this.#queueBindings.delete(key)
  }

  recordQueueBind(args: QueueBindArgs): void {
    this.#queueBindings.set(bindingKey(args.queue, args.exchange, args.routingKey, args.arguments), { ...args })
  }

  forgetQueueBind(args: QueueBindArgs): void {
    this.#queueBindings.delete(bindingKey(args.queue, args.exchange, args.routingKey, args.arguments))
  }

  recordExchangeBind(args: ExchangeBindArgs): void {
    this.#exchangeBindings.set(bindingKey(args.destination, args.source, args.routingKey, args.arguments), { ...args })
  }

  forgetExchangeBind(args: ExchangeBindArgs): void {
    this.#exchangeBindings.delete(bindingKey(args.destination, args.source, args.routingKey, args.arguments))
  }

  /**
   * Declares everything again, in order: exchanges, queues, exchange bindings, queue bindings.
   * One failure does not stop the rest; the failures are returned.
   */
  async replay(run: () => TopologyRunner): Promise<unknown[]> {
    const failures: unknown[] = []
    const attempt = async (fn: (runner: TopologyRunner) => Promise<unknown>) => {
      try {
        await fn(run())
      } catch (error) {
        failures.push(error)
      }
    }
    for (const args of [...this.#exchanges.values()]) await attempt((r) => r.exchangeDeclare(args))
    for (const [name, record] of [...this.#queues]) {
      await attempt(async (r) => {
        const { queue } = await r.queueDeclare({ ...record.args, queue: record.serverNamed ? '' : name })
        if (queue !== name) this.#rename(name, queue)
      })
    }
    for (const args of [...this.#exchangeBindings.values()]) await attempt((r) => r.exchangeBind(args))
    for (const args of [...this.#queueBindings.values()]) await attempt((r) => r.queueBind(args))
    return failures
  }

  #rename(from: string, to: string): void {
    this.#renames.set(from, to)
    const record = this.#queues.get(from)
    this.#queues.delete(from)
    if (record) this.#queues.set(to, { ...record, args: { ...record.args, queue: to } })
    for (const [key, b] of [...this.#queueBindings]) {
      if (b.queue !== from) continue
      this.#queueBindings.delete(key)
      this.recordQueueBind({ ...b, queue: to })
    }
  }
}
