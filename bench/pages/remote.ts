// [remote] The remote group's page side: Warren's direct stomp+ws connection (through the
// SharedWorker's one socket) next to @stomp/stompjs used directly from the tab.
import { Client, type IMessage } from '@stomp/stompjs'
import { Connection, registerTransport } from '../../src/index.js'
import { openManagement } from '../../src/client/management.js'
import { remoteConnector } from '../../src/transport/shared.js'
import { connection } from './warren.js'

registerTransport('stomp+ws', () => remoteConnector)

const LOGIN = { login: 'guest', passcode: 'guest' }
const body = 'x'.repeat(64)
let warrenConn: Promise<Connection> | undefined
let stomp: Promise<Client> | undefined

const warren = (url: string) => (warrenConn ??= Connection.open(`stomp+${url}`, { ...LOGIN, vhost: '/', requestTimeout: 60_000 }))

function raw(url: string): Promise<Client> {
  return (stomp ??= new Promise<Client>((resolve, reject) => {
    const client = new Client({ brokerURL: url, connectHeaders: { ...LOGIN, host: '/' }, reconnectDelay: 0, debug: () => {} })
    client.onConnect = () => resolve(client)
    client.onStompError = (frame) => reject(new Error(frame.headers.message))
    client.activate()
  }))
}

/** Runs `n` sends with at most `window` unconfirmed; resolves with msg/s. */
async function windowed(n: number, window: number, send: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  let next = 0
  const lane = async () => {
    while (next < n) await send(next++)
  }
  await Promise.all(Array.from({ length: window }, lane))
  return (n / (performance.now() - t0)) * 1000
}

let receipt = 0
function rawSend(client: Client, destination: string): Promise<void> {
  const id = `b${++receipt}`
  return new Promise((resolve) => {
    client.watchForReceipt(id, () => resolve())
    client.publish({ destination, body, headers: { receipt: id, persistent: 'true' } })
  })
}

export async function declare(url: string, queue: string): Promise<void> {
  const ch = await (await warren(url)).channel()
  await ch.queueDeclare({ queue, durable: true })
  await ch.close()
}

/** Confirmed publishes/s, `window` in flight. */
export async function publish(kind: 'warren' | 'stomp', url: string, queue: string, n: number, window = 100): Promise<number> {
  if (kind === 'warren') {
    const producer = (await warren(url)).producer()
    return windowed(n, window, () => producer.publish(body, { routingKey: queue, serializer: 'text', deliveryMode: 'persistent' }))
  }
  const client = await raw(url)
  return windowed(n, window, () => rawSend(client, `/amq/queue/${queue}`))
}

/** Deliveries/s of `n` messages already in `queue`, each acked, prefetch 100. */
export async function consume(kind: 'warren' | 'stomp', url: string, queue: string, n: number): Promise<number> {
  let got = 0
  let t0 = 0
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const seen = () => {
    if (got === 0) t0 = performance.now()
    if (++got === n) done()
  }
  if (kind === 'warren') {
    const consumer = (await warren(url)).consumer(queue, { prefetch: 100, onMessage: (m) => (seen(), m.ack()) })
    await consumer.consume()
    await finished
    await consumer.cancel()
  } else {
    const client = await raw(url)
    const sub = client.subscribe(`/amq/queue/${queue}`, (m: IMessage) => (seen(), m.ack()), { ack: 'client-individual', 'prefetch-count': '100' })
    await finished
    sub.unsubscribe()
  }
  return ((n - 1) / (performance.now() - t0)) * 1000
}

/** Round trips (publish → delivery in this tab), `k` one at a time: median ms. */
export async function rtt(kind: 'warren' | 'stomp', url: string, queue: string, k: number): Promise<number> {
  const times: number[] = []
  let arrived: (() => void) | undefined
  let stop: () => Promise<void>
  let send: () => Promise<unknown>
  if (kind === 'warren') {
    const conn = await warren(url)
    const producer = conn.producer()
    const consumer = conn.consumer(queue, { prefetch: 10, onMessage: (m) => (m.ack(), arrived?.()) })
    await consumer.consume()
    stop = () => consumer.cancel()
    send = () => producer.publish(body, { routingKey: queue, serializer: 'text' })
  } else {
    const client = await raw(url)
    const sub = client.subscribe(`/amq/queue/${queue}`, (m) => (m.ack(), arrived?.()), { ack: 'client-individual', 'prefetch-count': '10' })
    stop = async () => sub.unsubscribe()
    send = () => rawSend(client, `/amq/queue/${queue}`)
  }
  for (let i = 0; i < k; i++) {
    const t0 = performance.now()
    const got = new Promise<void>((r) => (arrived = r))
    void send()
    await got
    times.push(performance.now() - t0)
  }
  await stop()
  times.sort((a, b) => a - b)
  return times[times.length >> 1]!
}

