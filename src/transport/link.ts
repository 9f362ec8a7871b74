/**
 * A Link carries frames between one client and the broker. Implementations:
 * in-process (memory://), and for shared:// a MessagePort (windows' default) or BroadcastChannel
 * (workers' only link).
 * A link does the hello/welcome handshake itself and comes back on its own after the
 * broker restarts; the client only sees `welcome` (compare epochs) and `down`.
 */
import type { RemoteAttach } from '../protocol/notices.js'
import type { ClientCommand, ServerEvent, Welcome } from '../protocol/frames.js'

export interface LinkListener {
  /** An event from the broker (replies, deliveries, returns, closes). */
  frame(frame: ServerEvent): void
  /** Handshake completed: first connect, and again after each reconnect. */
  welcome(welcome: Welcome): void
  /** The broker is unreachable; the link keeps trying unless it was closed. */
  down(reason: Error): void
}

export interface Link {
  readonly clientId: string
  /** Queues a frame; every frame queued in one turn leaves in one post. */
  send(frame: ClientCommand): void
  listen(listener: LinkListener): () => void
  /** Says goodbye and releases everything; no reconnect after this. */
  close(): Promise<void>
}

export interface ConnectOptions {
  vhost: string
  /** How long to wait for a broker's welcome before failing with BrokerUnavailableError. */
  connectTimeout: number
  clientName?: string
  /**
   * Which broker host a `shared://` link may use: 'auto' (default: the SharedWorker where this
   * context can start one, else a context elected through Web Locks), 'shared-worker' (never
   * elect) or 'elected' (always elect; no worker script needed). Other transports ignore it.
   */
  host?: 'auto' | 'shared-worker' | 'elected'
  /**
   * How a `shared://` client talks to the broker: 'port' (frames over a MessagePort to the
   * SharedWorker; windows that start it only) or 'broadcast' (BroadcastChannel; any context).
   * Default: the port where this context starts the SharedWorker (falling back to
   * BroadcastChannel for a broker only that reaches, an elected host), else BroadcastChannel.
   */
  link?: 'port' | 'broadcast'
  /** `shared://` in a window: starts the broker's SharedWorker; default: the one given to `useSharedWorker`. */
  sharedWorker?: SharedWorkerFactory
  /** [remote] `stomp+ws://`: the RabbitMQ this link reaches through the broker host's socket. */
  remote?: RemoteAttach
}

/** Creates the broker's SharedWorker; must pass `name` through (it carries vhost and protocol version). */
export type SharedWorkerFactory = (name: string) => SharedWorker

/** Opens a link once a welcome has arrived (rejects with a typed error otherwise). */
export type Connector = (options: ConnectOptions) => Promise<{ link: Link; welcome: Welcome }>
