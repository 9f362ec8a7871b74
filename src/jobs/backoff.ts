/**
 * How long a failed job waits before its next attempt: exponential (or fixed) with jitter, so
 * that jobs that failed together (the network went away) do not all come back together.
 */
export interface BackoffOptions {
  /** 'exponential' (default): delay × factor^(attempt − 1); 'fixed': delay every time. */
  type?: 'exponential' | 'fixed'
  /** The first wait, in ms. Default 1000. */
  delay?: number
  /** Growth per attempt. Default 2. */
  factor?: number
  /** The longest wait, in ms. Default one hour. */
  max?: number
  /**
   * How much of the wait is random, 0..1: the wait is drawn between (1 − jitter) × d and d.
   * 1 is AWS's "full jitter"; 0 none. Default 0.5.
   */
  jitter?: number
}

/** A backoff: options, a fixed delay in ms, or a function of the failed attempt (1-based). */
export type Backoff = BackoffOptions | number | ((attempt: number, error: unknown) => number)

/** The wait after failed attempt `attempt` (1-based), in whole ms. */
export function backoffDelay(backoff: Backoff | undefined, attempt: number, error: unknown, random: () => number = Math.random): number {
  if (typeof backoff === 'function') return clamp(backoff(attempt, error))
  if (typeof backoff === 'number') return clamp(backoff)
  const { type = 'exponential', delay = 1000, factor = 2, max = 3_600_000, jitter = 0.5 } = backoff ?? {}
  const base = Math.min(max, type === 'fixed' ? delay : delay * factor ** Math.max(0, attempt - 1))
  const j = Math.min(1, Math.max(0, jitter))
  return clamp(base - j * base * random())
}

const clamp = (ms: number): number => (Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0)
