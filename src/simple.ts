/**
 * `warren/simple`: Kombu's `kombu.simple`, a queue used like a local one.
 *
 * ```ts
 * const queue = new SimpleQueue<Video>(conn, 'videos')
 * await queue.put(video)
 * const message = await queue.get({ timeout: 1000 })
 * ```
 */
export { SimpleQueue, SimpleBuffer } from './client/simple.js'
export type { SimpleQueueOptions } from './client/simple.js'
