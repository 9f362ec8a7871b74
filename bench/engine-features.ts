/**
 * Engine cost per message for queues that hold many messages: a queue whose messages carry
 * TTLs, and a priority queue with 10 levels, each at 1,000 and at 100,000 ready messages.
 * The claim under test: publish, get and consumer dispatch cost the same per message whatever
 * the queue holds (no scan, one head timer per queue). Run it with `node bench/engine-features.mjs`.
 *
 * Each round publishes 2 × BATCH messages, takes BATCH with basic.get, then lets a consumer
 * (prefetch BATCH) receive BATCH more by acking the previous ones, so the queue stays at its
 * size. A round is timed per phase; the table shows the median over ROUNDS rounds, after warm-up.
 * Timers are real (setTimeout), as in a host: head-timer churn is part of the cost.
 */
import { Broker } from '../src/engine/broker.js'
import type { Clock } from '../src/engine/clock.js'
import type { FieldTable, MessageProperties, ServerEvent } from '../src/protocol/frames.js'

const BATCH = 250
const ROUNDS = 25
const WARMUP = 5
const BODY = 'x'.repeat(100)

const realClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs))
    return () => clearTimeout(handle)
  },
}

interface Scenario {
  name: string
  args: FieldTable
  properties: (i: number) => MessageProperties
}

const SCENARIOS: Scenario[] = [
  {
    name: 'TTL queue',
    // Queue TTL of an hour and per-message TTLs of about a minute: every message has a deadline.
    args: { 'x-message-ttl': 3_600_000 },
    properties: (i) => ({ expiration: String(60_000 + (i % 997)) }),
  },
  {
    name: 'priority queue (10 levels)',
    args: { 'x-max-priority': 10 },
    properties: (i) => ({ priority: i % 11 }),
  },
]

export interface Row {
  scenario: string
  size: number
  publish: number
  get: number
  deliver: number
}

/** One broker, one queue filled to `size`; returns median µs per message for each phase. */
async function measure(scenario: Scenario, size: number, rounds: number): Promise<Row> {
  const broker = await Broker.start({ clock: realClock, brokerId: 'bench' })
  let lastDeliveryTag = 0
  let id = 0
  broker.connect('bench', (event: ServerEvent) => {
    if (event.op === 'basic.deliver') lastDeliveryTag = event.deliveryTag
    else if (event.op === 'error') throw new Error(event.error.message)
  })
  const send = (frame: Record<string, unknown>) => broker.receive('bench', { channel: 1, id: ++id, ...frame })
  send({ op: 'channel.open' })
  send({ op: 'channel.open', channel: 2 })
  send({ op: 'queue.declare', queue: 'q', arguments: scenario.args })
  let seq = 0
  const publish = () =>
    send({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: scenario.properties(seq++), body: BODY })
  for (let i = 0; i < size + BATCH; i++) publish()
  // A consumer on channel 2 holding BATCH unacked deliveries; acking them lets BATCH more through.
  send({ op: 'basic.qos', channel: 2, prefetchCount: BATCH })
  send({ op: 'basic.consume', channel: 2, queue: 'q', consumerTag: 'c' })
  await new Promise((resolve) => setTimeout(resolve, 0)) // deliveries start after consume-ok

  const publishes: number[] = []
  const gets: number[] = []
  const delivers: number[] = []
  for (let round = 0; round < WARMUP + rounds; round++) {
    const t0 = performance.now()
    for (let i = 0; i < 2 * BATCH; i++) publish()
    const t1 = performance.now()
    for (let i = 0; i < BATCH; i++) send({ op: 'basic.get', queue: 'q', noAck: true })
    const t2 = performance.now()
    send({ op: 'basic.ack', channel: 2, deliveryTag: lastDeliveryTag, multiple: true })
    const t3 = performance.now()
    if (round < WARMUP) continue
    publishes.push(((t1 - t0) * 1000) / (2 * BATCH))
    gets.push(((t2 - t1) * 1000) / BATCH)
    delivers.push(((t3 - t2) * 1000) / BATCH)
  }
  const ready = broker.inspect().queues[0]!.ready
  if (Math.abs(ready - size) > BATCH) throw new Error(`queue drifted: ${ready} ready, expected about ${size}`)
  await broker.stop()
  return { scenario: scenario.name, size, publish: median(publishes), get: median(gets), deliver: median(delivers) }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export async function run(sizes: readonly number[] = [1_000, 100_000], rounds = ROUNDS): Promise<Row[]> {
  // Warm the JIT on a small queue of each kind before anything is recorded.
  for (const scenario of SCENARIOS) await measure(scenario, 1_000, 5)
  const rows: Row[] = []
  for (const scenario of SCENARIOS) for (const size of sizes) rows.push(await measure(scenario, size, rounds))
  return rows
}

export function format(rows: Row[]): string {
  const header = ['scenario', 'ready msgs', 'publish µs/msg', 'get µs/msg', 'deliver+ack µs/msg']
  const lines = rows.map((row) => [row.scenario, row.size.toLocaleString('en-US'), row.publish.toFixed(2), row.get.toFixed(2), row.deliver.toFixed(2)])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)))
  const fmt = (cells: string[]) => `| ${cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n')
}
