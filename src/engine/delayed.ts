/**
 * Delayed delivery as RabbitMQ's delayed-message plugin does it: an exchange of type
 * `x-delayed-message` routes like its `x-delayed-type` but holds a message with a positive
 * `x-delay` header (ms) until it is due. Held messages sit in a min-heap by due time, so the
 * exchange needs one timer, for the earliest deadline, whatever the number of messages.
 */
import type { FieldTable, MessageProperties } from '../protocol/frames.js'
import type { StorageOp } from '../storage/types.js'
import type { Clock } from './clock.js'
import { AmqpError, commandInvalid, preconditionFailed } from './errors.js'

export const DELAYED_EXCHANGE_TYPE = 'x-delayed-message'

/** The plugin's ceiling (Erlang's largest timer); a larger x-delay is not delayed at all. */
export const MAX_DELAY = 4_294_967_295

/**
 * The routing type an `x-delayed-message` exchange proxies to. Missing or not a string: 406,
 * as the plugin's validate/1; a string that is no exchange type: 503, as for any unknown type;
 * the delayed type itself cannot be nested (406).
 */
export function parseDelayedType<T extends string>(args: FieldTable, routingTypes: readonly T[]): T {
  const type = args['x-delayed-type']
  if (typeof type !== 'string') throw preconditionFailed(`Invalid argument, 'x-delayed-type' must be an existing exchange type`)
  if (type === DELAYED_EXCHANGE_TYPE) throw preconditionFailed(`Invalid argument, 'x-delayed-type' cannot be '${DELAYED_EXCHANGE_TYPE}'`)
  if (!(routingTypes as readonly string[]).includes(type)) throw commandInvalid(`unknown exchange type '${type}'`)
  return type as T
}

/** Like parseDelayedType, for recovery: undefined instead of an error. */
export function delayedTypeOrUndefined<T extends string>(args: FieldTable, routingTypes: readonly T[]): T | undefined {
  try {
    return parseDelayedType(args, routingTypes)
  } catch (error) {
    if (error instanceof AmqpError) return undefined
    throw error
  }
}

/**
 * The delay a message asks for, read as the plugin reads `x-delay`: an integer, a float
 * (truncated) or a decimal string. Only 1..MAX_DELAY delays; anything else (absent, zero,
 * negative, too large, not a number) means "route now".
 */
export function delayOf(headers: FieldTable | undefined): number | undefined {
  const raw = headers?.['x-delay']
  let delay: number
  if (typeof raw === 'number') delay = Math.trunc(raw)
  else if (typeof raw === 'bigint') delay = Number(raw)
  else if (typeof raw === 'string' && /^[+-]?\d+$/.test(raw)) delay = Number(raw)
  else return undefined
  return Number.isFinite(delay) && delay > 0 && delay <= MAX_DELAY ? delay : undefined
}

/** Properties of a released message: x-delay negated, the plugin's mark that it was delayed. */
export function releasedProperties(properties: MessageProperties, delay: number): MessageProperties {
  return { ...properties, headers: { ...(properties.headers ?? {}), 'x-delay': -delay } }
}

/** Storage name under which a durable delayed exchange keeps its held messages (never a declarable queue name). */
export const delayedStoreName = (exchange: string): string => `amq.x-delayed-message/${exchange}`

/** A message held by a delayed exchange. */
export interface HeldMessage {
  /** Order of arrival at this exchange (equal due times release in publish order). */
  seq: number
  dueAt: number
  delay: number
  routingKey: string
  properties: MessageProperties
  body: unknown
  size: number
  /** Kept in storage (persistent message on a durable exchange). */
  stored: boolean
}

/** The held messages of one exchange: a binary min-heap by (dueAt, seq), plus its one timer. */
export class DelayedMessages {
  private readonly heap: HeldMessage[] = []
  nextSeq = 1
  /** Cancels the pending timer; `timerAt` is its deadline. */
  cancelTimer: (() => void) | undefined
  timerAt: number | undefined

  get size(): number {
    return this.heap.length
  }

  peek(): HeldMessage | undefined {
    return this.heap[0]
  }

