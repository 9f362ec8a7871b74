/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a thousand
 * browsers that lost RabbitMQ at once do not all knock again in the same second, and none
 * retries at once in a loop.
 */
export interface BackoffOptions {
  /** First delay (ms), before jitter. Default 500. */
  readonly initialMs?: number
  /** Ceiling (ms). Default 30 000. */
  readonly maxMs?: number
}

/** The delay before attempt `attempt` (0 = the first retry); `random` in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 500
  const max = options.maxMs ?? 30_000
  const ceiling = Math.min(max, initial * 2 ** Math.min(Math.max(0, attempt), 30))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}
