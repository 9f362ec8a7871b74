// The accounting checker on hand-made histories, and a fast-check property: a simulated
// at-least-once queue (crashing consumers, retried publishes) always balances, and dropping
// one confirmed message or one redelivered flag from its history is always caught.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { check, type HistoryEvent } from './checker.js'

const attempt = (id: string, n = 0): HistoryEvent => ({ type: 'publish-attempt', id, attempt: n })
const confirmed = (id: string, n = 0): HistoryEvent => ({ type: 'publish-confirmed', id, attempt: n })
const failed = (id: string, n = 0, code = 'CONNECTION_CLOSED'): HistoryEvent => ({ type: 'publish-failed', id, attempt: n, code })
const delivered = (id: string, redelivered = false, n = 0, queue = 'q'): HistoryEvent => ({ type: 'delivered', id, attempt: n, redelivered, consumer: 'c', queue })
const acked = (id: string, n = 0, queue = 'q'): HistoryEvent => ({ type: 'acked', id, attempt: n, consumer: 'c', queue })
const drained = (id: string, redelivered: boolean, n = 0, queue = 'q'): HistoryEvent => ({ type: 'final-drain', id, attempt: n, redelivered, queue })

describe('checker', () => {
  it('a clean run balances', () => {
    const r = check([attempt('a'), confirmed('a'), delivered('a'), acked('a'), attempt('b'), confirmed('b'), delivered('b'), acked('b')])
    expect(r).toMatchObject({ attempted: 2, attempts: 2, confirmed: 2, acked: 2, lost: 0, duplicatedFlagged: 0, duplicatedUnflagged: 0, unexpected: 0, recovered: 0, ok: true })
  })

  it('a confirmed message never acked, dead-lettered or drained is lost', () => {
    const r = check([attempt('a'), confirmed('a'), attempt('b'), confirmed('b'), delivered('b')])
    expect(r.lost).toBe(2)
    expect(r.samples.lost).toEqual(['a', 'b'])
    expect(r.ok).toBe(false)
  })

  it('a message still queued at the end is accounted for by the final drain', () => {
    const r = check([attempt('a'), confirmed('a'), delivered('a'), drained('a', true)])
    expect(r).toMatchObject({ lost: 0, drained: 1, duplicatedFlagged: 1, duplicatedUnflagged: 0, redeliveries: 1, ok: true })
  })

  it('a redelivery without the flag is an unflagged duplicate, whichever sighting came first', () => {
    expect(check([attempt('a'), confirmed('a'), delivered('a'), delivered('a', false), acked('a')])).toMatchObject({ duplicatedUnflagged: 1, ok: false })
    // Flagged (a recovered message) first, then unflagged: still a violation.
    const r = check([attempt('a'), confirmed('a'), delivered('a', true), delivered('a', false), acked('a')])
    expect(r.duplicatedUnflagged).toBe(1)
    expect(r.samples.duplicatedUnflagged).toEqual(['a'])
  })

  it('a message processed twice, the second time flagged, is a flagged duplicate acked twice', () => {
    const r = check([attempt('a'), confirmed('a'), delivered('a'), acked('a'), delivered('a', true), acked('a')])
    expect(r).toMatchObject({ duplicatedFlagged: 1, duplicatedUnflagged: 0, ackedTwice: 1, acked: 1, ok: true })
  })

  it('acked or delivered without ever being attempted is unexpected', () => {
    const r = check([attempt('a'), confirmed('a'), delivered('a'), acked('a'), delivered('ghost'), acked('ghost'), acked('a', 7)])
    expect(r.unexpected).toBe(2)
    expect(r.samples.unexpected.sort()).toEqual(['a', 'ghost'])
    expect(r.ok).toBe(false)
  })

  it('an unconfirmed message that shows up is recovered, and one that never does is fine', () => {
    const r = check([attempt('a'), failed('a'), delivered('a'), acked('a'), attempt('b'), failed('b')])
    expect(r).toMatchObject({ confirmed: 0, unconfirmed: 2, recovered: 1, lost: 0, ok: true })
  })

  it('judges duplicates per id across publish attempts: a retry stored again must be flagged', () => {
    // The original reached a consumer before its write committed; the broker died before the
    // confirm and the retry was stored and delivered again, unflagged (issue 17, finding 4).
    const retriedUnflagged = check([
      attempt('a', 1), delivered('a', false, 1), failed('a', 1),
      attempt('a', 2), confirmed('a', 2), delivered('a', false, 2), acked('a', 2),
    ])
    expect(retriedUnflagged).toMatchObject({ duplicatedUnflagged: 1, republished: 1, ok: false })
    expect(retriedUnflagged.samples.duplicatedUnflagged).toEqual(['a'])
    // The same retry delivered flagged: a flagged duplicate, as the broker now marks it.
    const r = check([
      attempt('a', 1), failed('a', 1),
      attempt('a', 2), confirmed('a', 2),
      delivered('a', false, 1), acked('a', 1),
      delivered('a', true, 2), acked('a', 2),
    ])
    expect(r).toMatchObject({ republished: 1, duplicatedFlagged: 1, duplicatedUnflagged: 0, ackedTwice: 1, lost: 0, ok: true })
  })

  it('counts the retries the broker deduplicated', () => {
    const r = check([
      attempt('a', 1), failed('a', 1),
      attempt('a', 2), { type: 'publish-confirmed', id: 'a', attempt: 2, duplicate: true },
      delivered('a', false, 1), acked('a', 1),
    ])
    expect(r).toMatchObject({ deduplicated: 1, retried: 1, republished: 0, duplicatedFlagged: 0, ok: true })
  })

  it("does not order two consumers' sightings by their own clocks; one unflagged sighting per id and queue", () => {
    const by = (e: HistoryEvent, consumer: string, at: number) => ({ ...e, consumer, at }) as HistoryEvent
    // A lagging consumer logged its first, unflagged delivery after another consumer logged the
    // flagged redelivery (a forged goodbye in its name requeued what it held): fine.
    const lagging = check([attempt('a'), confirmed('a'), by(delivered('a', true), 'fast', 10), by(delivered('a', false), 'slow', 20), acked('a')])
    expect(lagging).toMatchObject({ duplicatedFlagged: 1, duplicatedUnflagged: 0, ok: true })
    // Two unflagged sightings in one queue are a violation whoever saw them.
    expect(check([attempt('a'), confirmed('a'), by(delivered('a', false), 'x', 10), by(delivered('a', false), 'y', 5), acked('a')])).toMatchObject({ duplicatedUnflagged: 1 })
    // The same consumer orders its sightings by its own clock: flagged, then unflagged is caught.
    expect(check([attempt('a'), confirmed('a'), by(delivered('a', true), 'x', 10), by(delivered('a', false), 'x', 20), acked('a')])).toMatchObject({ duplicatedUnflagged: 1 })
    // The final drain comes after every delivery.
    expect(check([attempt('a'), confirmed('a'), by(delivered('a', true), 'x', 10), drained('a', false)])).toMatchObject({ duplicatedUnflagged: 1 })
    // A later broker epoch comes after an earlier one, across consumers.
    const epoch = (e: HistoryEvent, n: number) => ({ ...e, epoch: n }) as HistoryEvent
    expect(check([attempt('a'), confirmed('a'), epoch(by(delivered('a', true), 'x', 10), 1), epoch(by(delivered('a', false), 'y', 5), 2), acked('a')])).toMatchObject({ duplicatedUnflagged: 1 })
    expect(check([attempt('a'), confirmed('a'), epoch(by(delivered('a', false), 'x', 50), 1), epoch(by(delivered('a', true), 'y', 5), 2), acked('a')])).toMatchObject({ duplicatedUnflagged: 0 })
    // One unflagged sighting in each of two queues is two copies, both fine.
    expect(check([attempt('a'), confirmed('a'), delivered('a', false, 0, 'q1'), delivered('a', false, 0, 'q2'), acked('a', 0, 'q1'), acked('a', 0, 'q2')])).toMatchObject({ duplicatedUnflagged: 0, ok: true })
  })

  it('dead-lettered messages are accounted for with their reason; the dead-letter queue is a queue of its own', () => {
    const r = check([
      attempt('a'), confirmed('a'), delivered('a'),
      { type: 'dead-lettered', id: 'a', attempt: 0, reason: 'rejected', redelivered: false, queue: 'dlq' },
      attempt('b'), confirmed('b'),
      { type: 'dead-lettered', id: 'b', attempt: 0, reason: 'expired', queue: 'dlq' },
      { type: 'dead-lettered', id: 'b', attempt: 0, reason: 'expired', redelivered: true, queue: 'dlq' },
    ])
    expect(r).toMatchObject({ lost: 0, deadLettered: 2, deadLetteredTwice: 1, duplicatedFlagged: 0, duplicatedUnflagged: 0, reasons: { rejected: 1, expired: 2 }, ok: true })
  })

  it('sightings are judged in timestamp order, not in the order they reached the harness', () => {
    const at = (e: HistoryEvent, t: number) => ({ ...e, at: t }) as HistoryEvent
    // The redelivery's log overtook the first delivery's: still fine.
    expect(check([attempt('a'), confirmed('a'), at(delivered('a', true), 20), at(delivered('a', false), 10), acked('a')])).toMatchObject({ duplicatedFlagged: 1, duplicatedUnflagged: 0 })
    // An unflagged sighting after a flagged one in time is a violation whatever the arrival order.
    expect(check([attempt('a'), confirmed('a'), at(delivered('a', false), 20), at(delivered('a', true), 10), acked('a')])).toMatchObject({ duplicatedUnflagged: 1 })
  })

  it('attempt defaults to 0 and queue to one unnamed queue', () => {
    const r = check([
      { type: 'publish-attempt', id: 'a' },
      { type: 'publish-confirmed', id: 'a' },
      { type: 'delivered', id: 'a', redelivered: false, consumer: 'x' },
      { type: 'final-drain', id: 'a', redelivered: false },
    ])
    expect(r).toMatchObject({ lost: 0, unexpected: 0, duplicatedUnflagged: 1 })
  })

  it('property: a simulated at-least-once queue balances in any interleaving of its consumers; dropping a confirmed message or a flag is caught', () => {
    // Commands for a tiny model broker with two consumers: publish (ok; confirm lost while the
    // broker holds it, so the retry is deduplicated; or delivered before its write and lost with
    // a restart, so the retry is stored again and flagged), deliver, ack, consumer crash
    // (requeue flagged), broker restart (everything flagged).
    const command = fc.oneof(
      fc.record({ op: fc.constant('publish' as const), outcome: fc.constantFrom('ok' as const, 'confirm-lost' as const, 'lost-with-broker' as const) }),
      fc.record({ op: fc.constant('deliver' as const), consumer: fc.constantFrom('c1', 'c2') }),
      fc.record({ op: fc.constant('ack' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('crash' as const), consumer: fc.constantFrom('c1', 'c2') }),
      fc.record({ op: fc.constant('restart' as const) }),
    )
    type Held = { id: string; attempt: number; redelivered: boolean }
    type Command = { op: string; outcome?: string; consumer?: string; pick?: number }
    const simulate = (commands: Command[]) => {
      // The producer's events, and each consumer's own log (its clock is its position).
      const producer: HistoryEvent[] = []
      const logs: Record<string, HistoryEvent[]> = { c1: [], c2: [] }
      let queue: Held[] = []
      let unacked: Array<Held & { consumer: string }> = []
      let next = 0
      const see = (consumer: string, m: Held) => {
        const log = logs[consumer]!
        log.push({ type: 'delivered', id: m.id, attempt: m.attempt, redelivered: m.redelivered, consumer, queue: 'q', at: log.length })
      }
      const restart = () => {
        queue = [...unacked, ...queue].map((m) => ({ id: m.id, attempt: m.attempt, redelivered: true }))
        unacked = []
      }
      for (const c of commands) {
        if (c.op === 'publish') {
          const id = `m${next++}`
          producer.push(attempt(id, 1))
          if (c.outcome === 'ok') {
            producer.push(confirmed(id, 1))
            queue.push({ id, attempt: 1, redelivered: false })
          } else if (c.outcome === 'confirm-lost') {
            queue.push({ id, attempt: 1, redelivered: false })
            producer.push(failed(id, 1), attempt(id, 2), { type: 'publish-confirmed', id, attempt: 2, duplicate: true })
          } else {
            // Seen by c1 before its write committed, then gone with the broker.
            see('c1', { id, attempt: 1, redelivered: false })
            restart()
            producer.push(failed(id, 1), attempt(id, 2), confirmed(id, 2))
            queue.push({ id, attempt: 2, redelivered: true })
          }
        } else if (c.op === 'deliver') {
          const m = queue.shift()
          if (m) {
            see(c.consumer!, m)
            unacked.push({ ...m, consumer: c.consumer! })
          }
        } else if (c.op === 'ack') {
          if (unacked.length > 0) {
            const [m] = unacked.splice((c.pick ?? 0) % unacked.length, 1)
            logs[m!.consumer]!.push({ type: 'acked', id: m!.id, attempt: m!.attempt, consumer: m!.consumer, queue: 'q' })
          }
        } else if (c.op === 'crash') {
          const back = unacked.filter((m) => m.consumer === c.consumer).map((m) => ({ id: m.id, attempt: m.attempt, redelivered: true }))
          unacked = unacked.filter((m) => m.consumer !== c.consumer)
          queue = [...back, ...queue]
        } else restart()
      }
      const drain = [...unacked.map((u) => ({ ...u, redelivered: true })), ...queue].map((m) => drained(m.id, m.redelivered, m.attempt))
      return { producer, logs, drain }
    }
    /** The consumers' logs merged as they might reach the harness: each in its own order, interleaved at random. */
    const interleave = (logs: Record<string, HistoryEvent[]>, picks: number[]) => {
      const queues = Object.values(logs).map((log) => [...log])
      const merged: HistoryEvent[] = []
      let i = 0
      for (;;) {
        const open = queues.filter((q) => q.length > 0)
        if (open.length === 0) return merged
        merged.push(open[(picks[i++ % Math.max(1, picks.length)] ?? 0) % open.length]!.shift()!)
      }
    }
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), fc.array(fc.nat(), { maxLength: 40 }), fc.nat(), (commands, picks, pick) => {
        const { producer, logs, drain } = simulate(commands)
        const history = [...producer, ...interleave(logs, picks), ...drain]
        const result = check(history)
        expect(result).toMatchObject({ lost: 0, duplicatedUnflagged: 0, unexpected: 0, ok: true })
        expect(result.deduplicated).toBe(commands.filter((c) => 'outcome' in c && c.outcome === 'confirm-lost').length)
        // Drop every sighting of one confirmed id: it is lost.
        const ids = [...new Set(history.filter((e) => e.type === 'publish-confirmed').map((e) => e.id))]
        if (ids.length > 0) {
          const victim = ids[pick % ids.length]!
          const dropped = history.filter((e) => !(e.id === victim && (e.type === 'acked' || e.type === 'final-drain')))
          expect(check(dropped).lost).toBe(1)
        }
        // Clear the flag of a redelivery the history orders after another sighting of its id
        // (same consumer, or the final drain), or of one whose id was also seen unflagged.
        const sightings = history.filter((e) => e.type === 'delivered' || e.type === 'final-drain')
        const by = (e: HistoryEvent) => (e.type === 'delivered' ? e.consumer : 'drain')
        const flagged = history.findIndex((e) => {
          if ((e.type !== 'delivered' && e.type !== 'final-drain') || !e.redelivered) return false
          const mine = sightings.indexOf(e)
          return sightings.some((p, j) => p !== e && p.id === e.id && (!('redelivered' in p) || !p.redelivered || (j < mine && (by(p) === by(e) || e.type === 'final-drain'))))
        })
        if (flagged >= 0) {
          const tampered = history.map((e, i) => (i === flagged ? { ...e, redelivered: false } : e)) as HistoryEvent[]
          expect(check(tampered).duplicatedUnflagged).toBe(1)
        }
      }),
      { numRuns: 300 },
    )
  })
})