// Shovels and federation: a broker whose vhost ('remote-*') has the node as remote 'upstream'
// (bench/pages/broker.worker.ts), driven through the management API as an app would.

/** Counts deliveries of a RabbitMQ queue in this tab (auto ack): the far side of a shovel. */
async function arrivals(url: string, queue: string, n: number): Promise<{ all: Promise<void>; stop: () => void }> {
  const client = await raw(url)
  let got = 0
  let done!: () => void
  const all = new Promise<void>((r) => (done = r))
  const sub = client.subscribe(`/amq/queue/${queue}`, () => {
    if (++got === n) done()
  }, { ack: 'auto' })
  return { all, stop: () => sub.unsubscribe() }
}

async function local(vhost: string) {
  const conn = await connection(vhost)
  const management = await openManagement({ vhost })
  return { conn, management }
}

/**
 * Shovel local → RabbitMQ (confirm-then-ack): `n` persistent messages published locally with
 * 100 in flight while the shovel runs; msg/s until the last one is in RabbitMQ (seen by a
 * subscriber here).
 */
export async function shovel(url: string, vhost: string, n: number): Promise<number> {
  const queue = `${vhost}-out`
  await declare(url, queue)
  const { conn, management } = await local(vhost)
  await management.declareQueue({ name: 'outbox', durable: true })
  await management.declareShovel({ name: 'out', remote: 'upstream', queue: 'outbox', exchange: '', routingKey: queue })
  const seen = await arrivals(url, queue, n)
  const producer = conn.producer()
  const t0 = performance.now()
  await windowed(n, 100, () => producer.publish(body, { routingKey: 'outbox', serializer: 'text', deliveryMode: 'persistent' }))
  await seen.all
  const rate = (n / (performance.now() - t0)) * 1000
  seen.stop()
  await management.deleteRemoteLink('out')
  return rate
}

/**
 * The offline outbox: `n` persistent messages wait in the local queue (IndexedDB) with no link
 * to RabbitMQ; then the shovel is declared: msg/s until the last one is in RabbitMQ.
 */
export async function drain(url: string, vhost: string, n: number): Promise<number> {
  const queue = `${vhost}-drained`
  await declare(url, queue)
  const { conn, management } = await local(vhost)
  await management.declareQueue({ name: 'backlog', durable: true })
  const producer = conn.producer()
  await windowed(n, 1000, () => producer.publish(body, { routingKey: 'backlog', serializer: 'text', deliveryMode: 'persistent' }))
  const seen = await arrivals(url, queue, n)
  const t0 = performance.now()
  await management.declareShovel({ name: 'drain', remote: 'upstream', queue: 'backlog', exchange: '', routingKey: queue })
  await seen.all
  const rate = (n / (performance.now() - t0)) * 1000
  seen.stop()
  await management.deleteRemoteLink('drain')
  return rate
}

/**
 * Federation RabbitMQ → local (acked to RabbitMQ after the local commit): `n` messages waiting
 * in a RabbitMQ queue; msg/s from the link's declaration to the last one consumed (acked) here.
 */
export async function federation(url: string, vhost: string, n: number): Promise<number> {
  const queue = `${vhost}-in`
  await declare(url, queue)
  const client = await raw(url)
  await windowed(n, 100, () => rawSend(client, `/amq/queue/${queue}`))
  const { conn, management } = await local(vhost)
  await management.declareQueue({ name: 'inbox', durable: true })
  let got = 0
  let done!: () => void
  const all = new Promise<void>((r) => (done = r))
  const consumer = conn.consumer('inbox', { prefetch: 100, onMessage: (m) => {
    m.ack()
    if (++got === n) done()
  } })
  await consumer.consume()
  const t0 = performance.now()
  await management.declareFederation({ name: 'in', remote: 'upstream', source: { queue }, exchange: '', routingKey: 'inbox' })
  await all
  const rate = (n / (performance.now() - t0)) * 1000
  await consumer.cancel()
  await management.deleteRemoteLink('in')
  return rate
}
