/**
 * The accounting checker of reliability runs, after Jepsen's total-queue checker as
 * RabbitMQ's own Jepsen tests use it: every message whose publish was confirmed must end up
 * acked by the application, dead-lettered (with a reason), or found in the final drain.
 *
 * A message is identified by the application's `id`. Duplicates are judged per id and per
 * queue, across publish attempts: a retried publish is the same message to the application,
 * so a copy stored again by a retry must reach consumers flagged `redelivered` just like a
 * requeued one. Within one queue, at most one sighting of an id may be unflagged, and no
 * unflagged sighting may come after another sighting of that id where the history orders
 * them: sightings by the same consumer (by its own clock, `at`, else history order), the final
 * drain after every delivery, and a later broker epoch after an earlier one. Sightings by
 * different consumers are not ordered by their `at`: each context has its own clock and pipe
 * to the harness, and a lagging consumer may log its first, unflagged delivery after another
 * consumer logged the flagged redelivery. A message dead-lettered twice (redelivered in its
 * queue after the first dead-lettering was lost with a restart, and rejected again) is a new
 * message in the dead-letter queue each time, so dead-letter sightings are counted, not judged.
 * Publish attempts of one id (`attempt`) are counted apart: `republished` ids reached consumers
 * through more than one attempt, `deduplicated` retries the broker confirmed without storing.
 *
 * Pure TypeScript: it runs in Node on histories collected from the browser.
 */

export type HistoryEvent =
  | { type: 'publish-attempt'; id: string; attempt?: number; producer?: string }
  /**
   * `retried`: confirmed after at least one retry (the client's own, or a new attempt);
   * `duplicate`: the broker already held this id and confirmed the retry without storing it.
   */
  | { type: 'publish-confirmed'; id: string; attempt?: number; retried?: boolean; duplicate?: boolean }
  | { type: 'publish-failed'; id: string; attempt?: number; code?: string }
  | { type: 'delivered'; id: string; attempt?: number; redelivered: boolean; consumer: string; queue?: string; at?: number; epoch?: number }
  | { type: 'acked'; id: string; attempt?: number; consumer: string; queue?: string }
  | { type: 'dead-lettered'; id: string; attempt?: number; reason: string; redelivered?: boolean; consumer?: string; queue?: string; at?: number }
  | { type: 'final-drain'; id: string; attempt?: number; redelivered: boolean; queue?: string; at?: number; epoch?: number }

export interface CheckResult {
  /** Distinct ids the application tried to publish, and publish attempts in all. */
  attempted: number
  attempts: number
  /** Ids with at least one confirmed attempt. */
  confirmed: number
  /** Ids all of whose attempts failed (nacked, timed out or lost with the connection). */
  unconfirmed: number
  /** Ids acked, dead-lettered, or left over for the final drain (one id may be in several). */
  acked: number
  deadLettered: number
  drained: number
  /** Confirmed, but never acked, dead-lettered or drained. Must be 0. */
  lost: number
  /** Ids seen more than once in a queue, every later sighting flagged redelivered. */
  duplicatedFlagged: number
  /** Ids seen again without the redelivered flag (in any attempt). Must be 0. */
  duplicatedUnflagged: number
  /** Ids acked more than once (processed twice; a subset of the duplicates). */
  ackedTwice: number
  /** Ids seen more than once in the dead-letter queue (informational). */
  deadLetteredTwice: number
  /** Ids that reached consumers through more than one publish attempt (stored again by a retry). */
  republished: number
  /** Ids confirmed after at least one retry. */
  retried: number
  /** Retries the broker recognised and confirmed without storing the message again. */
  deduplicated: number
  /** Seen (delivered, acked, dead-lettered, drained) but never attempted. */
  unexpected: number
  /** Never confirmed, but seen: the broker kept a message whose outcome the publisher did not learn. */
  recovered: number
  /** Sightings with the redelivered flag set. */
  redeliveries: number
  /** Dead-lettering reasons and how many copies had each. */
  reasons: Record<string, number>
  /** Up to `sample` ids of each violation, for the report. */
  samples: { lost: string[]; duplicatedUnflagged: string[]; unexpected: string[] }
  /** lost === 0 && duplicatedUnflagged === 0 && unexpected === 0 */
  ok: boolean
}

interface Sighting {
  redelivered: boolean
  /** Who saw it: a consumer, or the final drain (after every delivery). */
  by: string
  drain: boolean
  at: number
  epoch: number | undefined
  order: number
}

interface Copies {
  /** Per queue: the id's sightings (deliveries and the final drain), from every attempt. */
  sightings: Map<string, Sighting[]>
  /** Sightings in the dead-letter queue. */
  dead: number
  acks: number
}

const copyKey = (id: string, attempt: number | undefined): string => `${id}#${attempt ?? 0}`

/** True when the history orders sighting `a` before sighting `b`. */
function before(a: Sighting, b: Sighting): boolean {
  if (a.epoch !== undefined && b.epoch !== undefined && a.epoch !== b.epoch) return a.epoch < b.epoch
  if (a.drain !== b.drain) return b.drain
  if (a.by !== b.by) return false
  return a.at < b.at || (a.at === b.at && a.order < b.order)
}

