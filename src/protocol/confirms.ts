/**
 * Consecutive answers as one frame: a publisher with many publishes in flight gets its
 * confirms as `{ op: 'ok', id, through, result }` instead of one frame per publish, which
 * the broker would serialise and the client parse one by one.
 */
import type { WireServerFrame } from './compact.js'
import type { Ok } from './frames.js'
import { MAX_OK_RANGE } from './server-guards.js'

/** Results equal for every reader: the same value, or flat objects of the same primitives ({ routed: true }). */
function sameResult(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return false
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  let keys = 0
  for (const key in x) {
    const v = x[key]
    if ((typeof v === 'object' && v !== null) || typeof v === 'function' || !(key in y) || y[key] !== v) return false
    keys++
  }
  for (const _ in y) keys--
  return keys === 0
}

/**
 * `last` and `next` as one frame, when `next` answers the request right after the ones `last`
 * answers, with an equal result; otherwise undefined.
 */
export function mergeOk(last: WireServerFrame, next: WireServerFrame): Ok | undefined {
  if (Array.isArray(last) || Array.isArray(next) || last.op !== 'ok' || next.op !== 'ok' || next.through !== undefined) return undefined
  const end = last.through ?? last.id
  if (next.id !== end + 1 || next.id - last.id >= MAX_OK_RANGE || !sameResult(last.result, next.result)) return undefined
  return { op: 'ok', id: last.id, through: next.id, result: last.result }
}
