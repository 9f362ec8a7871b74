/**
 * Paging must be invisible: random sequences of publishes (persistent and transient), gets,
 * acks, requeues, purges and restarts give exactly the same answers with a window of 3 as
 * with a window no queue ever fills.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { settle, start } from './setup.js'

type Op =
  | { kind: 'publish'; persistent: boolean; count: number }
  | { kind: 'get'; ack: 'none' | 'ack' | 'requeue' | 'hold' }
  | { kind: 'settleHeld'; requeue: boolean }
  | { kind: 'purge' }
  | { kind: 'restart' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('publish' as const), persistent: fc.boolean(), count: fc.integer({ min: 1, max: 12 }) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), ack: fc.constantFrom('none' as const, 'ack' as const, 'requeue' as const, 'hold' as const) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('settleHeld' as const), requeue: fc.boolean() }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'purge' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'restart' as const }), weight: 1 },
)

async function run(ops: Op[], window: number): Promise<unknown[]> {
  const storage = new MemoryStorage()
  let s = await start(storage, { window })
  await s.declare('q')
  const out: unknown[] = []
  let next = 1
  let held: number[] = []
  for (const o of ops) {
    switch (o.kind) {
      case 'publish': {
        const bodies = Array.from({ length: o.count }, () => next++)
        const replies = await s.publishAll('q', bodies, () => (o.persistent ? { deliveryMode: 2 } : {}))
        out.push(replies.map((r) => r.op))
        break
      }
      case 'get': {
        const m = await s.get('q', o.ack === 'none')
        out.push(m && [m.body, m.redelivered])
        if (!m || o.ack === 'none') break
        if (o.ack === 'ack') s.ack(m.deliveryTag)
        else if (o.ack === 'requeue') s.nack(m.deliveryTag, true)
        else held.push(m.deliveryTag)
        break
      }
      case 'settleHeld':
        for (const tag of held) o.requeue ? s.nack(tag, true) : s.ack(tag)
        held = []
        break
      case 'purge':
        out.push(await s.ok({ op: 'queue.purge', queue: 'q' }))
        break
      case 'restart':
        await settle()
        await s.broker.stop()
        s = await start(storage, { window })
        held = []
        break
    }
    out.push(await s.count('q'))
  }
  await settle()
  out.push((await s.takeAll('q')).map((m) => [m.body, m.redelivered]))
  await settle()
  out.push(await storage.countMessages('q'))
  return out
}

describe('paging model', () => {
  test('a window of 3 answers exactly as an unbounded one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        expect(await run(ops, 3)).toEqual(await run(ops, 1_000_000))
      }),
      { numRuns: 150 },
    )
  }, 120_000)
})
