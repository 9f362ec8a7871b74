/** Small shared steps for the rule tests: a broker with one open client, and routing probes. */
import type { MessageProperties } from '../../../src/protocol/frames.js'
import type { Storage } from '../../../src/storage/types.js'
import { startBroker } from '../harness.js'

export type Env = Awaited<ReturnType<typeof startBroker>>
export type Client = ReturnType<Env['client']>

/** A broker and one client with channel 1 open. */
export async function setup(options: { storage?: Storage } = {}) {
  const env = await startBroker(options)
  const c = env.client()
  await c.open()
  return { ...env, c }
}

/** A second client (another connection) with channel 1 open. */
export async function another(env: Pick<Env, 'client'>, id?: string): Promise<Client> {
  const other = env.client(id)
  await other.open()
  return other
}

export const declareQueue = (c: Client, queue: string, extra: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean; arguments?: Record<string, unknown> } = {}) =>
  c.ok<{ queue: string; messageCount: number; consumerCount: number }>({ op: 'queue.declare', queue, ...extra })

export const declareExchange = (
  c: Client,
  exchange: string,
  type: string,
  extra: { durable?: boolean; autoDelete?: boolean; internal?: boolean; arguments?: Record<string, unknown> } = {},
) => c.ok({ op: 'exchange.declare', exchange, type, ...extra })

export const bindQueue = (c: Client, queue: string, exchange: string, routingKey = '', args?: Record<string, unknown>) =>
  c.ok({ op: 'queue.bind', queue, exchange, routingKey, ...(args ? { arguments: args } : {}) })

export const publish = (
  c: Client,
  exchange: string,
  routingKey: string,
  body: unknown = 'm',
  properties: MessageProperties = {},
  mandatory?: boolean,
) => c.ok<{ routed: boolean }>({ op: 'basic.publish', exchange, routingKey, properties, body, ...(mandatory === undefined ? {} : { mandatory }) })

/** Takes every ready message of a queue with no-ack gets; returns their bodies in order. */
export async function takeAll(c: Client, queue: string, channel = 1): Promise<unknown[]> {
  const bodies: unknown[] = []
  for (;;) {
    const got = await c.ok<{ message: { body: unknown } | null }>({ op: 'basic.get', queue, noAck: true, channel })
    if (!got.message) return bodies
    bodies.push(got.message.body)
  }
}

/** Ready count of a queue (passive declare). */
export const readyCount = async (c: Client, queue: string) =>
  (await c.ok<{ messageCount: number }>({ op: 'queue.declare', queue, passive: true })).messageCount

export const queueExists = (env: Pick<Env, 'broker'>, queue: string) => env.broker.queues.has(queue)
export const exchangeExists = (env: Pick<Env, 'broker'>, exchange: string) => env.broker.exchanges.has(exchange)
