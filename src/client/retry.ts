/**
 * Kombu's retry policy (`Connection.ensure`), in milliseconds: wait `intervalStart`, then
 * `intervalStep` more after each failure, never more than `intervalMax`, at most `maxRetries`
 * times. Only recoverable errors (a lost or unavailable broker) are retried.
 */
export interface RetryPolicy {
  /** How many times to retry after the first failure. Default 3; Infinity retries forever. */
  maxRetries?: number
  /** Milliseconds before the first retry. Default 0. */
  intervalStart?: number
  /** Milliseconds added to the wait after each retry. Default 200. */
  intervalStep?: number
  /** The longest wait between two retries, in milliseconds. Default 1000. */
  intervalMax?: number
  /** Called before each retry (Kombu's `errback`). */
  onRetry?(error: unknown, attempt: number): void
}

export const defaultRetryPolicy: Required<Omit<RetryPolicy, 'onRetry'>> = {
  maxRetries: 3,
  intervalStart: 0,
  intervalStep: 200,
  intervalMax: 1000,
}

/** The wait before retry number `attempt` (1-based). */
export const retryInterval = (policy: RetryPolicy, attempt: number): number => {
  const start = policy.intervalStart ?? defaultRetryPolicy.intervalStart
  const step = policy.intervalStep ?? defaultRetryPolicy.intervalStep
  const max = policy.intervalMax ?? defaultRetryPolicy.intervalMax
  return Math.min(max, start + step * (attempt - 1))
}
