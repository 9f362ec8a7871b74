import type { Clock } from '../engine/clock.js'

interface Timer {
  at: number
  order: number
  fn: () => void
}

/** A clock that moves only when told to: timers fire in `advance`, in deadline order. */
export class FakeClock implements Clock {
  private time: number
  private order = 0
  private timers = new Set<Timer>()

  constructor(start = 1_700_000_000_000) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer: Timer = { at: this.time + Math.max(0, delayMs), order: this.order++, fn }
    this.timers.add(timer)
    return () => {
      this.timers.delete(timer)
    }
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      let next: Timer | undefined
      for (const timer of this.timers)
        if (timer.at <= end && (!next || timer.at < next.at || (timer.at === next.at && timer.order < next.order))) next = timer
      if (!next) break
      this.timers.delete(next)
      this.time = Math.max(this.time, next.at)
      next.fn()
    }
    this.time = end
  }

  /** Timers still waiting (tests use it to check "one timer per queue"). */
  get pending(): number {
    return this.timers.size
  }
}
