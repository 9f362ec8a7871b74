// Test-only instrumentation of the link host: counts, per kind of post (the fuzzer tags its
// posts with `k`, which the host ignores), how many frames arrived and how many of them the
// host and the engine counted as dropped or refused while handling that post.
//
// Some outcomes come later than the post: a command that writes to storage is answered (or
// refused, or owed to a session that has meanwhile ended) once the write settles. Those counts
// are attributed to the post the command came in, by its sender and request id.
import type { Broker } from '../../../src/engine/broker.js'
import type { LinkHost } from '../../../src/hosts/broadcast-host.js'

export interface TallyEntry {
  posts: number
  frames: number
  counted: number
}

export type Tally = Record<string, TallyEntry>

export const countedBy = (host: LinkHost, broker: Broker): number =>
  host.stats.dropped + broker.stats.droppedFrames + broker.stats.rejectedFrames

type Settle = (client: { id: string }, command: { id?: unknown }, outcome: unknown) => void

/** Wraps `host.receive` (posts from the broker channel and ports); returns the live tally. */
export function tallyHost(host: LinkHost, broker: Broker): Tally {
  const tally: Tally = {}
  const entry = (kind: string) => (tally[kind] ??= { posts: 0, frames: 0, counted: 0 })
  /** The kind of the post being received, while it is. */
  let current: string | undefined
  /** `sender \n request id` → the kind of post the request came in (until it is settled). */
  const owners = new Map<string, string>()
  const ownerKey = (from: string, id: unknown) => `${from}\n${String(id)}`

  const receiveFrame = broker.receive.bind(broker)
  broker.receive = (from, frame) => {
    const id = (frame as { id?: unknown } | null)?.id
    if (current !== undefined && typeof id === 'number') owners.set(ownerKey(from, id), current)
    receiveFrame(from, frame)
  }
  // The engine's two ways of settling a command (private methods, reached for the test only).
  const engine = broker as unknown as Record<'reply' | 'fail', Settle>
  for (const method of ['reply', 'fail'] as const) {
    const settle = engine[method].bind(broker)
    engine[method] = (client, command, outcome) => {
      const key = ownerKey(client.id, command.id)
      const owner = owners.get(key)
      owners.delete(key)
      // Settled while its post is received: that post's count below has it.
      if (current !== undefined) return settle(client, command, outcome)
      const before = countedBy(host, broker)
      settle(client, command, outcome)
      const late = countedBy(host, broker) - before
      if (late > 0) entry(owner ?? 'late').counted += late
    }
  }

  const receive = host.receive.bind(host)
  host.receive = (data, via) => {
    const post = data as { k?: unknown; from?: unknown; frames?: unknown } | null
    const tagged = typeof post?.k === 'string' && Array.isArray(post.frames)
    const kind = tagged ? (post!.k as string) : Array.isArray(post?.frames) && typeof post?.from === 'string' ? 'client' : 'junk-post'
    const before = countedBy(host, broker)
    current = kind
    try {
      receive(data, via)
    } finally {
      current = undefined
    }
    const counted = entry(kind)
    counted.posts++
    counted.frames += tagged ? (post!.frames as unknown[]).length : 1
    counted.counted += countedBy(host, broker) - before
  }
  return tally
}
