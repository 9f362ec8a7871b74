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
  /** How long a publish id is remembered, in ms. Default 2 minutes (JetStream's default). 0 turns deduplication off. */
  windowMs?: number
  /** The most ids remembered at once (about 200 bytes each); the oldest go first. Default 20,000. */
  maxEntries?: number
}

export const DEFAULT_DEDUP_WINDOW_MS = 120_000
export const DEFAULT_DEDUP_ENTRIES = 20_000

/** The confirm a duplicate gets: the original's. */
export type Confirm = { routed: boolean }

interface Entry {
  readonly id: string
  readonly at: number
  /** The original's confirm, or the promise of it (a write in flight); kept as a boolean once known. */
  routed: boolean | Promise<Confirm>
  /** The original was nacked: what it left behind may have been delivered, but is not held. */
  failed: boolean
}

/** What the window says about a publish id. */
export type Verdict =
  | { kind: 'duplicate'; confirm: Confirm | Promise<Confirm> }
  /** New to the broker; `maybeSeen`: an earlier attempt may have been delivered (flag the copy). */
  | { kind: 'new'; maybeSeen: boolean }

const UNSEEN: Verdict = { kind: 'new', maybeSeen: false }
const MAYBE_SEEN: Verdict = { kind: 'new', maybeSeen: true }

export class DedupWindow {
  readonly windowMs: number
  readonly maxEntries: number
  /** Set once an id was forgotten: from then on the window cannot prove an id new. */
  #forgotten = false
  readonly #entries = new Map<string, Entry>()
  /**
   * Entries oldest first, from #head on (an id remembered again leaves a stale entry behind).
   * Not the Map's own order: deleting from a Map's front leaves holes its iterators walk over.
   */
  #order: Entry[] = []
  #head = 0

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
    // Pruned on remember only; an entry past the window still says the id was seen.
    const entry = this.#entries.get(id)
    if (entry && !entry.failed && entry.at > now - this.windowMs) {
      const routed = entry.routed
      return { kind: 'duplicate', confirm: typeof routed === 'boolean' ? { routed } : routed.then((c) => ({ routed: c.routed })) }
    }
    const provablyUnseen = retryOf === undefined || (retryOf === brokerId && !this.#forgotten)
    return entry !== undefined || !provablyUnseen ? MAYBE_SEEN : UNSEEN
  }

  /** Remembers a publish the broker took; a nacked one (`failed`, or a rejected confirm) is not held. */
  remember(id: string, now: number, confirm: Confirm | Promise<Confirm>, failed = false): void {
    const pending = confirm instanceof Promise
    const entry: Entry = { id, at: now, routed: pending ? confirm : confirm.routed, failed }
    this.#entries.set(id, entry)
    this.#order.push(entry)
    if (pending)
      confirm.then(
        (c) => {
          entry.routed = c.routed
        },
        () => {
          entry.failed = true
        },
      )
    // Nothing to forget (the usual case, no lookup per publish): the oldest is in the window and
    // neither the ids nor the order over the size. (A stale oldest entry, of an id remembered
    // again, may stop this early: it waits for its turn, within the same bound.)
    const order = this.#order
    const head = order[this.#head]
    if (this.#entries.size <= this.maxEntries && order.length - this.#head <= this.maxEntries && head !== undefined && head.at > now - this.windowMs) return
    this.#prune(now)
  }

  #prune(now: number): void {
    const oldest = now - this.windowMs
    const order = this.#order
    while (this.#head < order.length) {
      const entry = order[this.#head]!
      const live = this.#entries.get(entry.id) === entry
      if (live && this.#entries.size <= this.maxEntries && entry.at > oldest) break
      this.#head++
      if (live) {
        this.#entries.delete(entry.id)
        this.#forgotten = true
      }
    }
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      this.#order = order.slice(this.#head)
      this.#head = 0
    }
  }
}