  push(message: HeldMessage): void {
    const heap = this.heap
    heap.push(message)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  pop(): HeldMessage | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length === 0 || !last) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) break
      ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
      i = smallest
    }
    return top
  }

  /** Every held message, removed (exchange deleted). */
  clear(): HeldMessage[] {
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.timerAt = undefined
    return this.heap.splice(0)
  }
}

const before = (a: HeldMessage, b: HeldMessage): boolean => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq)

/**
 * Every delayed exchange's held messages and timers. The broker routes what falls due
 * (`release`); this class only keeps time, one timer per exchange for its earliest deadline.
 */
export class DelayedDelivery {
  private readonly exchanges = new Map<string, DelayedMessages>()
  private stopped = false

  constructor(
    private readonly clock: Clock,
    /** Routes a due message through its exchange, and forgets it in storage if it was stored. */
    private readonly release: (exchange: string, message: HeldMessage) => void,
  ) {}

  /** How many messages an exchange holds. */
  pending(exchange: string): number {
    return this.exchanges.get(exchange)?.size ?? 0
  }

  /** Holds a message for `delay` ms; the caller persists the returned message when it is `stored`. */
  hold(exchange: string, fields: Omit<HeldMessage, 'seq' | 'dueAt'>): HeldMessage {
    const held = this.of(exchange)
    const message: HeldMessage = { ...fields, seq: held.nextSeq++, dueAt: this.clock.now() + fields.delay }
    held.push(message)
    this.schedule(exchange, held)
    return message
  }

  /** Puts back a message recovered from storage; timers start with `start()`. */
  restore(exchange: string, message: HeldMessage): void {
    const held = this.of(exchange)
    held.push(message)
    held.nextSeq = Math.max(held.nextSeq, message.seq + 1)
  }

  /** After recovery: new messages get seqs above every seq the exchange ever stored (never reused). */
  continueAfter(exchange: string, lastSeq: number): void {
    const held = this.of(exchange)
    held.nextSeq = Math.max(held.nextSeq, lastSeq + 1)
  }

  /** Starts the timers of recovered messages (overdue ones fall due at once). */
  start(): void {
    for (const [exchange, held] of this.exchanges) this.schedule(exchange, held)
  }

  /** The exchange is gone: its held messages go with it; returns what storage must forget. */
  discard(exchange: string, durable: boolean): StorageOp[] {
    this.exchanges.get(exchange)?.clear()
    this.exchanges.delete(exchange)
    return durable ? [{ kind: 'queue.delete', name: delayedStoreName(exchange) }] : []
  }

  stop(): void {
    this.stopped = true
    for (const held of this.exchanges.values()) {
      held.cancelTimer?.()
      held.cancelTimer = undefined
      held.timerAt = undefined
    }
  }

  /** Timers still set (tests check "one per exchange"). */
  get timers(): number {
    let count = 0
    for (const held of this.exchanges.values()) if (held.cancelTimer) count++
    return count
  }

  private of(exchange: string): DelayedMessages {
    let held = this.exchanges.get(exchange)
    if (!held) this.exchanges.set(exchange, (held = new DelayedMessages()))
    return held
  }

  /** Keeps the exchange's one timer on its earliest deadline. */
  private schedule(exchange: string, held: DelayedMessages): void {
    const head = held.peek()
    if (!head || this.stopped) return
    if (held.cancelTimer && held.timerAt === head.dueAt) return
    held.cancelTimer?.()
    held.timerAt = head.dueAt
    held.cancelTimer = this.clock.schedule(Math.max(0, head.dueAt - this.clock.now()), () => {
      held.cancelTimer = undefined
      held.timerAt = undefined
      this.releaseDue(exchange, held)
    })
  }

  private releaseDue(exchange: string, held: DelayedMessages): void {
    if (this.exchanges.get(exchange) !== held || this.stopped) return
    const now = this.clock.now()
    try {
      for (let message = held.peek(); message && message.dueAt <= now; message = held.peek()) {
        held.pop()
        this.release(exchange, message)
      }
    } finally {
      this.schedule(exchange, held)
    }
  }
}
