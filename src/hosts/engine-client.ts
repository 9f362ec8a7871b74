/**
 * An in-process client of the engine, for the management API: it talks to the broker with
 * the same frames any tab sends (through `Broker.connect`/`receive`), never by touching
 * engine state. Every call gets a fresh channel, so a soft error closes only that call's
 * channel and unacked messages of a call go back when it ends.
 */
import type { Broker } from '../engine/broker.js'
import type { ClientCommand, ReplyResults, ServerEvent } from '../protocol/frames.js'
import { wireError, type ErrorData } from '../protocol/errors.js'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
export type Command = DistributiveOmit<ClientCommand, 'id' | 'channel'>

/**
 * A failed command, internal to the hosts: it carries the ErrorData of the wire table, which
 * is what a console receives (and rebuilds into its client error class).
 */
export class ManagementError extends Error {
  override readonly name = 'ManagementError'
  constructor(readonly data: ErrorData) {
    super(data.message)
  }
}

/** What a management call rejects with across comlink: plain ErrorData, whatever failed. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof ManagementError) return error.data
  return wireError('INTERNAL_ERROR', error instanceof Error ? error.message : String(error))
}

interface Pending {
  resolve(result: unknown): void
  reject(error: ManagementError): void
}

/** One call's channel: commands on it resolve with their typed result or reject. */
export interface CallChannel {
  call<C extends Command>(command: C): Promise<ReplyResults[C['op']]>
  /** Fire and forget (acks). */
  cast(command: Command): void
}

export class EngineClient {
  readonly #broker: Broker
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #nextChannel = 1
  #connected = false

  constructor(
    broker: Broker,
    readonly clientId: string,
  ) {
    this.#broker = broker
  }

  /** Runs `fn` on a fresh channel, closed afterwards (its unacked messages return). */
  async withChannel<T>(fn: (channel: CallChannel) => Promise<T>): Promise<T> {
    this.#ensureConnected()
    const number = this.#nextChannel++
    // Channel numbers only need to be unique while open; wrap long before any limit.
    if (this.#nextChannel > 65_535) this.#nextChannel = 1
    const channel: CallChannel = {
      call: (command) => this.#call(number, command) as never,
      cast: (command) => this.#broker.receive(this.clientId, { ...command, channel: number }),
    }
    await this.#call(number, { op: 'channel.open' } as Command)
    try {
      return await fn(channel)
    } finally {
      // Already closed by a soft error: the engine answers 504, which we ignore.
      await this.#call(number, { op: 'channel.close' } as Command).catch(() => {})
    }
  }

  close(): void {
    if (!this.#connected) return
    this.#connected = false
    this.#broker.disconnect(this.clientId)
    const gone = new ManagementError(wireError('CONNECTION_CLOSED', 'management client closed'))
    for (const pending of this.#pending.values()) pending.reject(gone)
    this.#pending.clear()
  }

  #ensureConnected(): void {
    // The engine may have dropped us (a hard error): connect again.
    if (this.#connected && this.#broker.hasClient(this.clientId)) return
    this.#connected = true
    this.#broker.connect(this.clientId, (event) => this.#event(event), { kind: 'unknown', name: 'management' })
  }

  #call(channel: number, command: Command): Promise<unknown> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#broker.receive(this.clientId, { ...command, channel, id })
      // A hard error (or a stopped broker) dropped us: nothing will answer this one.
      if (this.#pending.has(id) && !this.#broker.hasClient(this.clientId)) {
        this.#pending.delete(id)
        reject(new ManagementError(wireError('CONNECTION_CLOSED', 'the broker closed the management connection')))
      }
    })
  }

  #event(event: ServerEvent): void {
    if (event.op !== 'ok' && event.op !== 'error') return
    const pending = this.#pending.get(event.id)
    if (!pending) return
    this.#pending.delete(event.id)
    if (event.op === 'ok') pending.resolve(event.result)
    else pending.reject(new ManagementError(event.error))
  }
}
