/**
 * The copy apply() takes of its ops, so a caller's later changes do not leak into the batch.
 * structuredClone cost about a third of the broker's storage time per persistent publish
 * (serialise and deserialise, for a value IndexedDB serialises again at put). Ops are almost
 * always plain data (objects, arrays, primitives): those are copied by hand. Anything else
 * anywhere in an op (a Date, a typed array, a class instance, a sparse array, an object seen
 * twice, great depth) sends the whole op to structuredClone, so the result is the same.
 */

/** Thrown inside copyPlain when the value is not plain data. */
const NOT_PLAIN = Symbol('not plain')
const MAX_DEPTH = 64

export function copyOps<T>(ops: readonly T[]): T[] {
  const out = new Array<T>(ops.length)
  for (let i = 0; i < ops.length; i++) {
    try {
      out[i] = copyPlain(ops[i], new Set(), 0) as T
    } catch (err) {
      if (err !== NOT_PLAIN) throw err
      out[i] = structuredClone(ops[i])
    }
  }
  return out
}

function copyPlain(value: unknown, seen: Set<object>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw NOT_PLAIN // structuredClone refuses these
    return value
  }
  if (depth > MAX_DEPTH || seen.has(value)) throw NOT_PLAIN
  seen.add(value)
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw NOT_PLAIN
    const n = value.length
    const copy = new Array<unknown>(n)
    for (let i = 0; i < n; i++) {
      if (!(i in value)) throw NOT_PLAIN // a hole: structuredClone keeps it
      copy[i] = copyPlain(value[i], seen, depth + 1)
    }
    if (Object.keys(value).length !== n) throw NOT_PLAIN // extra properties on the array
    return copy
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    if (key === '__proto__') throw NOT_PLAIN // would set the copy's prototype
    copy[key] = copyPlain((value as Record<string, unknown>)[key], seen, depth + 1)
  }
  return copy
}
