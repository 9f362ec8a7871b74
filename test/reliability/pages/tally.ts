// Test-only instrumentation of the link host: counts, per kind of post (the fuzzer tags its
// posts with `k`, which the host ignores), how many frames arrived and how many of them the
// host and the engine counted as dropped or refused while handling that post.
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

/** Wraps `host.receive` (posts from the broker channel and ports); returns the live tally. */
export function tallyHost(host: LinkHost, broker: Broker): Tally {
  const tally: Tally = {}
  const receive = host.receive.bind(host)
  host.receive = (data, via) => {
    const before = countedBy(host, broker)
    receive(data, via)
    const post = data as { k?: unknown; from?: unknown; frames?: unknown } | null
    const tagged = typeof post?.k === 'string' && Array.isArray(post.frames)
    const kind = tagged ? (post!.k as string) : Array.isArray(post?.frames) && typeof post?.from === 'string' ? 'client' : 'junk-post'
    const entry = (tally[kind] ??= { posts: 0, frames: 0, counted: 0 })
    entry.posts++
    entry.frames += tagged ? (post!.frames as unknown[]).length : 1
    entry.counted += countedBy(host, broker) - before
  }
  return tally
}

