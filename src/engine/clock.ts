/** Engine time. The engine never reads wall-clock time or schedules timers itself. */
export interface Clock {
  /** Milliseconds; only differences matter, except for `timestamp`-like headers. */
  now(): number
  /** Runs `fn` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void
}
