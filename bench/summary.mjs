// Prints the README's benchmark tables (markdown) from a results file:
// node bench/summary.mjs [bench/results/latest.json]
// node bench/summary.mjs --engines [chromium.json] [firefox.json]: Chromium and Firefox side by side.
import { readFileSync } from 'node:fs'
import { fmt, median } from './lib/format.mjs'

if (process.argv[2] === '--engines') {
  await import('./engines-summary.mjs')
  process.exit(0)
}

const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname
const run = JSON.parse(readFileSync(file, 'utf8'))
const rows = new Map(run.rows.map((row) => [row.id, row]))

const cell = (id) => {
  const row = rows.get(id)
  if (!row?.values?.length) return '—'
  const m = fmt(median(row.values))
  return row.values.length > 1 ? `${m} [${fmt(Math.min(...row.values))}–${fmt(Math.max(...row.values))}]` : m
}
const value = (id) => median(rows.get(id)?.values)
const ratio = (a, b) => {
  const x = value(a)
  const y = value(b)
  return x === undefined || y === undefined ? '—' : `${(x / y).toFixed(2)}×`
}
const table = (head, lines) => [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n')

const out = []
out.push(`${run.chromium}; Node ${run.node}; ${run.cpus} × ${run.cpu}; commit ${run.commit}; ${run.mode} run, median [min–max] of ${run.reps} reps after a warm-up; 1-minute load average ${Math.min(...run.loadAverage.map((l) => l[0])).toFixed(1)}–${Math.max(...run.loadAverage.map((l) => l[0])).toFixed(1)} during the run.`)
out.push('')
out.push('**Transient, tab → broker → tab** (msg/s at the consumer; Warren publishes with confirms)')
out.push('')
const sizes = ['small', '4k', '64k']
out.push(
  table(
    ['', ...sizes],
    [
      ['bare BroadcastChannel tab → tab, 1 post/msg', ...sizes.map((s) => cell(`bc/${s}`))],
      ['bare relay tab → SharedWorker → tab (BroadcastChannel), 1 post/msg', ...sizes.map((s) => cell(`relay-bc/${s}`))],
      ['bare relay (BroadcastChannel), batched per turn', ...sizes.map((s) => cell(`relay-bc-batch/${s}`))],
      ['bare relay (MessagePorts), batched per turn', ...sizes.map((s) => cell(`relay-port-batch/${s}`))],
      ['`broadcast-channel` (npm) tab → tab', ...sizes.map((s) => cell(`lib/${s}`))],
      ['**Warren** work queue, acks, prefetch 100, `link: \'broadcast\'`', ...sizes.map((s) => cell(`warren-ack/${s}`))],
      ['**Warren** work queue, noAck, `link: \'broadcast\'`', ...sizes.map((s) => cell(`warren-noack/${s}`))],
      ['**Warren** work queue, acks, prefetch 100, MessagePort link (the default in windows)', ...sizes.map((s) => cell(`warren-ack-port/${s}`))],
      ['Warren (acks, default port link) / bare BroadcastChannel', ...sizes.map((s) => ratio(`warren-ack-port/${s}`, `bc/${s}`))],
      ['Warren (acks, default port link) / batched bare relay (MessagePorts)', ...sizes.map((s) => ratio(`warren-ack-port/${s}`, `relay-port-batch/${s}`))],
      ['Warren (acks, default port link) / `broadcast-channel`', ...sizes.map((s) => ratio(`warren-ack-port/${s}`, `lib/${s}`))],
      ['Warren (acks, BroadcastChannel link) / bare BroadcastChannel', ...sizes.map((s) => ratio(`warren-ack/${s}`, `bc/${s}`))],
    ],
  ),
)
out.push('')
out.push('**Fanout**, one publisher → N subscriber tabs, deliveries/s in total (Warren: fanout exchange, acks, prefetch 100)')
out.push('')
out.push(
  table(
    ['', '1 tab', '4 tabs', '8 tabs'],
    ['small', '4k'].flatMap((s) => [
      [`bare BroadcastChannel, ${s}`, ...[1, 4, 8].map((n) => cell(`fan-bc-${n}/${s}`))],
      [`**Warren** (default port link), ${s}`, ...[1, 4, 8].map((n) => cell(`fan-warren-${n}/${s}`))],
      [`ratio, ${s}`, ...[1, 4, 8].map((n) => ratio(`fan-warren-${n}/${s}`, `fan-bc-${n}/${s}`))],
    ]),
  ),
)
out.push('')
out.push('**Round trip** A → B → A, small messages (ms; Warren: A publishes to B\'s queue, B\'s consumer publishes it back; publish → deliver is about half)')
out.push('')
out.push(
  table(
    ['', 'p50', 'p99', 'p50 under load', 'p99 under load'],
    [
      ['bare BroadcastChannel', cell('rtt-bc:p50'), cell('rtt-bc:p99'), cell('rtt-bc-load:p50'), cell('rtt-bc-load:p99')],
      ['bare relay through a SharedWorker (BroadcastChannel)', cell('rtt-relay-bc:p50'), cell('rtt-relay-bc:p99'), cell('rtt-relay-bc-load:p50'), cell('rtt-relay-bc-load:p99')],
      ['bare relay through a SharedWorker (MessagePorts)', cell('rtt-relay-port:p50'), cell('rtt-relay-port:p99'), cell('rtt-relay-port-load:p50'), cell('rtt-relay-port-load:p99')],
      ['**Warren** (BroadcastChannel link)', cell('rtt-warren:p50'), cell('rtt-warren:p99'), cell('rtt-warren-load:p50'), cell('rtt-warren-load:p99')],
      ['**Warren** (MessagePort link, the default in windows)', cell('rtt-warren-port:p50'), cell('rtt-warren-port:p99'), '', ''],
    ],
  ),
)
out.push('')
out.push('**Durable** (small messages; raw IndexedDB and Warren\'s broker both write from a SharedWorker; Warren over the default port link)')
out.push('')
out.push(
  table(
    ['', 'per second'],
    [
      ['raw IndexedDB, 1 put per transaction (rec/s)', cell('idb-1')],
      ['raw IndexedDB, 1,000 puts per transaction (rec/s)', cell('idb-1000')],
      ['`workbox-background-sync` `Queue.pushRequest`, 1 in flight (req/s)', cell('workbox-1')],
      ['`workbox-background-sync` `Queue.pushRequest`, 100 in flight (req/s)', cell('workbox-100')],
      ['**Warren** confirmed persistent publish, 1 in flight', cell('durable-1')],
      ['**Warren** confirmed persistent publish, 100 in flight', cell('durable-100')],
      ['**Warren** confirmed persistent publish, 1,000 in flight', cell('durable-1000')],
      ['**Warren** consume a durable backlog with acks, prefetch 100', cell('durable-consume')],
    ],
  ),
)
out.push('')
out.push('**Startup, memory, size** (Warren over the default link: a MessagePort in windows)')
out.push('')
out.push(
  table(
    ['', ''],
    [
      ['fresh tab, `Connection.open()` → first delivery, broker not running, empty store (ms)', cell('start-cold-empty')],
      ['fresh tab, `Connection.open()` → first delivery, broker running (ms)', cell('start-warm-empty')],
      [`fresh tab after a browser restart → first delivery of a ${run.mode === 'quick' ? '10,000' : '100,000'}-message durable backlog (ms)`, cell('start-backlog')],
      ['broker heap, empty (MB, after GC)', cell('heap-empty')],
      ['broker heap, 1,000,000 persistent messages queued, right after writing them (MB, after GC)', cell('heap-loaded')],
      ['broker heap, 1,000,000 queued, after a browser restart and recovery (MB, after GC)', cell('heap-recovered')],
      ["client entry `warren`, what a page loads first, minified + gzip (KB)", cell('bundle-client:gz')],
      ["worker entry `warren/worker` with idb and comlink, minified + gzip (KB)", cell('bundle-worker:gz')],
    ],
  ),
)
out.push('')
out.push('**Routing in the engine** (Node; each publish matches one binding; bindings spread over 100 queues)')
out.push('')
const ns = [10, 1000, 100000]
out.push(
  table(
    ['', ...ns.map((n) => `${n.toLocaleString('en-US')} bindings`)],
    [
      ['Warren topic, `route()` alone (routes/s)', ...ns.map((n) => cell(`route-topic-${n}`))],
      ['Warren topic, whole publish (msg/s)', ...ns.map((n) => cell(`publish-topic-${n}`))],
      ['`smqp` topic, whole publish (msg/s)', ...ns.map((n) => cell(`smqp-topic-${n}`))],
      ['Warren headers, `route()` alone (routes/s)', ...ns.map((n) => cell(`route-headers-${n}`))],
      ['Warren headers, whole publish (msg/s)', ...ns.map((n) => cell(`publish-headers-${n}`))],
    ],
  ),
)
out.push('')
out.push('**Remote: RabbitMQ through Web-STOMP** (private loopback node, 64 B persistent messages; Warren through the broker host\'s one socket, @stomp/stompjs from the tab)')
out.push('')
out.push(
  table(
    ['', 'Warren', '@stomp/stompjs from the tab', 'ratio'],
    [
      ['direct publish, receipts as confirms, 100 in flight (msg/s)', cell('remote-publish-warren'), cell('remote-publish-stomp'), ratio('remote-publish-warren', 'remote-publish-stomp')],
      ['direct consume, acks, prefetch 100 (msg/s)', cell('remote-consume-warren'), cell('remote-consume-stomp'), ratio('remote-consume-warren', 'remote-consume-stomp')],
      ['round trip tab → RabbitMQ → tab, p50 (ms)', cell('remote-rtt-warren'), cell('remote-rtt-stomp'), ratio('remote-rtt-warren', 'remote-rtt-stomp')],
      ['shovel local → RabbitMQ, confirm-then-ack (msg/s; vs publish with receipts)', cell('remote-shovel'), cell('remote-publish-stomp'), ratio('remote-shovel', 'remote-publish-stomp')],
      ['federation RabbitMQ → local, acked after the local commit (msg/s; vs consume with acks)', cell('remote-federation'), cell('remote-consume-stomp'), ratio('remote-federation', 'remote-consume-stomp')],
      ['offline outbox drain, 10,000 queued (msg/s; vs publish with receipts)', cell('remote-drain'), cell('remote-publish-stomp'), ratio('remote-drain', 'remote-publish-stomp')],
    ],
  ),
)
out.push('')
out.push('**Targets**')
out.push('')
out.push(table(['target', 'figure (same run)', 'met'], run.targets.map((t) => [t.label, t.figure, t.met === null || t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**'])))
console.log(out.join('\n'))
