/**
 * [remote] Remote brokers of one broker host: one RemoteConnection (one WebSocket) per
 * configured RabbitMQ, and the shovels and federation links over them. The host hands in a
 * LocalBroker (the engine, through its own frames) and a callback for status notices; this
 * module is loaded lazily (dynamic import) only when remotes are configured, so a worker
 * without remotes never carries @stomp/stompjs.
 */
import { copyFederationSpec, copyShovelSpec, federationSpecProblem, shovelSpecProblem, type FederationSpec, type RemoteStatus, type ShovelSpec } from '../protocol/remote.js'
import { RemoteConnection, RemoteError, type RemoteOptions } from './connection.js'
import { Federation } from './federation.js'
import type { LocalBroker } from './local.js'
import { Shovel } from './shovel.js'

export { RemoteConnection, RemoteError, publicUrl, type RemoteOptions } from './connection.js'
export { DirectBroker } from './direct.js'
export type { LocalBroker, LocalConsumer, LocalPublish } from './local.js'

export interface RemotesConfig {
  /** Remote RabbitMQ brokers by name. */
  readonly remotes: Readonly<Record<string, RemoteOptions>>
  readonly shovels?: readonly ShovelSpec[]
  readonly federations?: readonly FederationSpec[]
}

interface Counters {
  in: number
  out: number
  sampledIn: number
  sampledOut: number
  inRate: number
  outRate: number
}

/** How often rates are sampled (ms). */
const SAMPLE_MS = 1000
/** Status notices are coalesced to at most one per this many ms. */
const NOTIFY_MS = 100

export class Remotes {
  readonly #connections = new Map<string, RemoteConnection>()
  readonly #counters = new Map<string, Counters>()
  readonly #links = new Map<string, Shovel | Federation>()
  readonly #local: LocalBroker
  readonly #onStatus: (remotes: RemoteStatus[]) => void
  #notifyTimer: ReturnType<typeof setTimeout> | undefined
  #sampler: ReturnType<typeof setInterval> | undefined
  #stopped = false

  constructor(config: RemotesConfig, local: LocalBroker, onStatus: (remotes: RemoteStatus[]) => void) {
    this.#local = local
    this.#onStatus = onStatus
    for (const [name, options] of Object.entries(config.remotes)) {
      if (typeof options?.url !== 'string' || !/^wss?:\/\//.test(options.url))
        throw new RemoteError('INVALID_ARGUMENT', `remote '${name}': url must be a ws:// or wss:// URL`)
      this.#connections.set(name, new RemoteConnection(name, options, () => this.#changed()))
      this.#counters.set(name, { in: 0, out: 0, sampledIn: 0, sampledOut: 0, inRate: 0, outRate: 0 })
    }
    for (const spec of config.shovels ?? []) this.#add(this.#shovel(spec))
    for (const spec of config.federations ?? []) this.#add(this.#federation(spec))
  }

  start(): void {
    for (const connection of this.#connections.values()) connection.start()
    for (const link of this.#links.values()) link.start()
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS)
    this.#changed()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#sampler)
    clearTimeout(this.#notifyTimer)
    await Promise.all([...this.#links.values()].map((link) => link.stop()))
    await Promise.all([...this.#connections.values()].map((c) => c.stop()))
  }

  connection(name: string): RemoteConnection | undefined {
    return this.#connections.get(name)
  }

  /** [remote] The configured remote a direct connection to `options` shares, if any. */
  serving(options: RemoteOptions): RemoteConnection | undefined {
    return [...this.#connections.values()].find((c) => c.serves(options))
  }

  /** Declares (or replaces) a shovel; a failed one declared again starts afresh. */
  async declareShovel(spec: ShovelSpec): Promise<void> {
    const link = this.#shovel(spec)
    await this.deleteLink(spec.name)
    this.#add(link)
    link.start()
    this.#changed()
  }

  async declareFederation(spec: FederationSpec): Promise<void> {
    const link = this.#federation(spec)
    await this.deleteLink(spec.name)
    this.#add(link)
    link.start()
    this.#changed()
  }

  /** Removes a link (its unconfirmed messages stay where they were). */
  async deleteLink(name: string): Promise<boolean> {
    const link = this.#links.get(name)
    if (!link) return false
    this.#links.delete(name)
    await link.stop()
    this.#changed()
    return true
  }

  status(): RemoteStatus[] {
    return [...this.#connections.values()].map((c) => {
      const counters = this.#counters.get(c.name)!
      return {
        name: c.name, url: c.url, vhost: c.vhost, state: c.state,
        ...(c.lastError ? { lastError: c.lastError } : {}),
        ...(c.retryAt !== undefined && c.state !== 'open' ? { retryAt: c.retryAt } : {}),
        attempts: c.attempts,
        in: counters.in, out: counters.out, inRate: counters.inRate, outRate: counters.outRate,
        links: [...this.#links.values()].filter((l) => l.spec.remote === c.name).map((l) => l.status()),
      }
    })
  }

  #remote(kind: string, spec: { name: string; remote: string }): RemoteConnection {
    const connection = this.#connections.get(spec.remote)
    if (!connection) throw new RemoteError('NOT_FOUND', `${kind} '${spec.name}': no remote '${spec.remote}' is configured`)
    return connection
  }

  #shovel(spec: ShovelSpec): Shovel {
    const problem = shovelSpecProblem(spec)
    if (problem) throw new RemoteError('INVALID_ARGUMENT', problem)
    const counters = this.#counters.get(spec.remote)
    return new Shovel(copyShovelSpec(spec), this.#remote('shovel', spec), this.#local, () => this.#changed(), () => {
      if (counters) counters.out++
    })
  }

  #federation(spec: FederationSpec): Federation {
    const problem = federationSpecProblem(spec)
    if (problem) throw new RemoteError('INVALID_ARGUMENT', problem)
    const counters = this.#counters.get(spec.remote)
    return new Federation(copyFederationSpec(spec), this.#remote('federation', spec), this.#local, () => this.#changed(), () => {
      if (counters) counters.in++
    })
  }

  #add(link: Shovel | Federation): void {
    if (this.#links.has(link.spec.name)) throw new RemoteError('PRECONDITION_FAILED', `two links are named '${link.spec.name}'`)
    this.#links.set(link.spec.name, link)
  }

  #sample(): void {
    let moved = false
    for (const c of this.#counters.values()) {
      const dIn = c.in - c.sampledIn
      const dOut = c.out - c.sampledOut
      moved ||= dIn !== 0 || dOut !== 0 || c.inRate !== 0 || c.outRate !== 0
      c.inRate = (dIn * 1000) / SAMPLE_MS
      c.outRate = (dOut * 1000) / SAMPLE_MS
      c.sampledIn = c.in
      c.sampledOut = c.out
    }
    if (moved) this.#changed()
  }

  #changed(): void {
    if (this.#stopped || this.#notifyTimer !== undefined) return
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = undefined
      this.#onStatus(this.status())
    }, NOTIFY_MS)
  }
}
