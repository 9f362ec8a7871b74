// Whether every frame the fuzzer sent was accounted for: for each kind of post that arrived
// at the host, the frames in it were answered ok, or counted as dropped or refused (refused
// frames with a request id are also answered with a typed error, which the fuzzer checks).
//
// Outcomes that come after the post (a storage write settled, or its reply owed to a session
// that ended meanwhile, which the engine counts as dropped) are attributed to the post the
// command came in (see pages/tally.ts), so frames of a session that was just dropped are
// accounted for too.
//
// Some posts cannot be read by the receiver at all. Chromium hands its SharedWorker a
// BroadcastChannel message nested deeper than about 1,300 levels as `null` (a dedicated worker:
// about 2,000; no messageerror either way); Node fires messageerror for more. The host counts such a post once, as a drop: it
// cannot know how many frames it held. Those posts are counted here as `unreadable`.
import type { FuzzReport } from './pages/fuzz.js'
import type { Tally } from './pages/tally.js'

/** Kinds of post whose frames are all bad (or, for `wrong`, answered ok when they happen to be right). */
export const REFUSABLE_KINDS = ['junk-post', 'stranger', 'malformed', 'wrong', 'handshake', 'impersonate'] as const

export interface FuzzAccount {
  perKind: Record<string, { frames: number; counted: number; ok: number; unaccounted: number }>
  /** Frames neither answered ok nor counted: must be 0. */
  unaccounted: number
  /** Our tagged posts that reached the host unreadable (null) or not at all (messageerror). */
  unreadable: number
  /** Posts that reached the host's receive as junk (ours, or unreadable ones) but were not counted. */
  junkUncounted: number
}

export function diffTally(after: Tally, before: Tally = {}): Tally {
  const out: Tally = {}
  for (const [kind, entry] of Object.entries(after)) {
    const b = before[kind] ?? { posts: 0, frames: 0, counted: 0 }
    out[kind] = { posts: entry.posts - b.posts, frames: entry.frames - b.frames, counted: entry.counted - b.counted }
  }
  return out
}

export function accountFuzz(report: FuzzReport, tally: Tally): FuzzAccount {
  const perKind: FuzzAccount['perKind'] = {}
  let unaccounted = 0
  for (const kind of REFUSABLE_KINDS) {
    if (kind === 'junk-post') continue
    const entry = tally[kind] ?? { posts: 0, frames: 0, counted: 0 }
    const ok = report.okByKind[kind] ?? 0
    const missing = Math.max(0, entry.frames - entry.counted - ok)
    perKind[kind] = { frames: entry.frames, counted: entry.counted, ok, unaccounted: missing }
    unaccounted += missing
  }
  // Junk is not tagged. What arrived as junk (not a batch: our junk, and our unreadable posts)
  // must all be counted; the normal workload's posts are 'client'.
  const junk = tally['junk-post'] ?? { posts: 0, frames: 0, counted: 0 }
  const junkSent = report.byKind['junk-post'] ?? 0
  let taggedArrived = 0
  for (const [kind, entry] of Object.entries(tally)) if (kind !== 'client' && kind !== 'junk-post') taggedArrived += entry.posts
  perKind['junk-post'] = { frames: junkSent, counted: junk.counted, ok: 0, unaccounted: 0 }
  return {
    perKind,
    unaccounted,
    unreadable: Math.max(0, report.posts - junkSent - taggedArrived),
    junkUncounted: Math.max(0, junk.posts - junk.counted),
  }
}
