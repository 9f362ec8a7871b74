/**
 * The pure part of a stream queue (x-queue-type: stream): which segment an appended entry
 * goes to, which whole segments retention drops, and where a consumer's x-stream-offset
 * starts reading. Only segment summaries live here (a few numbers each); the entries stay
 * in storage and are read lazily (stream-queue.ts).
 */
import type { StoredStreamSegment } from '../storage/types.js'
import { preconditionFailed } from './errors.js'

/** RabbitMQ's default is 500 MB on disk; a browser log is smaller, and retention works in whole segments. */
export const DEFAULT_SEGMENT_BYTES = 1_000_000

/** Where a consumer starts: RabbitMQ's x-stream-offset values (default 'next'). */
export type OffsetSpec =
  | { readonly kind: 'first' | 'last' | 'next' }
  | { readonly kind: 'offset'; readonly offset: number }
  /** The first entry appended at or after `at` (ms, broker clock). */
  | { readonly kind: 'timestamp'; readonly at: number }

export interface Retention {
  /** x-max-length-bytes: whole segments go from the head while the log is bigger. */
  readonly maxBytes: number | undefined
  /** x-max-age in ms: whole segments go once their newest entry is older. */
  readonly maxAgeMs: number | undefined
  /** x-stream-max-segment-size-bytes: a segment is closed once it holds this much. */
  readonly segmentBytes: number
}

const UNIT_MS: Readonly<Record<string, number>> = {
  Y: 365 * 86_400_000,
  M: 30 * 86_400_000,
  D: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
}

/** A RabbitMQ duration ('7D', '12h', '30m', '10s', '1Y', '6M') in ms, or undefined if malformed. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const match = /^(\d+)([YMDhms])$/.exec(value)
  if (!match) return undefined
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** x-stream-offset as RabbitMQ reads it; anything else is a 406. `now` turns an interval ('1h') into a timestamp. */
export function parseOffset(value: unknown, now: number): OffsetSpec {
  if (value === undefined) return { kind: 'next' }
  if (value === 'first' || value === 'last' || value === 'next') return { kind: value }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { kind: 'offset', offset: value }
  if (value instanceof Date && !Number.isNaN(value.getTime())) return { kind: 'timestamp', at: value.getTime() }
  const interval = durationMs(value)
  if (interval !== undefined) return { kind: 'timestamp', at: now - interval }
  throw preconditionFailed(`invalid arg 'x-stream-offset': ${describe(value)}`)
}

const describe = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value))

/**
 * A stream's segments, in offset order, and the next offset to hand out. The last segment
 * is the open one: appends grow it until it holds `segmentBytes`, and retention never
 * drops it (so the log always remembers its next offset, even across a restart).
 */
export class StreamLog {
  private readonly segments: StoredStreamSegment[]
  private totalBytes: number
  nextOffset: number

  constructor(
    readonly stream: string,
    readonly retention: Retention,
    segments: readonly StoredStreamSegment[] = [],
  ) {
    this.segments = segments.map((segment) => ({ ...segment }))
    this.totalBytes = this.segments.reduce((sum, segment) => sum + segment.bytes, 0)
    this.nextOffset = (this.segments.at(-1)?.lastOffset ?? -1) + 1
  }

  get firstOffset(): number {
    return this.segments[0]?.firstOffset ?? this.nextOffset
  }

  /** The newest entry's offset, or undefined when the log is empty. */
  get lastOffset(): number | undefined {
    return this.nextOffset > this.firstOffset ? this.nextOffset - 1 : undefined
  }

  get length(): number {
    return this.nextOffset - this.firstOffset
  }

  get bytes(): number {
    return this.totalBytes
  }

  get segmentCount(): number {
    return this.segments.length
  }

  /**
   * Takes the next offset for an entry of `size` bytes appended at `now`, and returns it with
   * the segment it joins (a new one once the open one is full): the record to store with it.
   */
  append(size: number, now: number): { offset: number; segment: StoredStreamSegment } {
    const offset = this.nextOffset++
    let open = this.segments.at(-1)
    if (!open || open.bytes >= this.retention.segmentBytes) {
      open = { stream: this.stream, firstOffset: offset, lastOffset: offset, bytes: 0, firstTimestamp: now, lastTimestamp: now }
      this.segments.push(open)
    }
    open.lastOffset = offset
    open.bytes += size
    open.lastTimestamp = Math.max(open.lastTimestamp, now)
    this.totalBytes += size
    return { offset, segment: { ...open } }
  }

  /**
   * Retention: drops whole closed segments from the head while the log is over
   * x-max-length-bytes or their newest entry is older than x-max-age. Returns the new first
   * offset (everything below goes: a stream.truncate) or undefined when nothing goes.
   */
  applyRetention(now: number): number | undefined {
    const { maxBytes, maxAgeMs } = this.retention
    let dropped = 0
    while (this.segments.length - dropped > 1) {
      const head = this.segments[dropped]!
      const overSize = maxBytes !== undefined && this.totalBytes > maxBytes
      const tooOld = maxAgeMs !== undefined && head.lastTimestamp < now - maxAgeMs
      if (!overSize && !tooOld) break
      this.totalBytes -= head.bytes
      dropped++
    }
    if (dropped === 0) return undefined
    this.segments.splice(0, dropped)
    return this.firstOffset
  }

  /**
   * Where a consumer starts reading, and from which timestamp it delivers (entries before
   * it in that first segment are skipped). Offsets below the log start at its first entry
   * (retention took them), offsets past its end wait for new entries, as in RabbitMQ.
   */
  resolve(spec: OffsetSpec): { offset: number; notBefore?: number } {
    switch (spec.kind) {
      case 'first':
        return { offset: this.firstOffset }
      case 'last':
        return { offset: this.lastOffset ?? this.nextOffset }
      case 'next':
        return { offset: this.nextOffset }
      case 'offset':
        return { offset: Math.min(Math.max(spec.offset, this.firstOffset), this.nextOffset) }
      case 'timestamp': {
        const segment = this.segments.find((s) => s.lastTimestamp >= spec.at)
        if (!segment) return { offset: this.nextOffset }
        return segment.firstTimestamp >= spec.at ? { offset: segment.firstOffset } : { offset: segment.firstOffset, notBefore: spec.at }
      }
    }
  }
}
