/**
 * Planning for the common case of a batch: a queue that only gets message.put and
 * message.delete. Then only each seq's LAST op matters, so a batch can:
 *  - drop a message put and acked within the same batch without writing anything;
 *  - turn runs of deleted messages that are adjacent in the store into ONE range delete
 *    (measured in Chromium: ~50x faster than one delete per key);
 *  - learn which touched messages existed with one getAllKeys over their span, instead
 *    of one count() per delete (which cost ~35% of the ack throughput).
 */
import type { StoredMessage } from '../types.js'

export type PutOrDelete =
  | { kind: 'message.put'; message: StoredMessage }
  | { kind: 'message.delete'; queue: string; seq: number }

export interface QueuePlan {
  /** The final value of every seq whose last op is a put. */
  puts: StoredMessage[]
  /** Seqs whose last op is a delete and that may exist (seq <= lastSeq before the batch). */
  deletes: Set<number>
  /** Seqs <= lastSeq touched by the batch, ascending: whether they existed is unknown. */
  uncertain: number[]
  /** Puts above the old lastSeq: certainly new messages. */
  certainlyNew: number
  /** lastSeq after the batch. */
  lastSeq: number
}

export function planQueue(ops: readonly PutOrDelete[], lastSeq: number): QueuePlan {
  const last = new Map<number, StoredMessage | null>()
  // lastSeq counts a put even when the same batch deletes it again (as applying op by op would).
  let highestPut = lastSeq
  for (const op of ops) {
    if (op.kind === 'message.put') {
      last.set(op.message.seq, op.message)
      if (op.message.seq > highestPut) highestPut = op.message.seq
    } else last.set(op.seq, null)
  }
  const plan: QueuePlan = { puts: [], deletes: new Set(), uncertain: [], certainlyNew: 0, lastSeq: highestPut }
  for (const [seq, message] of last) {
    if (message) {
      plan.puts.push(message)
      if (seq > lastSeq) plan.certainlyNew += 1
    } else if (seq <= lastSeq) {
      plan.deletes.add(seq)
    }
    // A delete above lastSeq: the message never reached storage (put and acked in this batch, or never stored).
    if (seq <= lastSeq) plan.uncertain.push(seq)
  }
  plan.uncertain.sort((a, b) => a - b)
  return plan
}

/**
 * One getAllKeys over the span of `sorted` is worth it when the span holds not many more
 * keys than we ask about (seqs are integers in practice, so the span bounds the answer).
 */
export function denseEnough(sorted: readonly number[]): boolean {
  const span = sorted[sorted.length - 1]! - sorted[0]!
  return span <= 4 * sorted.length + 1024
}

/**
 * Ranges [from, to] to delete: maximal runs of stored keys that are all to be deleted, so
 * each range removes exactly those keys. A stored key that stays, or a seq being put by
 * this batch, breaks a run. `existing` and `puts` ascending.
 */
export function deleteRuns(
  existing: readonly number[],
  deletes: ReadonlySet<number>,
  puts: readonly number[],
): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  let from: number | undefined
  let to = 0
  let i = 0
  let j = 0
  while (i < existing.length || j < puts.length) {
    // Walk the union of both ascending lists.
    let key: number
    if (j >= puts.length || (i < existing.length && existing[i]! <= puts[j]!)) {
      key = existing[i++]!
      if (j < puts.length && puts[j] === key) j++
    } else {
      key = puts[j++]!
    }
    if (deletes.has(key)) {
      if (from === undefined) from = key
      to = key
    } else if (from !== undefined) {
      runs.push([from, to])
      from = undefined
    }
  }
  if (from !== undefined) runs.push([from, to])
  return runs
}
