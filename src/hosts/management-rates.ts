/**
 * Message rates from counter deltas: the engine only counts (published, delivered, acked,
 * redelivered per queue); every sample turns the growth since the previous sample into
 * messages per second and keeps a short history per queue and for the whole vhost.
 */
import { OVERVIEW_HISTORY, QUEUE_HISTORY, type QueueCounters, type RateSample, type Rates } from '../protocol/management.js'

export interface SampledQueue {
  name: string
  ready: number
  unacked: number
  counters: QueueCounters
}

interface QueueTrack {
  last: QueueCounters
  history: RateSample[]
}

const ZERO: Rates = { publish: 0, deliver: 0, ack: 0, redeliver: 0 }

/** Growth of a counter; a smaller value means the queue was deleted and declared again. */
const grown = (now: number, before: number): number => (now >= before ? now - before : now)

function push<T>(ring: T[], item: T, max: number): void {
  ring.push(item)
  if (ring.length > max) ring.splice(0, ring.length - max)
}

export class RateTracker {
  readonly #queues = new Map<string, QueueTrack>()
  readonly #history: RateSample[] = []
  #lastAt: number | undefined

  constructor(
    readonly maxOverviewHistory = OVERVIEW_HISTORY,
    readonly maxQueueHistory = QUEUE_HISTORY,
  ) {}

  /** Records one sample at broker time `now`. The first one only sets the baseline. */
  sample(queues: readonly SampledQueue[], now: number): void {
    const baseline = this.#lastAt === undefined
    const seconds = baseline ? 0 : Math.max(now - this.#lastAt!, 1) / 1000
    this.#lastAt = now
    const total: Rates = { ...ZERO }
    let ready = 0
    let unacked = 0
    const seen = new Set<string>()
    for (const queue of queues) {
      seen.add(queue.name)
      ready += queue.ready
      unacked += queue.unacked
      let track = this.#queues.get(queue.name)
      if (!track) {
        // A queue declared after the baseline started at zero within this interval.
        const start = baseline ? queue.counters : { ...queue.counters, published: 0, delivered: 0, acked: 0, redelivered: 0 }
        track = { last: start, history: [] }
        this.#queues.set(queue.name, track)
      }
      if (baseline) continue
      const counts: Rates = {
        publish: grown(queue.counters.published, track.last.published),
        deliver: grown(queue.counters.delivered, track.last.delivered),
        ack: grown(queue.counters.acked, track.last.acked),
        redeliver: grown(queue.counters.redelivered, track.last.redelivered),
      }
      track.last = { ...queue.counters }
      total.publish += counts.publish
      total.deliver += counts.deliver
      total.ack += counts.ack
      total.redeliver += counts.redeliver
      push(track.history, sampleOf(now, counts, seconds, queue.ready, queue.unacked), this.maxQueueHistory)
    }
    for (const name of [...this.#queues.keys()]) if (!seen.has(name)) this.#queues.delete(name)
    if (!baseline) push(this.#history, sampleOf(now, total, seconds, ready, unacked), this.maxOverviewHistory)
  }

  /** Oldest first. */
  history(): RateSample[] {
    return this.#history.map(copySample)
  }

  queueHistory(name: string): RateSample[] {
    return (this.#queues.get(name)?.history ?? []).map(copySample)
  }

  /** Rates of the latest interval (zeros before the second sample). */
  rates(): Rates {
    return ratesOf(this.#history.at(-1))
  }

  queueRates(name: string): Rates {
    return ratesOf(this.#queues.get(name)?.history.at(-1))
  }

  reset(): void {
    this.#queues.clear()
    this.#history.length = 0
    this.#lastAt = undefined
  }
}

function sampleOf(at: number, counts: Rates, seconds: number, ready: number, unacked: number): RateSample {
  const per = (n: number) => Math.round((n / seconds) * 100) / 100
  return {
    at,
    publish: per(counts.publish),
    deliver: per(counts.deliver),
    ack: per(counts.ack),
    redeliver: per(counts.redeliver),
    counts,
    ready,
    unacked,
  }
}

const ratesOf = (sample: RateSample | undefined): Rates =>
  sample ? { publish: sample.publish, deliver: sample.deliver, ack: sample.ack, redeliver: sample.redeliver } : { ...ZERO }

const copySample = (sample: RateSample): RateSample => ({ ...sample, counts: { ...sample.counts } })
