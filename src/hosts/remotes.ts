/**
 * [remote] Wires remote brokers (src/remote/) into a broker host: the LocalBroker the links
 * use, made of the engine's own frames (an in-process client, like the management service's),
 * the lazy load of the remote code, and the status notices every context of the vhost can
 * hear on its remotes channel. Credentials stay in this context: notices carry RemoteStatus.
 */
import type { Broker } from '../engine/broker.js'
import { wireError, type WireErrorCode } from '../protocol/errors.js'
import type { ClientCommand, DeliveredMessage, ReplyResults, ServerEvent } from '../protocol/frames.js'
import {
  parseRemotesNotice,
  remotesChannelName,
  type FederationSpec,
  type RemoteStatus,
  type RemotesNotice,
  type ShovelSpec,
} from '../protocol/remote.js'
import type { RemoteAttach } from '../protocol/notices.js'
import type { DirectBroker, LocalBroker, LocalConsumer, LocalPublish, RemoteConnection, RemoteOptions, Remotes } from '../remote/index.js'
import type { LockManagerLike } from '../transport/locks.js'
import { LinkHost } from './broadcast-host.js'
import { ManagementError } from './engine-client.js'

/** What broker options say about remotes. */
export interface RemotesOptions {
  /** Remote RabbitMQ brokers by name: one WebSocket each, shared by every context. */
  remotes?: Record<string, RemoteOptions>
  /** Local queues forwarded to remote exchanges (the offline outbox). */
  shovels?: ShovelSpec[]
  /** Remote queues or exchanges delivered into local exchanges. */
  federations?: FederationSpec[]
}

/** What the management API needs of a host's remotes. */
export interface RemotesHandle {
  status(): RemoteStatus[]
  declareShovel(spec: ShovelSpec): Promise<void>
  declareFederation(spec: FederationSpec): Promise<void>
  deleteLink(name: string): Promise<boolean>
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
type Command = DistributiveOmit<ClientCommand, 'id' | 'channel'>

interface Pending {
  readonly channel: number
  resolve(result: unknown): void
  reject(error: ManagementError): void
}

interface ConsumerHandlers {
  onMessage(message: DeliveredMessage): void
  onEnd(reason: string): void
}

/** The engine as the remote links see it: one in-process client, a channel per consumer. */
export class EngineLocal implements LocalBroker {
  readonly #broker: Broker
  readonly #clientId: string
  readonly #pending = new Map<number, Pending>()
  readonly #consumers = new Map<number, ConsumerHandlers>()
  #nextId = 1
  #nextChannel = 1
  #publishChannel: Promise<number> | undefined

  constructor(broker: Broker) {
    this.#broker = broker
    this.#clientId = `remote-links:${broker.brokerId}`
  }

