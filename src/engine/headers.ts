/**
 * Headers exchange matching, as rabbit_exchange_type_headers.erl does it: the routing key is
 * ignored and the binding arguments are compared with the message headers.
 *
 * - `x-match` is 'all' (the default), 'any', 'all-with-x' or 'any-with-x'.
 * - 'all' / 'any' skip binding keys starting with 'x-'; the '-with-x' kinds compare them too.
 *   'x-match' itself is never compared.
 * - A binding value of `undefined` or `null` (AMQP void) matches on the key's presence alone.
 * - Other values must be equal by value (deep for arrays, objects and bytes).
 * - With nothing to compare, 'all' matches every message and 'any' matches none.
 */
import type { FieldTable } from '../protocol/frames.js'

type MatchKind = 'all' | 'any' | 'all-with-x' | 'any-with-x'

const KINDS: ReadonlySet<unknown> = new Set<MatchKind>(['all', 'any', 'all-with-x', 'any-with-x'])

const hasOwn = (table: object, key: string): boolean => Object.prototype.hasOwnProperty.call(table, key)

/** Bind-time check; the engine turns a message into a 406 PRECONDITION_FAILED channel error. */
export function validateHeadersBinding(args: FieldTable | undefined): string | null {
  if (args === undefined || args === null || !hasOwn(args, 'x-match')) return null
  const kind = args['x-match']
  if (typeof kind !== 'string') return `Invalid x-match field type ${describe(kind)}; expected a string`
  if (!KINDS.has(kind))
    return `Invalid x-match field value ${JSON.stringify(kind)}; expected all, any, all-with-x, or any-with-x`
  return null
}

export function headersMatch(bindingArgs: FieldTable | undefined, headers: FieldTable | undefined): boolean {
  try {
    return match(bindingArgs ?? {}, headers ?? {})
  } catch {
    // Only a hostile value (a throwing proxy or getter) gets here; it matches nothing.
    return false
  }
}

function match(args: FieldTable, message: FieldTable): boolean {
  const rawKind = hasOwn(args, 'x-match') ? args['x-match'] : undefined
  // Unknown kinds are refused at bind time; like RabbitMQ, anything else falls back to 'all'.
  const kind: MatchKind = KINDS.has(rawKind) ? (rawKind as MatchKind) : 'all'
  const all = kind === 'all' || kind === 'all-with-x'
  const withX = kind === 'all-with-x' || kind === 'any-with-x'
  for (const key of Object.keys(args)) {
    if (key === 'x-match' || (!withX && key.startsWith('x-'))) continue
    const expected = args[key]
    const ok =
      hasOwn(message, key) && (expected === undefined || expected === null || valueEquals(expected, message[key]))
    if (all && !ok) return false
    if (!all && ok) return true
  }
  // Nothing failed for 'all' (vacuously true with no keys); nothing matched for 'any'.
  return all
}

/**
 * Equality by value: numbers (and bigints) by numeric value, bytes by content, arrays and
 * plain objects deeply. Cycles are safe: a pair already being compared counts as equal.
 */
export function valueEquals(a: unknown, b: unknown): boolean {
  return equals(a, b, new Map())
}

function equals(a: unknown, b: unknown, active: Map<object, Set<object>>): boolean {
  if (a === b) return true
  const ta = typeof a
  const tb = typeof b
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) return numberEquals(a, b)
  if (ta !== 'object' || tb !== 'object' || a === null || b === null) return false
  const x = a as object
  const y = b as object
  let partners = active.get(x)
  if (partners?.has(y)) return true
  if (partners === undefined) active.set(x, (partners = new Set()))
  partners.add(y)
  try {
    return objectEquals(x, y, active)
  } finally {
    partners.delete(y)
  }
}

function numberEquals(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (a !== a && b !== b)
  const [n, big] = typeof a === 'bigint' ? [b as number, a] : [a as number, b as bigint]
  return Number.isInteger(n) && BigInt(n) === big
}

function objectEquals(a: object, b: object, active: Map<object, Set<object>>): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!equals(a[i], b[i], active)) return false
    return true
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || a instanceof ArrayBuffer || b instanceof ArrayBuffer) {
    return bytesEqual(a, b)
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime())
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false
    return sameMembers([...a], [...b], active)
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set) || !(b instanceof Set) || a.size !== b.size) return false
    return sameMembers([...a], [...b], active)
  }
  const protoA = Object.getPrototypeOf(a)
  const protoB = Object.getPrototypeOf(b)
  if (!isPlainProto(protoA) || !isPlainProto(protoB)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  const recA = a as Record<string, unknown>
  const recB = b as Record<string, unknown>
  for (const key of keysA) if (!hasOwn(b, key) || !equals(recA[key], recB[key], active)) return false
  return true
}

/** Unordered comparison of set members or map entries (small collections: quadratic is fine). */
function sameMembers(a: unknown[], b: unknown[], active: Map<object, Set<object>>): boolean {
  const unused = new Set(b.keys())
  outer: for (const item of a) {
    for (const j of unused) {
      if (equals(item, b[j], active)) {
        unused.delete(j)
        continue outer
      }
    }
    return false
  }
  return true
}

const isPlainProto = (proto: unknown): boolean => proto === null || proto === Object.prototype

/** Byte content of views and buffers; views of different kinds never match (Uint8Array vs Int8Array). */
function bytesEqual(a: object, b: object): boolean {
  const kindA = Object.prototype.toString.call(a)
  if (kindA !== Object.prototype.toString.call(b)) return false
  const bytesA = toBytes(a)
  const bytesB = toBytes(b)
  if (bytesA.length !== bytesB.length) return false
  for (let i = 0; i < bytesA.length; i++) if (bytesA[i] !== bytesB[i]) return false
  return true
}

const toBytes = (v: object): Uint8Array =>
  ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v as ArrayBuffer)

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
