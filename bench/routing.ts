/**
 * Routing cost in the engine (Node): a topic exchange and a headers exchange with 10 / 1,000 /
 * 100,000 bindings spread over 100 queues, each publish matching exactly one binding. Two
 * levels: the exchange's route() alone, and a whole publish through Broker.receive into a
 * queue with a noAck consumer. The peer is `smqp` (an in-memory AMQP-like broker from npm)
 * doing the same whole publish; it has no headers exchange, so headers is Warren alone.
 */
import { Broker as Smqp } from 'smqp'
import { Broker } from '../src/engine/broker.js'
import type { Clock } from '../src/engine/clock.js'
import { Exchange, makeBinding } from '../src/engine/exchange.js'
import type { ServerEvent } from '../src/protocol/frames.js'
import type { Results } from './lib/report.js'

const realClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs))
    return () => clearTimeout(handle)
  },
}

const QUEUES = 100
const KEYS = 1024
const tick = () => new Promise((resolve) => setImmediate(resolve))

/** Binding i of a topic exchange, and a routing key only it matches (three shapes of pattern). */
const topicBinding = (i: number) => (i % 3 === 0 ? `org.${i}.*.events` : i % 3 === 1 ? `org.${i}.#` : `*.${i}.created.*`)
const topicKey = (i: number) => (i % 3 === 0 ? `org.${i}.eu.events` : i % 3 === 1 ? `org.${i}.eu.events.x` : `org.${i}.created.eu`)
const headersBinding = (i: number) => ({ 'x-match': 'all', tenant: `t${i}`, kind: 'order' })
const headersOf = (i: number) => ({ tenant: `t${i}`, kind: 'order', region: 'eu' })

/** Picks KEYS targets spread over the bindings (deterministic). */
const targets = (n: number) => Array.from({ length: KEYS }, (_, k) => (k * 7919) % n)

/** Runs `batch` until at least `ms` have passed (and at least `minRounds` rounds); returns ops/s. */
async function rate(batch: () => number, ms: number, minRounds = 3): Promise<number> {
  let ops = 0
  let rounds = 0
  const t0 = performance.now()
  while (performance.now() - t0 < ms || rounds < minRounds) {
    ops += batch()
    rounds++
    await tick()
  }
  return (ops / (performance.now() - t0)) * 1000
}

function routeOnly(type: 'topic' | 'headers', n: number) {
  const exchange = new Exchange('x', type, false, false, false, {})
  for (let i = 0; i < n; i++)
    exchange.addBinding(makeBinding('x', 'queue', `q${i % QUEUES}`, type === 'topic' ? topicBinding(i) : '', type === 'topic' ? {} : headersBinding(i)))
  const picks = targets(n)
  const keys = picks.map(topicKey)
  const headers = picks.map(headersOf)
  let k = 0
  return () => {
    let matched = 0
    const count = n >= 100_000 && type === 'headers' ? 8 : 256
    for (let i = 0; i < count; i++) {
      const j = k++ % KEYS
      for (const _ of exchange.route(keys[j]!, headers[j])) matched++
    }
    if (matched !== count) throw new Error(`routed ${matched} of ${count}`)
    return count
  }
}

async function warrenBroker(type: 'topic' | 'headers', n: number) {
  const broker = await Broker.start({ clock: realClock, brokerId: 'bench' })
  let delivered = 0
  broker.connect('c', (event: ServerEvent) => {
    if (event.op === 'basic.deliver') delivered++
    else if (event.op === 'error' || event.op === 'channel.closed' || event.op === 'connection.closed') throw new Error(JSON.stringify(event))
  })
  let id = 0
  const send = (frame: Record<string, unknown>) => broker.receive('c', { channel: 1, ...frame })
  send({ op: 'channel.open', id: ++id })
  send({ op: 'exchange.declare', exchange: 'x', type, id: ++id })
  for (let q = 0; q < QUEUES; q++) {
    send({ op: 'queue.declare', queue: `q${q}`, id: ++id })
    send({ op: 'basic.consume', queue: `q${q}`, noAck: true, id: ++id })
  }
  for (let i = 0; i < n; i++)
    send({ op: 'queue.bind', queue: `q${i % QUEUES}`, exchange: 'x', ...(type === 'topic' ? { routingKey: topicBinding(i) } : { routingKey: '', arguments: headersBinding(i) }) })
  await tick()
  const picks = targets(n)
  const frames = picks.map((j) => ({
    op: 'basic.publish',
    exchange: 'x',
    routingKey: type === 'topic' ? topicKey(j) : '',
    properties: type === 'topic' ? {} : { headers: headersOf(j) },
    body: 'hello',
  }))
  let k = 0
  const batch = () => {
    const count = n >= 100_000 && type === 'headers' ? 8 : 256
    for (let i = 0; i < count; i++) send(frames[k++ % KEYS]!)
    return count
  }
  return {
    batch,
    async stop() {
      await tick()
      const expected = k
      await broker.stop()
      if (delivered !== expected) throw new Error(`warren ${type} ${n}: delivered ${delivered} of ${expected}`)
    },
  }
}

