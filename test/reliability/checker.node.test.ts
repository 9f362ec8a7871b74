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
    expect(r.samples.duplicatedUnflagged).toEqual(['a#0'])
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

  it("copies from several publish attempts are the publisher's duplicates, not the broker's", () => {
    const r = check([
      attempt('a', 1), failed('a', 1),
      attempt('a', 2), confirmed('a', 2),
      delivered('a', true, 1), acked('a', 1),
      delivered('a', false, 2), acked('a', 2),
    ])
    expect(r).toMatchObject({ republished: 1, duplicatedFlagged: 0, duplicatedUnflagged: 0, lost: 0, ok: true })
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

  it('property: a simulated at-least-once queue balances; dropping a confirmed message or a flag is caught', () => {
    // Commands for a tiny model broker: publish (maybe confirm lost), deliver to a consumer,
    // ack, consumer crash (requeue flagged), broker restart (everything flagged).
    const command = fc.oneof(
      fc.record({ op: fc.constant('publish' as const), confirmLost: fc.boolean() }),
      fc.record({ op: fc.constant('deliver' as const) }),
      fc.record({ op: fc.constant('ack' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('crash' as const) }),
      fc.record({ op: fc.constant('restart' as const) }),
    )
    const simulate = (commands: Array<{ op: string; confirmLost?: boolean; pick?: number }>) => {
      const history: HistoryEvent[] = []
      let queue: Array<{ id: string; attempt: number; redelivered: boolean }> = []
      let unacked: typeof queue = []
      let next = 0
      for (const c of commands) {
        if (c.op === 'publish') {
          const id = `m${next++}`
          history.push(attempt(id, 1))
          queue.push({ id, attempt: 1, redelivered: false })
          if (c.confirmLost) {
            // Unknown outcome: the publisher retries as attempt 2, which is confirmed.
            history.push(failed(id, 1), attempt(id, 2), confirmed(id, 2))
            queue.push({ id, attempt: 2, redelivered: false })
          } else history.push(confirmed(id, 1))
        } else if (c.op === 'deliver') {
          const m = queue.shift()
          if (m) {
            history.push(delivered(m.id, m.redelivered, m.attempt))
            unacked.push(m)
          }
        } else if (c.op === 'ack') {
          if (unacked.length > 0) {
            const [m] = unacked.splice((c.pick ?? 0) % unacked.length, 1)
            history.push(acked(m!.id, m!.attempt))
          }
        } else if (c.op === 'crash') {
          queue = [...unacked.map((m) => ({ ...m, redelivered: true })), ...queue]
          unacked = []
        } else {
          queue = [...unacked, ...queue].map((m) => ({ ...m, redelivered: true }))
          unacked = []
        }
      }
      for (const m of [...unacked.map((u) => ({ ...u, redelivered: true })), ...queue]) history.push(drained(m.id, m.redelivered, m.attempt))
      return history
    }
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), fc.nat(), (commands, pick) => {
        const history = simulate(commands)
        const result = check(history)
        expect(result).toMatchObject({ lost: 0, duplicatedUnflagged: 0, unexpected: 0, ok: true })
        // Drop every sighting of one confirmed id: it is lost.
        const ids = [...new Set(history.filter((e) => e.type === 'publish-confirmed').map((e) => e.id))]
        if (ids.length > 0) {
          const victim = ids[pick % ids.length]!
          const dropped = history.filter((e) => !(e.id === victim && (e.type === 'acked' || e.type === 'final-drain')))
          expect(check(dropped).lost).toBe(1)
        }
        // Clear the flag of one redelivery: an unflagged duplicate.
        const flagged = history.findIndex((e, i) => (e.type === 'delivered' || e.type === 'final-drain') && e.redelivered &&
          history.slice(0, i).some((p) => (p.type === 'delivered' || p.type === 'final-drain') && p.id === e.id && p.attempt === e.attempt))
        if (flagged >= 0) {
          const tampered = history.map((e, i) => (i === flagged ? { ...e, redelivered: false } : e)) as HistoryEvent[]
          expect(check(tampered).duplicatedUnflagged).toBe(1)
        }
      }),
      { numRuns: 200 },
    )
  })
})
