/**
 * What a shovel and a federation share: the wiring they are given, their state and counters
 * as the console shows them, and when a remote error means the link itself is wrong.
 */
import type { LinkState, LinkStatus, RemoteError as RemoteErrorData } from '../protocol/remote.js'
import type { RemoteConnection } from './connection.js'
import type { LocalBroker } from './local.js'

/** Codes that name a problem with the link's destination itself: retrying cannot help. */
export const LINK_FATAL = new Set(['NOT_FOUND', 'ACCESS_REFUSED', 'PRECONDITION_FAILED'])

/** Whether RabbitMQ's error text is about `name` (its messages quote the entity: "no exchange 'x'"). */
export const mentions = (error: RemoteErrorData, name: string): boolean => error.message.includes(`'${name}'`)

export abstract class RemoteLink<Spec extends { readonly name: string; readonly remote: string }> {
  protected state: LinkState = 'waiting'
  protected moved = 0
  protected inFlight = 0
  protected lastError: RemoteErrorData | undefined
  /** Bumped whenever the link's subscription or consumer goes: late callbacks of an old one are ignored. */
  protected session = 0
  protected readonly unsubscribe: Array<() => void> = []

  constructor(
    readonly spec: Spec,
    readonly remote: RemoteConnection,
    readonly local: LocalBroker,
    readonly onChange: () => void,
    readonly onMoved: () => void,
  ) {}

  abstract start(): void
  abstract stop(): void | Promise<void>
  abstract status(): LinkStatus

  /** Fails the link when a remote error is fatal and about `entity` (the link's own destination). */
  protected watchErrors(entity: () => string | undefined): void {
    this.unsubscribe.push(
      this.remote.onError((error) => {
        const name = entity()
        if (name !== undefined && mentions(error, name) && LINK_FATAL.has(error.code)) this.fail(error)
      }),
    )
  }

  protected abstract fail(error: RemoteErrorData): void

  /** The status fields both kinds report the same way. */
  protected counters(): Pick<LinkStatus, 'state' | 'moved' | 'inFlight' | 'lastError'> {
    return { state: this.state, moved: this.moved, inFlight: this.inFlight, ...(this.lastError ? { lastError: this.lastError } : {}) }
  }
}
