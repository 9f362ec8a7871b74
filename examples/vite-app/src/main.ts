// Every tab: connects to the broker (starting it in a SharedWorker if no tab did yet), chats on
// a topic exchange, starts a dedicated worker, adds durable jobs and shows their results.
import { Connection, Exchange, Queue, useSharedWorker } from 'warren'
import { JobQueue } from 'warren/jobs'
import { JOBS, type Double, type Doubled } from './jobs.ts'

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!
const show = (list: string, text: string) => $(list).append(Object.assign(document.createElement('li'), { textContent: text }))

useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))
const conn = await Connection.open('shared://')

// Chat: each tab has its own exclusive queue bound to the topic exchange.
interface Line { from: string; text: string }
const chat = new Exchange<Line>('starter.chat', 'topic', { durable: false })
const inbox = new Queue<Line>('', { exchange: chat, routingKey: 'room.#', exclusive: true })
await conn.consumer(inbox, { noAck: true, callbacks: [(line) => show('#messages', `${line.from}: ${line.text}`)] }).consume()
const say = conn.producer<Line>({ exchange: chat, routingKey: 'room.lobby' })
$<HTMLFormElement>('#chat').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  void say.publish({ from: conn.clientId, text: String(new FormData(form).get('text')) })
  form.reset()
})

// Jobs: a durable queue; this tab's dedicated worker (or another tab's) runs them.
new Worker(new URL('./jobs.worker.ts', import.meta.url), { type: 'module' })
const jobs = new JobQueue<Double, Doubled>(conn, JOBS)
await jobs.events({
  types: ['completed'],
  onEvent: ({ jobId, result }) => show('#results', `${jobId}: ${result?.result} by ${result?.by}`),
}).ready
$<HTMLFormElement>('#jobs').addEventListener('submit', (event) => {
  event.preventDefault()
  void jobs.add({ n: Number(new FormData(event.currentTarget as HTMLFormElement).get('n')) })
})

$('#status').textContent = `connected as ${conn.clientId}`

// The management console, in dev only (it is not part of the production bundle).
if (import.meta.env.DEV) {
  const { mountConsole } = await import('warren/console')
  mountConsole($('#console'), { vhost: '/' })
}
