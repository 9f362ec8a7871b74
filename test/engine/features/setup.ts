import type { FieldTable, MessageProperties, ServerEvent } from '../../../src/protocol/frames.js'
import type { Storage } from '../../../src/storage/types.js'
import { FakeClock } from '../../../src/testing/fake-clock.js'
import { startBroker } from '../harness.js'

export type Deliver = Extract<ServerEvent, { op: 'basic.deliver' }>

/** A broker on a fake clock with one client on channel 1, plus the verbs feature tests repeat. */
export async function setup(options: { storage?: Storage; clock?: FakeClock } = {}) {
  const h = await startBroker(options)
  const c = h.client()
  await c.open()
  const api = withVerbs(c)
  return { ...h, c, ...api, newClient: async () => {
    const other = h.client()
    await other.open()
    return { ...other, ...withVerbs(other) }
  } }
}

type Client = ReturnType<Awaited<ReturnType<typeof startBroker>>['client']>

function withVerbs(c: Client) {
  const declare = (queue: string, args: FieldTable = {}, extra: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean } = {}) =>
    c.ok<{ queue: string; messageCount: number; consumerCount: number }>({ op: 'queue.declare', queue, arguments: args, ...extra })
  /** Publishes and returns the reply event (ok = confirm, error with code 'NACK' = nack). */
  const publish = (routingKey: string, body: unknown, properties: MessageProperties = {}, exchange = '', mandatory = false) =>
    c.call({ op: 'basic.publish', exchange, routingKey, properties, body, mandatory })
  const get = async (queue: string, noAck = true) =>
    (await c.ok<{ message: { body: unknown; deliveryTag: number; redelivered: boolean; routingKey: string; exchange: string; properties: MessageProperties } | null; messageCount: number }>({ op: 'basic.get', queue, noAck })).message
  /** Every body a queue holds, in delivery order (taken with no-ack gets). */
  const drainBodies = async (queue: string) => {
    const bodies: unknown[] = []
    for (let m = await get(queue); m; m = await get(queue)) bodies.push(m.body)
    return bodies
  }
  const consume = (queue: string, options: { tag?: string; noAck?: boolean; exclusive?: boolean; arguments?: FieldTable; channel?: number } = {}) =>
    c.ok<{ consumerTag: string }>({
      op: 'basic.consume',
      queue,
      channel: options.channel ?? 1,
      consumerTag: options.tag,
      noAck: options.noAck ?? false,
      exclusive: options.exclusive ?? false,
      arguments: options.arguments ?? {},
    })
  const exchange = (name: string, type: string, args: FieldTable = {}, durable = false) =>
    c.ok({ op: 'exchange.declare', exchange: name, type, arguments: args, durable })
  const bind = (queue: string, exchangeName: string, routingKey = '', args: FieldTable = {}) =>
    c.ok({ op: 'queue.bind', queue, exchange: exchangeName, routingKey, arguments: args })
  const bodies = (channel?: number) => c.deliveries(channel).map((d) => d.body)
  const qos = (prefetchCount: number, channel = 1) => c.ok({ op: 'basic.qos', channel, prefetchCount })
  return { declare, publish, get, drainBodies, consume, exchange, bind, bodies, qos }
}

/** The ready count of a queue, from the broker's snapshot. */
export function readyOf(broker: { inspect(): { queues: { name: string; ready: number }[] } }, queue: string): number | undefined {
  return broker.inspect().queues.find((q) => q.name === queue)?.ready
}
