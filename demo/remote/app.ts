/**
 * Two devices through RabbitMQ. Each device (browser profile) runs its own broker; the links:
 * - chat: local queue `chat-out` → shovel → RabbitMQ `amq.topic` / `demo.chat`; back in through
 *   a federation from a durable queue of this device's own (`demo-chat-<device>`) into `chat-in`;
 * - jobs: `jobs-out` → shovel → `amq.topic` / `demo.jobs`; in through a federation from ONE
 *   queue every device shares (`demo-jobs`, prefetch 1): each job is done by one device.
 * "Go offline" deletes the four links and "Come back" declares them again: the local queues
 * and RabbitMQ's durable queues keep everything in between.
 */
import { Connection, type Message } from '../../src/index.js'
import { openManagement } from '../../src/client/management.js'
import { watchRemotes } from '../../src/client/remotes.js'
import type { FederationSpec, ShovelSpec } from '../../src/protocol/remote.js'
import { connectShared, useSharedWorker } from '../../src/transport/shared.js'
import { registerTransport } from '../../src/index.js'

registerTransport('shared', () => connectShared)
useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

const VHOST = 'two-devices'
const device = new URLSearchParams(location.search).get('device') ?? (localStorage['warren-device'] ??= `device-${crypto.randomUUID().slice(0, 4)}`)
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
$('me').textContent = device

const shovels: ShovelSpec[] = [
  { name: 'chat-out', remote: 'rabbit', queue: 'chat-out', exchange: 'amq.topic', routingKey: 'demo.chat' },
  { name: 'jobs-out', remote: 'rabbit', queue: 'jobs-out', exchange: 'amq.topic', routingKey: 'demo.jobs' },
]
const federations: FederationSpec[] = [
  { name: 'chat-in', remote: 'rabbit', source: { exchange: 'amq.topic', bindingKey: 'demo.chat', queueName: `demo-chat-${device}` }, exchange: '', routingKey: 'chat-in' },
  { name: 'jobs-in', remote: 'rabbit', source: { exchange: 'amq.topic', bindingKey: 'demo.jobs', queueName: 'demo-jobs' }, exchange: '', routingKey: 'jobs-in', prefetch: 1 },
]

const conn = await Connection.open(`shared://${VHOST}`)
const management = await openManagement({ vhost: VHOST })
for (const name of ['chat-out', 'chat-in', 'jobs-out', 'jobs-in']) await management.declareQueue({ name, durable: true })

let online = false
async function goOnline(): Promise<void> {
  for (const spec of shovels) await management.declareShovel(spec)
  for (const spec of federations) await management.declareFederation(spec)
  online = true
}
async function goOffline(): Promise<void> {
  for (const { name } of [...shovels, ...federations]) await management.deleteRemoteLink(name)
  online = false
}

const offline = $<HTMLButtonElement>('offline')
offline.addEventListener('click', async () => {
  offline.disabled = true
  try {
    await (online ? goOffline() : goOnline())
  } finally {
    offline.disabled = false
    offline.textContent = online ? 'Go offline' : 'Come back online'
    document.body.dataset.online = String(online)
  }
})

watchRemotes(VHOST, (remotes) => {
  const rabbit = remotes.find((r) => r.name === 'rabbit')
  const state = $('remote')
  state.dataset.state = online ? rabbit?.state ?? 'unknown' : 'paused'
  state.textContent = online ? `${rabbit?.state ?? 'unknown'}${rabbit?.lastError ? ` (${rabbit.lastError.message})` : ''}` : 'paused by you'
  void showOutbox()
})

// The outbox: what waits in the local queues the shovels drain (there while paused too).
async function showOutbox(): Promise<void> {
  const { queues } = await management.overview()
  $('backlog').textContent = String(queues.filter((q) => q.name === 'chat-out' || q.name === 'jobs-out').reduce((n, q) => n + q.ready + q.unacked, 0))
}
setInterval(() => void showOutbox(), 500)

interface Line { from: string; text: string; at: number }
const producer = conn.producer()
const send = (queue: string, line: Line) =>
  producer.publish(JSON.stringify(line), { routingKey: queue, serializer: 'text', deliveryMode: 'persistent', messageId: crypto.randomUUID() })

const item = (list: string, line: Line, note: string, data: Record<string, string>) => {
  const li = document.createElement('li')
  Object.assign(li.dataset, data)
  li.append(`${line.from}: ${line.text} `, Object.assign(document.createElement('small'), { textContent: note }))
  $(list).append(li)
}
// Text bodies cross RabbitMQ as text (text/plain); JSON inside, so the demo stays in one serializer.
const parse = (message: Message<unknown>) => JSON.parse(String(message.body)) as Line

// Every chat line comes back through RabbitMQ, this device's own too: on screen is what RabbitMQ has.
await conn.consumer('chat-in', {
  prefetch: 50,
  onMessage: (message) => {
    const line = parse(message)
    item('chat-log', line, new Date(line.at).toLocaleTimeString(), { from: line.from, text: line.text })
    message.ack()
  },
}).consume()

await conn.consumer('jobs-in', {
  prefetch: 1,
  onMessage: (message) => {
    const job = parse(message)
    item('jobs-log', job, `done by ${device}`, { job: job.text, from: job.from })
    message.ack()
  },
}).consume()

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('chat-text')
  if (input.value) void send('chat-out', { from: device, text: input.value, at: Date.now() })
  input.value = ''
})
let jobs = 0
$('post-jobs').addEventListener('click', () => {
  for (let i = 0; i < 5; i++) void send('jobs-out', { from: device, text: `${device}#${++jobs}`, at: Date.now() })
})

await goOnline()
offline.textContent = 'Go offline'
document.body.dataset.online = 'true'
document.body.dataset.ready = 'true'
