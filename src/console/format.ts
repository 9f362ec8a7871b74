/** How the console writes numbers, rates, ages, ids and message bodies. */

const counts = new Intl.NumberFormat('en-US')

export const fmtCount = (n: number): string => counts.format(n)

/** Messages per second: one decimal below 10, whole numbers above. */
export function fmtRate(rate: number): string {
  if (rate === 0) return '0'
  if (rate < 10) return rate.toFixed(1).replace(/\.0$/, '')
  return counts.format(Math.round(rate))
}

export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  const hours = Math.floor(m / 60)
  if (hours < 24) return `${hours}h ${m % 60}m`
  return `${Math.floor(hours / 24)}d ${hours % 24}h`
}

/** Random client ids are long; their first block tells them apart. */
export const shortId = (id: string): string => (id.length > 12 ? id.slice(0, 8) : id)

export const exchangeLabel = (name: string): string => (name === '' ? '(AMQP default)' : name)

/** Any structured-clone value as readable text (Dates, Maps, bytes, bigints included). */
export function fmtValue(value: unknown, indent = 0): string {
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value, replacer, indent) ?? String(value)
  } catch {
    return String(value)
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  if (value instanceof ArrayBuffer) return `<${value.byteLength} bytes>`
  return value
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A message body for display: pretty JSON when it is JSON, text when it is text, a hex dump otherwise. */
export function fmtBody(body: unknown, contentType?: string, contentEncoding?: string): { text: string; kind: string } {
  if (contentEncoding && /gzip|deflate|br/.test(contentEncoding)) {
    const size = body instanceof Uint8Array ? body.byteLength : body instanceof ArrayBuffer ? body.byteLength : undefined
    return { text: `(${contentEncoding}-compressed${size === undefined ? '' : `, ${size} bytes`})`, kind: 'compressed' }
  }
  let text: string | undefined
  if (typeof body === 'string') text = body
  else if (body instanceof Uint8Array || body instanceof ArrayBuffer) {
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(body)
    try {
      text = utf8.decode(bytes)
    } catch {
      const hex = [...bytes.subarray(0, 256)].map((b) => b.toString(16).padStart(2, '0')).join(' ')
      return { text: `${hex}${bytes.byteLength > 256 ? ' …' : ''}`, kind: `${bytes.byteLength} bytes` }
    }
  } else {
    return { text: fmtValue(body, 2), kind: 'structured clone' }
  }
  if (contentType?.includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2), kind: 'json' }
    } catch {
      // Not JSON after all.
    }
  }
  return { text, kind: 'text' }
}

/**
 * Parses `key: value` lines (headers, arguments). A value that reads as JSON (numbers,
 * booleans, quoted strings, arrays, objects) becomes that value; anything else stays text.
 */
export function parseTable(text: string): Record<string, unknown> {
  const table: Record<string, unknown> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const at = line.search(/[:=]/)
    if (at <= 0) throw new Error(`expected 'key: value', got '${line}'`)
    const key = line.slice(0, at).trim()
    const value = line.slice(at + 1).trim()
    try {
      table[key] = JSON.parse(value)
    } catch {
      table[key] = value
    }
  }
  return table
}
