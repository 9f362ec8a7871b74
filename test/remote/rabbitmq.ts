// What the e2e-remote files share: the private node (from the global setup) and small helpers
// over its management HTTP API, to look at RabbitMQ's side of a test without a mock.
import { inject } from 'vitest'
import { control, type RabbitmqInfo } from '../rabbitmq/node.mjs'

export const rabbitmq: RabbitmqInfo = inject('rabbitmq')
export const rabbit = control(rabbitmq)

const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`

/** One management API call on vhost '/' (`path` after /api/). */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${rabbitmq.managementUrl}/api/${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  const text = await response.text()
  return (text ? JSON.parse(text) : undefined) as T
}

const v = encodeURIComponent('/')

export const declareQueue = (name: string, args: Record<string, unknown> = {}) =>
  api('PUT', `queues/${v}/${encodeURIComponent(name)}`, { durable: true, auto_delete: false, arguments: args })
export const deleteQueue = (name: string) => api('DELETE', `queues/${v}/${encodeURIComponent(name)}`).catch(() => {})
export const declareExchange = (name: string, type = 'topic') =>
  api('PUT', `exchanges/${v}/${encodeURIComponent(name)}`, { type, durable: true })
export const bind = (exchange: string, queue: string, routingKey: string) =>
  api('POST', `bindings/${v}/e/${encodeURIComponent(exchange)}/q/${encodeURIComponent(queue)}`, { routing_key: routingKey })

/** A RabbitMQ queue bound to amq.topic by `key`, empty: where a shovel's messages are counted. */
export async function sink(name: string, key: string): Promise<void> {
  await deleteQueue(name)
  await declareQueue(name)
  await bind('amq.topic', name, key)
}

export interface FetchedMessage {
  payload: string
  routing_key: string
  exchange: string
  redelivered: boolean
  properties: { headers?: Record<string, unknown>; delivery_mode?: number; message_id?: string; [key: string]: unknown }
}

/** Takes up to `count` messages off a queue (acked: gone from RabbitMQ). */
export const takeMessages = (queue: string, count = 10_000) =>
  api<FetchedMessage[]>('POST', `queues/${v}/${encodeURIComponent(queue)}/get`, { count, ackmode: 'ack_requeue_false', encoding: 'auto' })

/** Ready + unacked messages of a queue as the management API last sampled them (it lags: poll). */
export const queueInfo = (queue: string) =>
  api<{ messages: number; messages_ready: number; messages_unacknowledged: number; consumers: number }>('GET', `queues/${v}/${encodeURIComponent(queue)}`)

/** Publishes through the management API (a publisher outside the browser). */
export const publishRemote = (exchange: string, routingKey: string, payload: string, properties: Record<string, unknown> = {}) =>
  api<{ routed: boolean }>('POST', `exchanges/${v}/${encodeURIComponent(exchange || 'amq.default')}/publish`, {
    routing_key: routingKey, payload, payload_encoding: 'string', properties: { delivery_mode: 2, ...properties },
  })

/** Polls `condition` until it returns a truthy value (no fixed sleeps in tests). */
export async function until<T>(condition: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value) return value as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A queue's figures read live from the node (the management API's lag behind by a sample). */
export async function liveQueue(queue: string): Promise<{ messages: number; unacked: number; consumers: number } | undefined> {
  const { stdout } = await rabbit.ctl('list_queues', '-q', '--no-table-headers', 'name', 'messages', 'messages_unacknowledged', 'consumers')
  for (const line of stdout.split('\n')) {
    const [name, messages, unacked, consumers] = line.trim().split(/\s+/)
    if (name === queue) return { messages: Number(messages), unacked: Number(unacked), consumers: Number(consumers) }
  }
  return undefined
}
