/**
 * The accounting checker of reliability runs, after Jepsen's total-queue checker as
 * RabbitMQ's own Jepsen tests use it: every message whose publish was confirmed must end up
 * acked by the application, dead-lettered (with a reason), or found in the final drain.
 *
 * A message is identified by the application's `id`; each publish attempt of it (a retry
 * after an unknown outcome is a new attempt) is a separate copy in the broker, `id#attempt`.
 * Duplicates are judged per copy and per queue: a copy seen more than once in one queue must
 * carry `redelivered: true` on every sighting after the first. Sightings are ordered by their
 * `at` timestamp when they have one (consumers in different contexts log through different
 * pipes, so arrival order at the harness is not delivery order), else by history order.
 * Copies of one id from several attempts are the publisher's own duplicates (at-least-once
 * publishing), counted apart. A message dead-lettered twice (redelivered in its queue after
 * the first dead-lettering was lost with a restart, and rejected again) is a new message in
 * the dead-letter queue each time, so dead-letter sightings are counted, not judged.
 *
 * Pure TypeScript: it runs in Node on histories collected from the browser.
 */

export type HistoryEvent =
  | { type: 'publish-attempt'; id: string; attempt?: number; producer?: string }
  | { type: 'publish-confirmed'; id: string; attempt?: number }
  | { type: 'publish-failed'; id: string; attempt?: number; code?: string }
  | { type: 'delivered'; id: string; attempt?: number; redelivered: boolean; consumer: string; queue?: string; at?: number }
  | { type: 'acked'; id: string; attempt?: number; consumer: string; queue?: string }
  | { type: 'dead-lettered'; id: string; attempt?: number; reason: string; redelivered?: boolean; consumer?: string; queue?: string; at?: number }
  | { type: 'final-drain'; id: string; attempt?: number; redelivered: boolean; queue?: string; at?: number }

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
  /** Copies seen more than once in a queue, every later sighting flagged redelivered. */
  duplicatedFlagged: number
  /** Copies seen again without the redelivered flag. Must be 0. */
  duplicatedUnflagged: number
  /** Copies acked more than once (processed twice; a subset of the duplicates). */
  ackedTwice: number
  /** Copies seen more than once in the dead-letter queue (informational). */
  deadLetteredTwice: number
  /** Ids that reached consumers through more than one publish attempt (publisher retries). */
  republished: number
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
  at: number
  order: number
}

interface Copy {
  /** Per queue: its sightings (deliveries and the final drain). */
  sightings: Map<string, Sighting[]>
  /** Sightings in the dead-letter queue. */
  dead: number
  acks: number
}

const copyKey = (id: string, attempt: number | undefined): string => `${id}#${attempt ?? 0}`

export function check(history: Iterable<HistoryEvent>, options: { sample?: number } = {}): CheckResult {
  const sample = options.sample ?? 10
  const attemptedIds = new Set<string>()
  const attemptedCopies = new Set<string>()
  let attempts = 0
  const confirmedIds = new Set<string>()
  const ackedIds = new Set<string>()
  const deadIds = new Set<string>()
  const drainedIds = new Set<string>()
  const seenIds = new Set<string>()
  /** id → the attempts of it that were seen */
  const seenAttempts = new Map<string, Set<number>>()
  const copies = new Map<string, Copy>()
  const unexpectedIds = new Set<string>()
  const reasons: Record<string, number> = {}
  let redeliveries = 0

  const copyOf = (id: string, attempt: number | undefined): Copy => {
    const key = copyKey(id, attempt)
    let copy = copies.get(key)
    if (!copy) {
      copy = { sightings: new Map(), dead: 0, acks: 0 }
      copies.set(key, copy)
    }
    return copy
  }
  const seen = (id: string, attempt: number | undefined) => {
    seenIds.add(id)
    let set = seenAttempts.get(id)
    if (!set) seenAttempts.set(id, (set = new Set()))
    set.add(attempt ?? 0)
    if (!attemptedCopies.has(copyKey(id, attempt))) unexpectedIds.add(id)
  }
  let order = 0
  const sighting = (id: string, attempt: number | undefined, queue: string | undefined, redelivered: boolean, at: number | undefined) => {
    seen(id, attempt)
    if (redelivered) redeliveries++
    const copy = copyOf(id, attempt)
    const q = queue ?? ''
    const entry = { redelivered, at: at ?? -Infinity, order: order++ }
    const list = copy.sightings.get(q)
    if (list) list.push(entry)
    else copy.sightings.set(q, [entry])
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
        break
      case 'publish-failed':
        break
      case 'delivered':
        sighting(event.id, event.attempt, event.queue, event.redelivered, event.at)
        break
      case 'acked':
        seen(event.id, event.attempt)
        ackedIds.add(event.id)
        copyOf(event.id, event.attempt).acks++
        break
      case 'dead-lettered':
        seen(event.id, event.attempt)
        if (event.redelivered) redeliveries++
        copyOf(event.id, event.attempt).dead++
        deadIds.add(event.id)
        reasons[event.reason] = (reasons[event.reason] ?? 0) + 1
        break
      case 'final-drain':
        sighting(event.id, event.attempt, event.queue, event.redelivered, event.at)
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
  const byTime = (x: Sighting, y: Sighting) => x.at - y.at || x.order - y.order
  for (const [key, copy] of copies) {
    if (copy.acks > 1) ackedTwice++
    if (copy.dead > 1) deadLetteredTwice++
    let more = false
    let bad = false
    for (const list of copy.sightings.values()) {
      if (list.length < 2) continue
      more = true
      list.sort(byTime)
      for (let i = 1; i < list.length; i++) if (!list[i]!.redelivered) bad = true
    }
    if (bad) unflagged.push(key)
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
