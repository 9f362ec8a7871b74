import type { FieldTable } from '../protocol/frames.js'

/** Deterministic text for a field table: equal tables give equal keys, whatever the key order. */
export function tableKey(table: FieldTable | undefined): string {
  if (!table) return '{}'
  return stable(table)
}

function stable(value: unknown): string {
  if (value === undefined) return 'u'
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value)
  if (ArrayBuffer.isView(value)) return `b[${Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)).join(',')}]`
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${stable((value as Record<string, unknown>)[key])}`)
  return `{${entries.join(',')}}`
}

export const tablesEqual = (a: FieldTable | undefined, b: FieldTable | undefined): boolean => tableKey(a) === tableKey(b)