  async ensureQueue(queue: string): Promise<void> {
    await this.#withChannel(async (channel) => {
      try {
        await this.#call(channel, { op: 'queue.declare', queue, passive: true })
        return
      } catch (error) {
        if (!(error instanceof ManagementError) || error.data.code !== 'NOT_FOUND') throw error
      }
      await this.#withChannel((fresh) => this.#call(fresh, { op: 'queue.declare', queue, durable: true }))
    })
  }

  async consume(queue: string, prefetch: number, onMessage: (m: DeliveredMessage) => void, onEnd: (reason: string) => void): Promise<LocalConsumer> {
    const channel = await this.#open()
    this.#consumers.set(channel, { onMessage, onEnd })
    try {
      await this.#call(channel, { op: 'basic.qos', prefetchCount: prefetch })
      await this.#call(channel, { op: 'basic.consume', queue })
    } catch (error) {
      this.#consumers.delete(channel)
      await this.#call(channel, { op: 'channel.close' }).catch(() => {})
      throw error
    }
    let open = true
    return {
      ack: (deliveryTag) => {
        if (open) this.#cast(channel, { op: 'basic.ack', deliveryTag })
      },
      reject: (deliveryTag) => {
        if (open) this.#cast(channel, { op: 'basic.reject', deliveryTag, requeue: false })
      },
      close: async () => {
        if (!open) return
        open = false
        this.#consumers.delete(channel)
        await this.#call(channel, { op: 'channel.close' }).catch(() => {})
      },
    }
  }

  async publish(message: LocalPublish): Promise<void> {
    try {
      await this.#publish(message)
    } catch (error) {
      // The links read `code` (NOT_FOUND, RESOURCE_LIMIT, STORAGE_UNAVAILABLE…).
      throw error instanceof ManagementError ? Object.assign(new Error(error.message), { code: error.data.code }) : error
    }
  }

  async #publish(message: LocalPublish): Promise<void> {
    const channel = await (this.#publishChannel ??= this.#open())
    await this.#call(channel, {
      op: 'basic.publish',
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: message.properties,
      body: message.body,
      ...(message.publishId !== undefined ? { publishId: message.publishId } : {}),
      ...(message.redelivered ? { retryOf: '' } : {}),
    })
  }

  backlog(queue: string): number {
    return this.#broker.queues.get(queue)?.messageCount ?? 0
  }

  deadLetters(queue: string): boolean {
    const args = this.#broker.queues.get(queue)?.args
    return typeof args?.['x-dead-letter-exchange'] === 'string'
  }

  close(): void {
    this.#broker.disconnect(this.#clientId)
    this.#failAll('the remote links were stopped')
  }

  async #withChannel<T>(fn: (channel: number) => Promise<T>): Promise<T> {
    const channel = await this.#open()
    try {
      return await fn(channel)
    } finally {
      await this.#call(channel, { op: 'channel.close' }).catch(() => {})
    }
  }

  async #open(): Promise<number> {
    const channel = this.#nextChannel++
    if (this.#nextChannel > 65_535) this.#nextChannel = 1
    await this.#call(channel, { op: 'channel.open' })
    return channel
  }

  #connect(): void {
    if (this.#broker.hasClient(this.#clientId)) return
    this.#broker.connect(this.#clientId, (event) => this.#event(event), { kind: 'unknown', name: 'remote links' })
  }

  #cast(channel: number, command: Command): void {
    this.#broker.receive(this.#clientId, { ...command, channel })
  }

  #call<C extends Command>(channel: number, command: C): Promise<ReplyResults[C['op']]> {
    this.#connect()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { channel, resolve: resolve as (r: unknown) => void, reject })
      this.#broker.receive(this.#clientId, { ...command, channel, id })
    })
  }

  #event(event: ServerEvent): void {
    switch (event.op) {
      case 'basic.deliver':
        this.#consumers.get(event.channel)?.onMessage(event)
        return
      case 'basic.cancel-notify':
        this.#consumers.get(event.channel)?.onEnd(`the local broker cancelled the consumer of channel ${event.channel}`)
        return
      case 'channel.closed': {
        this.#consumers.get(event.channel)?.onEnd(event.error.message)
        this.#consumers.delete(event.channel)
        if (this.#publishChannel) void this.#publishChannel.then((c) => {
          if (c === event.channel) this.#publishChannel = undefined
        })
        for (const [id, pending] of this.#pending) {
          if (pending.channel !== event.channel) continue
          this.#pending.delete(id)
          pending.reject(new ManagementError(event.error))
        }
        return
      }
      case 'connection.closed':
        this.#publishChannel = undefined
        for (const [, handlers] of this.#consumers) handlers.onEnd(event.error.message)
        this.#consumers.clear()
        this.#failAll(event.error.message)
        return
      case 'ok':
      case 'error': {
        const pending = this.#pending.get(event.id)
        if (!pending) return
        this.#pending.delete(event.id)
        if (event.op === 'ok') pending.resolve(event.result)
        else pending.reject(new ManagementError(event.error))
        return
      }
    }
  }

  #failAll(message: string): void {
    const gone = new ManagementError(wireError('CONNECTION_CLOSED', message))
    for (const pending of this.#pending.values()) pending.reject(gone)
    this.#pending.clear()
  }
}

