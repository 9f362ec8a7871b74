/**
 * Job queues for PWAs, built from the broker's own features: durable queues, prefetch,
 * a delayed-message exchange for backoff, dead-lettering with `x-death`, a topic exchange for
 * events. See job-queue.ts.
 */
export { JobQueue } from './job-queue.js'
export type { JobQueueOptions, AddOptions, JobCounts } from './job-queue.js'
export { JobWorker } from './worker.js'
export type { JobHandler, JobWorkerOptions, JobWorkerEvent } from './worker.js'
export { Job } from './job.js'
export type { JobProgress } from './job.js'
export { JobEvents } from './events.js'
export type { JobEvent, JobEventType, JobEventsOptions } from './events.js'
export { backoffDelay } from './backoff.js'
export type { Backoff, BackoffOptions } from './backoff.js'
export { networkStatus, ManualNetworkStatus, NETWORK_CHANNEL } from './network.js'
export type { NetworkStatus } from './network.js'
export { DELAY_EXCHANGE, EVENTS_EXCHANGE, ATTEMPT_HEADER, ATTEMPTS_HEADER, ERRORS_HEADER, deadLetterQueueName } from './names.js'
