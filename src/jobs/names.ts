/**
 * The AMQP entities and headers a job queue is made of. Every job queue of a vhost shares one
 * delayed exchange (retries with backoff, delayed jobs) and one topic exchange (job events).
 */

/** `x-delayed-message` exchange routing as direct: holds a job for its `x-delay`, then routes it by queue name. */
export const DELAY_EXCHANGE = 'warren.jobs.delay'

/** Topic exchange of job events; routing key `<queue>.<event type>`. */
export const EVENTS_EXCHANGE = 'warren.jobs.events'

/** The attempt a delivery is (1-based; absent means 1). */
export const ATTEMPT_HEADER = 'x-job-attempt'

/** Attempts in all for this job, when it overrides its queue's. */
export const ATTEMPTS_HEADER = 'x-job-attempts'

/** Errors of the earlier attempts, oldest first (the last few). */
export const ERRORS_HEADER = 'x-job-errors'

/** Headers a retried copy must not carry over: the broker sets them per delivery or per hop. */
export const PER_DELIVERY_HEADERS = ['x-delay', 'x-delivery-count', 'compression'] as const

/** The dead-letter queue of a job queue, by default. */
export const deadLetterQueueName = (queue: string): string => `${queue}.dead`
