// Message shapes of the primitive measurements (limits.md §4), so every figure here can be
// set against them: a bus envelope of 111 bytes of JSON ('small'); 4 KiB and 64 KiB add an
// array of ~75-byte item objects (many small objects, not one big string), padded to exactly
// 4,096 and 65,536 bytes of JSON.
export type Size = 'small' | '4k' | '64k'

export interface Envelope {
  id: string
  seq: number
  ts: number
  topic: string
  headers: Record<string, string>
  body: { text: string; items?: Array<{ n: number; name: string; tags: string[] }> }
}

const TARGET: Record<Size, number> = { small: 0, '4k': 4096, '64k': 65536 }

export function makeMessage(size: Size, seq: number): Envelope {
  const message: Envelope = {
    id: 'msg-0000000000',
    seq,
    ts: 1700000000000,
    topic: 'bench.topic',
    headers: { k: 'v' },
    body: { text: 'hello warren' },
  }
  const target = TARGET[size]
  if (target === 0) return message
  const items: Array<{ n: number; name: string; tags: string[] }> = []
  message.body.items = items
  let length = JSON.stringify(message).length
  while (length + 80 < target) {
    items.push({ n: items.length, name: `item-${String(items.length).padStart(6, '0')}-abcdefghijkl`, tags: ['alpha', 'beta'] })
    length = JSON.stringify(message).length
  }
  message.body.text += 'x'.repeat(Math.max(0, target - length))
  return message
}

/** How often a sender yields to its event loop, by size (limits.md §4). */
export const YIELD_EVERY: Record<Size, number> = { small: 1000, '4k': 250, '64k': 16 }

/** Yields one task (a MessageChannel post: neither clamped like nested setTimeout nor throttled). */
const channel = new MessageChannel()
const waiters: Array<() => void> = []
channel.port1.onmessage = () => waiters.shift()?.()
export const yieldTask = (): Promise<void> =>
  new Promise((resolve) => {
    waiters.push(resolve)
    channel.port2.postMessage(null)
  })

/** One clock across pages: cross-origin isolated pages give 5 µs resolution. */
export const now = (): number => performance.timeOrigin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}