/** At most one unflagged sighting, and none that the history orders after another sighting. */
function unflaggedAgain(list: Sighting[]): boolean {
  let unflagged = 0
  for (const s of list) {
    if (s.redelivered) continue
    if (++unflagged > 1) return true
    if (list.some((other) => other !== s && before(other, s))) return true
  }
  return false
}

export function check(history: Iterable<HistoryEvent>, options: { sample?: number } = {}): CheckResult {
  const sample = options.sample ?? 10
  const attemptedIds = new Set<string>()
  const attemptedCopies = new Set<string>()
  let attempts = 0
  let deduplicated = 0
  let retried = 0
  const confirmedIds = new Set<string>()
  const ackedIds = new Set<string>()
  const deadIds = new Set<string>()
  const drainedIds = new Set<string>()
  const seenIds = new Set<string>()
  /** id → the attempts of it that were seen */
  const seenAttempts = new Map<string, Set<number>>()
  const copies = new Map<string, Copies>()
  const unexpectedIds = new Set<string>()
  const reasons: Record<string, number> = {}
  let redeliveries = 0

  const copiesOf = (id: string): Copies => {
    let entry = copies.get(id)
    if (!entry) {
      entry = { sightings: new Map(), dead: 0, acks: 0 }
      copies.set(id, entry)
    }
    return entry
  }
  const seen = (id: string, attempt: number | undefined) => {
    seenIds.add(id)
    let set = seenAttempts.get(id)
    if (!set) seenAttempts.set(id, (set = new Set()))
    set.add(attempt ?? 0)
    if (!attemptedCopies.has(copyKey(id, attempt))) unexpectedIds.add(id)
  }
  let order = 0
  const sighting = (
    event: { id: string; attempt?: number; queue?: string; redelivered: boolean; at?: number; epoch?: number },
    by: string,
    drain: boolean,
  ) => {
    seen(event.id, event.attempt)
    if (event.redelivered) redeliveries++
    const entry = copiesOf(event.id)
    const q = event.queue ?? ''
    const s: Sighting = { redelivered: event.redelivered, by, drain, at: event.at ?? -Infinity, epoch: event.epoch, order: order++ }
    const list = entry.sightings.get(q)
    if (list) list.push(s)
    else entry.sightings.set(q, [s])
  }

  for (const event of history) {
    switch (event.type) {
      case 'publish-attempt':
        attempts++
        attemptedIds.add(event.id)
        attemptedCopies.add(copyKey(event.id, event.attempt))
        break
      case 'publish-confirmed':
        confirmedIds.add(event.id)
        if (event.duplicate) deduplicated++
        if (event.retried || (event.attempt ?? 1) > 1) retried++
        break
      case 'publish-failed':
        break
      case 'delivered':
        sighting(event, `consumer:${event.consumer}`, false)
        break
      case 'acked':
        seen(event.id, event.attempt)
        ackedIds.add(event.id)
        copiesOf(event.id).acks++
        break
      case 'dead-lettered':
        seen(event.id, event.attempt)
        if (event.redelivered) redeliveries++
        copiesOf(event.id).dead++
        deadIds.add(event.id)
        reasons[event.reason] = (reasons[event.reason] ?? 0) + 1
        break
      case 'final-drain':
        sighting(event, 'drain', true)
        drainedIds.add(event.id)
        break
    }
  }

  const lostIds: string[] = []
  for (const id of confirmedIds) if (!ackedIds.has(id) && !deadIds.has(id) && !drainedIds.has(id)) lostIds.push(id)

  let duplicatedFlagged = 0
  let ackedTwice = 0
  let deadLetteredTwice = 0
  const unflagged: string[] = []
  for (const [id, entry] of copies) {
    if (entry.acks > 1) ackedTwice++
    if (entry.dead > 1) deadLetteredTwice++
    let more = false
    let bad = false
    for (const list of entry.sightings.values()) {
      if (list.length < 2) continue
      more = true
      if (unflaggedAgain(list)) bad = true
    }
    if (bad) unflagged.push(id)
    else if (more) duplicatedFlagged++
  }
  let republished = 0
  for (const set of seenAttempts.values()) if (set.size > 1) republished++

  let recovered = 0
  for (const id of seenIds) if (attemptedIds.has(id) && !confirmedIds.has(id)) recovered++

  let unconfirmed = 0
  for (const id of attemptedIds) if (!confirmedIds.has(id)) unconfirmed++

  const lost = lostIds.length
  const unexpected = unexpectedIds.size
  return {
    attempted: attemptedIds.size,
    attempts,
    confirmed: confirmedIds.size,
    unconfirmed,
    acked: ackedIds.size,
    deadLettered: deadIds.size,
    drained: drainedIds.size,
    lost,
    duplicatedFlagged,
    duplicatedUnflagged: unflagged.length,
    ackedTwice,
    deadLetteredTwice,
    republished,
    retried,
    deduplicated,
    unexpected,
    recovered,
    redeliveries,
    reasons,
    samples: {
      lost: lostIds.slice(0, sample),
      duplicatedUnflagged: unflagged.slice(0, sample),
      unexpected: [...unexpectedIds].slice(0, sample),
    },
    ok: lost === 0 && unflagged.length === 0 && unexpected === 0,
  }
}
