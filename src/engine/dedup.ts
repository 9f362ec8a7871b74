/**
 * Idempotent publishing, in the spirit of NATS JetStream's `Nats-Msg-Id` duplicate window:
 * the broker remembers the publish ids it took in the last `windowMs` (at most `maxEntries`
 * of them), and a publish whose id it remembers is a retry of a message it already has: it is
 * dropped and confirmed again, with the original's outcome. Held durable messages carry their
 * id into storage, so a restarted broker remembers the ones it recovers.
 *
 * A retry the window cannot place may repeat a message that was delivered and then lost (a
 * persistent message reaches a waiting consumer before its write commits; the broker dies
 * before the confirm). Such a copy is delivered flagged `redelivered` unless the broker can
 * prove the original never arrived: the retry names the broker that got the earlier attempt,
 * and only that same broker, which has forgotten no id since it started, can say "not here".
 */

export interface DedupOptions {
  /** How long a publish id is remembered, in ms. Default 2 minutes (JetStream's default). */
  windowMs?: number
  /** The most ids remembered at once; the oldest go first. Default 100,000. */
  maxEntries?: number
}

export const DEFAULT_DEDUP_WINDOW_MS = 120_000
export const DEFAULT_DEDUP_ENTRIES = 100_000

interface Entry {
  at: number
  /** The original's reply, or the promise of it (a write in flight). */
  outcome: unknown
  /** The original was nacked: what it left behind may have been delivered, but is not held. */
  failed: boolean
}

/** What the window says about a publish id. */
export type Verdict =
  | { kind: 'duplicate'; outcome: unknown }
  /** New to the broker; `maybeSeen`: an earlier attempt may have been delivered (flag the copy). */
  | { kind: 'new'; maybeSeen: boolean }

export class DedupWindow {
  readonly windowMs: number
  readonly maxEntries: number
  /** Set once an id was forgotten: from then on the window cannot prove an id new. */
  #forgotten = false
  /** Insertion order is time order: the oldest entries are at the front. */
  readonly #entries = new Map<string, Entry>()

  constructor(options: DedupOptions = {}) {
    this.windowMs = Math.max(0, options.windowMs ?? DEFAULT_DEDUP_WINDOW_MS)
    this.maxEntries = Math.max(0, Math.floor(options.maxEntries ?? DEFAULT_DEDUP_ENTRIES))
  }

  get size(): number {
    return this.#entries.size
  }

  /**
   * `retryOf`: the publisher's word that an earlier attempt was sent, to the broker with that
   * id ('' when it cannot tell which).
   */
  judge(id: string, retryOf: string | undefined, brokerId: string, now: number): Verdict {
    this.#prune(now)
    const entry = this.#entries.get(id)
    if (entry && !entry.failed) {
      return { kind: 'duplicate', outcome: entry.outcome }
    }
    const provablyUnseen = retryOf === undefined || (retryOf === brokerId && !this.#forgotten)
    return { kind: 'new', maybeSeen: entry !== undefined || !provablyUnseen }
  }

  /** Remembers a publish the broker took (or tried to: a rejected outcome marks it failed). */
  remember(id: string, now: number, outcome: unknown, failed = false): void {
    const entry: Entry = { at: now, outcome, failed }
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    if (outcome instanceof Promise)
      outcome.then(undefined, () => {
        entry.failed = true
      })
    this.#prune(now)
  }

  #prune(now: number): void {
    const oldest = now - this.windowMs
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && entry.at > oldest) break
      this.#entries.delete(id)
      this.#forgotten = true
    }
  }
}
