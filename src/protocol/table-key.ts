/**
 * A canonical string for a field table: keys sorted, so `{a, b}` and `{b, a}` match. It is an
 * identity, not a hash: two different tables never collide. The engine uses it for binding
 * identity and redeclare equivalence, the storages for binding keys (persisted: keep it stable).
 */
import type { FieldTable } from './frames.js'

export function tableKey(table: FieldTable | undefined | null): string {
  return canonical(table ?? {})
}

export const tablesEqual = (a: FieldTable | undefined, b: FieldTable | undefined): boolean => tableKey(a) === tableKey(b)

function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // JSON has no NaN/Infinity; keep them distinct from null.
      return Number.isFinite(value) ? String(value) : `{"$num":"${String(value)}"}`
    case 'boolean':
      return String(value)
    case 'bigint':
      return `{"$bigint":"${value.toString()}"}`
    case 'object':
      break
    default:
      return JSON.stringify(String(value))
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value instanceof Date) return `{"$date":${value.getTime()}}`
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    return `{"$bytes":"${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}"}`
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`
}