function smqpBroker(n: number) {
  const broker = Smqp({})
  broker.assertExchange('x', 'topic', { durable: false })
  let delivered = 0
  for (let q = 0; q < QUEUES; q++) {
    broker.assertQueue(`q${q}`, { durable: false })
    broker.consume(`q${q}`, () => void delivered++, { noAck: true })
  }
  for (let i = 0; i < n; i++) broker.bindQueue(`q${i % QUEUES}`, 'x', topicBinding(i))
  const keys = targets(n).map(topicKey)
  let k = 0
  return {
    batch() {
      const count = n >= 100_000 ? 4 : n >= 1000 ? 32 : 256
      for (let i = 0; i < count; i++) broker.publish('x', keys[k++ % KEYS]!, 'hello')
      return count
    },
    check() {
      if (delivered !== k) throw new Error(`smqp: delivered ${delivered} of ${k}`)
    },
  }
}

export async function routing(results: Results, options: { quick: boolean; reps: number; log: (s: string) => void }): Promise<void> {
  const sizes = options.quick ? [10, 1000, 100_000] : [10, 1000, 100_000]
  const ms = options.quick ? 100 : 400
  const label = (n: number) => `${n.toLocaleString('en-US')} bindings`
  // Warm the JIT on both paths first, so the first configuration is not measured cold.
  const warmBroker = await warrenBroker('topic', 10)
  await rate(routeOnly('topic', 10), ms)
  await rate(warmBroker.batch, ms)
  await warmBroker.stop()
  for (const type of ['topic', 'headers'] as const) {
    for (const n of sizes) {
      const size = label(n)
      results.add({ group: 'routing', id: `route-${type}-${n}`, label: `Warren ${type} exchange route() alone`, size, unit: 'routes/s', better: 'higher' })
      results.add({ group: 'routing', id: `publish-${type}-${n}`, label: `Warren ${type} exchange, whole publish (Broker.receive → noAck consumer)`, size, unit: 'msg/s', better: 'higher' })
      if (type === 'topic' && !(options.quick && n > 10_000)) results.add({ group: 'routing', id: `smqp-${type}-${n}`, label: 'smqp topic exchange, whole publish (→ noAck consumer)', size, unit: 'msg/s', better: 'higher' })
      const route = routeOnly(type, n)
      const warren = await warrenBroker(type, n)
      // smqp binds in O(bindings) each (100,000 take about 45 s to set up): full mode only.
      const peer = type === 'topic' && !(options.quick && n > 10_000) ? smqpBroker(n) : undefined
      for (let rep = 0; rep <= options.reps; rep++) {
        const a = await rate(route, ms)
        const b = await rate(warren.batch, ms)
        const c = peer ? await rate(peer.batch, ms) : NaN
        if (rep === 0) continue
        results.push(`route-${type}-${n}`, a)
        results.push(`publish-${type}-${n}`, b)
        if (peer) results.push(`smqp-${type}-${n}`, c)
      }
      await warren.stop()
      peer?.check()
      if (peer) results.ratio(`publish-${type}-${n}`, `smqp-${type}-${n}`, `Warren / smqp, topic publish, ${size}`)
      options.log(`  routing ${type} ${n} done`)
    }
  }
}
