import type { Clock } from '../engine/clock.js'

/** Wall-clock time and real timers, for hosts. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs))
    return () => clearTimeout(handle)
  },
}
