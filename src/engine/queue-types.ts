/** The queue types every vhost registers (see queue-type.ts), by their x-queue-type name. */
import { classicQueueType } from './classic-queue.js'
import type { QueueTypeFactory } from './queue-type.js'
import { quorumQueueType } from './quorum-queue.js'
import { streamQueueType } from './stream-queue.js'

export const BUILTIN_QUEUE_TYPES: readonly QueueTypeFactory[] = [classicQueueType, quorumQueueType, streamQueueType]
