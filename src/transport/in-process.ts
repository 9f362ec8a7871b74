/**
 * A link to a broker in the same JavaScript context (memory://, tests). Frames still travel
 * in batches, one microtask later, and are structured-cloned by default, so a client sees the
 * same asynchrony and the same copying as over a real port: no re-entrancy into the broker,
 * no shared body objects.
 */
import type { ClientCommand, ClientKind, ServerEvent, StorageState, Welcome } from '../protocol/frames.js'
import { PROTOCOL_VERSION } from '../protocol/version.js'
import { Batcher } from './batch.js'
import { detectClientKind } from './env.js'
import { LinkError } from './errors.js'
import { newSessionId } from './session.js'
import type { Connector, ConnectOptions, Link, LinkListener } from './link.js'

/** The part of the engine's Broker a link talks to (structural: transport cannot import engine). */
export interface InProcessBroker {
  readonly epoch: number
  readonly brokerId: string
  readonly storageState?: StorageState
  connect(clientId: string, send: (event: ServerEvent) => void, info?: { kind?: ClientKind; name?: string }): void
  disconnect(clientId: string): void
  receive(clientId: string, frame: unknown): void
}

/** Finds (or starts) the broker of a vhost. */
export type BrokerResolver = (vhost: string) => InProcessBroker | Promise<InProcessBroker>

export interface InProcessOptions {
  /** Structured-clone frames both ways, as real transports do. Default true. */
  clone?: boolean
}

let counter = 0
const newClientId = () => `inproc-${Math.random().toString(36).slice(2, 10)}-${(++counter).toString(36)}`

type State = 'up' | 'down' | 'closed'

export class InProcessLink implements Link {
  readonly clientId = newClientId()
  readonly #resolve: BrokerResolver
  readonly #vhost: string
  readonly #name: string | undefined
  readonly #clone: <T>(value: T) => T
  readonly #listeners = new Set<LinkListener>()
  readonly #outbox: Batcher<ClientCommand>
  readonly #inbox: Batcher<ServerEvent>
  #broker: InProcessBroker | undefined
  #state: State = 'down'
  /** Bumped on every drop: events of an earlier broker session are ignored. */
  #session = 0
  #welcome: Welcome | undefined
  readonly #onClose: () => void

  constructor(resolve: BrokerResolver, options: ConnectOptions & InProcessOptions, onClose: () => void = () => {}) {
    this.#resolve = resolve
    this.#vhost = options.vhost
    this.#name = options.clientName
    this.#clone = options.clone === false ? (value) => value : (value) => structuredClone(value)
    this.#onClose = onClose
    this.#outbox = new Batcher((frames) => this.#deliverOut(frames))
    this.#inbox = new Batcher((events) => this.#deliverIn(events))
  }

  get welcome(): Welcome | undefined {
    return this.#welcome
  }

  get state(): State {
    return this.#state
  }