/** A remote error as the management API's wire error. */
export function managementErrorOf(error: unknown): ManagementError {
  if (error instanceof ManagementError) return error
  const code = (error as { code?: unknown })?.code
  const message = error instanceof Error ? error.message : String(error)
  const wire: WireErrorCode = code === 'NOT_FOUND' ? 'NOT_FOUND' : code === 'INVALID_ARGUMENT' || code === 'PRECONDITION_FAILED' ? 'PRECONDITION_FAILED' : 'INTERNAL_ERROR'
  return new ManagementError(wireError(wire, message))
}

export interface ServingRemotes extends RemotesHandle {
  stop(): Promise<void>
  /** The remotes themselves (tests: interrupt a socket). */
  readonly remotes: Remotes
}

/**
 * Starts the remotes of a broker host, loading the remote code only now. Status notices go to
 * the vhost's remotes channel on every change and whenever a context asks ('remotes?').
 */
export async function startRemotes(broker: Broker, vhost: string, options: RemotesOptions): Promise<ServingRemotes> {
  const { Remotes } = await import('../remote/index.js')
  const local = new EngineLocal(broker)
  const channel = new BroadcastChannel(remotesChannelName(vhost))
  const post = (remotes: RemoteStatus[]) => {
    channel.postMessage({ op: 'remotes', remotes } satisfies RemotesNotice)
  }
  const remotes = new Remotes(
    { remotes: options.remotes ?? {}, shovels: options.shovels ?? [], federations: options.federations ?? [] },
    local,
    post,
  )
  channel.onmessage = (event: MessageEvent) => {
    if (parseRemotesNotice(event.data)?.op === 'remotes?') post(remotes.status())
  }
  remotes.start()
  const wrap = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await fn(...a)
    } catch (error) {
      throw managementErrorOf(error)
    }
  }
  return {
    remotes,
    status: () => remotes.status(),
    declareShovel: wrap((spec: ShovelSpec) => remotes.declareShovel(spec)),
    declareFederation: wrap((spec: FederationSpec) => remotes.declareFederation(spec)),
    deleteLink: wrap((name: string) => remotes.deleteLink(name)),
    async stop() {
      channel.close()
      await remotes.stop()
      local.close()
    },
  }
}

/**
 * [remote] The direct connections (`stomp+ws://`) of a broker host: one LinkHost in front of one
 * DirectBroker per remote socket, shared by every context that opens the same URL, vhost and
 * credentials; a configured remote with those is the same socket its links use. The socket is
 * made by the first open and lives as long as the host.
 */
export class DirectRemotes {
  readonly #vhost: string
  readonly #locks: LockManagerLike | undefined
  readonly #configured: () => Remotes | undefined
  readonly #hosts = new Map<string, Promise<{ host: LinkHost; direct: DirectBroker; own: RemoteConnection | undefined }>>()
  #count = 0

  constructor(vhost: string, configured: () => Remotes | undefined, locks?: LockManagerLike) {
    this.#vhost = vhost
    this.#configured = configured
    this.#locks = locks
  }

  /** The LinkHost of `remote`'s socket (made, with the socket, on the first call). */
  host(remote: RemoteAttach): Promise<LinkHost> {
    const key = JSON.stringify([remote.url, remote.vhost ?? '/', remote.login ?? null, remote.passcode ?? null])
    let made = this.#hosts.get(key)
    if (!made) {
      made = (async () => {
        const { DirectBroker, RemoteConnection } = await import('../remote/index.js')
        const options: RemoteOptions = remote
        const shared = this.#configured()?.serving(options)
        const own = shared ? undefined : new RemoteConnection(`direct-${++this.#count}`, options)
        own?.start()
        const direct = new DirectBroker(shared ?? own!)
        return { host: new LinkHost(direct, this.#locks ? { vhost: this.#vhost, locks: this.#locks } : { vhost: this.#vhost }), direct, own }
      })()
      this.#hosts.set(key, made)
      made.catch(() => this.#hosts.delete(key))
    }
    return made.then((m) => m.host)
  }

  async stop(): Promise<void> {
    const all = await Promise.allSettled(this.#hosts.values())
    this.#hosts.clear()
    for (const result of all) {
      if (result.status !== 'fulfilled') continue
      result.value.host.close()
      result.value.direct.close()
      await result.value.own?.stop()
    }
  }
}