  send(frame: ClientCommand): void {
    if (this.#state !== 'up') return this.#refuse(frame)
    let copy: ClientCommand
    try {
      copy = this.#clone(frame)
    } catch (error) {
      return this.#refuse(frame, error)
    }
    this.#outbox.push(copy)
  }

  listen(listener: LinkListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    const wasUp = this.#state === 'up'
    this.#outbox.flush()
    this.#state = 'closed'
    this.#session++
    if (wasUp) this.#broker?.disconnect(this.clientId)
    this.#broker = undefined
    // Listeners stay: a request sent after close() still gets its CONNECTION_CLOSED reply.
    this.#onClose()
  }

  /** Hello/welcome with the vhost's current broker. Rejects with BROKER_UNAVAILABLE. */
  async connect(): Promise<Welcome> {
    if (this.#state === 'closed') throw new LinkError('CONNECTION_CLOSED', 'the link is closed')
    let broker: InProcessBroker
    try {
      broker = await this.#resolve(this.#vhost)
    } catch (cause) {
      throw new LinkError('BROKER_UNAVAILABLE', `no in-process broker for vhost '${this.#vhost}'`, { cause })
    }
    // close() may have run while the broker was starting.
    if ((this.#state as State) === 'closed') throw new LinkError('CONNECTION_CLOSED', 'the link is closed')
    const session = ++this.#session
    this.#broker = broker
    broker.connect(
      this.clientId,
      (event) => {
        if (this.#session === session) this.#inbox.push(this.#clone(event))
      },
      { kind: detectClientKind(), ...(this.#name ? { name: this.#name } : {}) },
    )
    this.#state = 'up'
    const welcome: Welcome = {
      op: 'welcome',
      clientId: this.clientId,
      protocol: PROTOCOL_VERSION,
      epoch: broker.epoch,
      brokerId: broker.brokerId,
      ...(broker.storageState ? { storage: broker.storageState } : {}),
      // Nothing else can post in this link's name here; the id keeps welcomes alike on every link.
      session: newSessionId(),
    }
    const first = this.#welcome === undefined
    this.#welcome = welcome
    if (!first) for (const listener of [...this.#listeners]) listener.welcome(welcome)
    return welcome
  }

  /** The broker went away (hosts and tests): report `down`, drop what was in flight. */
  drop(reason: Error = new LinkError('CONNECTION_CLOSED', 'the broker went away')): void {
    if (this.#state !== 'up') return
    this.#state = 'down'
    this.#session++
    this.#broker = undefined
    for (const frame of this.#outbox.take()) this.#refuse(frame)
    this.#inbox.take()
    for (const listener of [...this.#listeners]) listener.down(reason)
  }

  #deliverOut(frames: ClientCommand[]): void {
    const broker = this.#broker
    if (!broker || this.#state !== 'up') {
      for (const frame of frames) this.#refuse(frame)
      return
    }
    for (const frame of frames) broker.receive(this.clientId, frame)
  }

  #deliverIn(events: ServerEvent[]): void {
    for (const event of events) for (const listener of [...this.#listeners]) listener.frame(event)
  }

  /** A request that cannot go gets an error reply instead of silence (as the shared link does). */
  #refuse(frame: ClientCommand, cloneError?: unknown): void {
    if (frame.id === undefined) return
    const id = frame.id
    const error =
      cloneError === undefined
        ? { name: 'ConnectionClosedError', code: 'CONNECTION_CLOSED', message: `the link is ${this.#state}` }
        : {
            name: 'EncodeError',
            code: 'ENCODE',
            message: `the frame cannot be structured-cloned: ${cloneError instanceof Error ? cloneError.message : String(cloneError)}`,
          }
    queueMicrotask(() => {
      for (const listener of [...this.#listeners]) listener.frame({ op: 'error', id, error })
    })
  }
}

/** A connector plus the links it made, so a host can take them down and bring them back. */
export interface InProcessTransport {
  readonly connector: Connector
  readonly links: ReadonlySet<InProcessLink>
  /** Every link reports `down` (the broker stopped). */
  dropAll(reason?: Error): void
  /** Every dropped link says hello again to the vhost's current broker. */
  reconnectAll(): Promise<void>
}

export const createInProcessTransport = (resolve: BrokerResolver, options: InProcessOptions = {}): InProcessTransport => {
  const links = new Set<InProcessLink>()
  const connector: Connector = async (connect) => {
    const link = new InProcessLink(resolve, { ...connect, ...options }, () => links.delete(link))
    links.add(link)
    try {
      const welcome = await link.connect()
      return { link, welcome }
    } catch (error) {
      await link.close()
      throw error
    }
  }
  return {
    connector,
    links,
    dropAll(reason) {
      for (const link of links) link.drop(reason)
    },
    async reconnectAll() {
      await Promise.all([...links].filter((link) => link.state === 'down').map((link) => link.connect()))
    },
  }
}
