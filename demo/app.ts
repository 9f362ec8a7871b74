/**
 * The demo app: a chat on a topic exchange and a work queue of image jobs processed by
 * dedicated workers, in as many tabs as you like, with the management console beside it.
 * Everything goes through the one broker the tabs share (a SharedWorker).
 */
import { mountConsole } from '../src/console/index.js'
import type { WorkerNotice } from './image-worker.js'
import { chat, deadJobs, imageJobs, jobEvents, type ChatMessage, type Job, type JobEvent } from './topology.js'
import { Consumer, Queue, binding, connect, startBrokerWorker, type Connection } from './warren.js'

const params = new URLSearchParams(location.search)
const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!

// ---------------------------------------------------------------- who am I

const ANIMALS = ['Otter', 'Badger', 'Heron', 'Lynx', 'Marten', 'Puffin', 'Hare', 'Wren', 'Fox', 'Stoat', 'Vole', 'Kestrel']
const tabName = sessionStorage.getItem('warren-demo-name') ?? `${ANIMALS[Math.floor(Math.random() * ANIMALS.length)]} ${Math.floor(Math.random() * 90 + 10)}`
sessionStorage.setItem('warren-demo-name', tabName)
$('#me').textContent = tabName
document.title = `Warren demo · ${tabName}`

// ---------------------------------------------------------------- console

if (params.get('console') !== '0') {
  mountConsole($('#console'), { vhost: '/', sharedWorker: startBrokerWorker })
} else {
  $('#console').remove()
  document.body.classList.add('no-console')
}

// ---------------------------------------------------------------- chat

interface ChatLine extends ChatMessage {
  room: string
  mine: boolean
}

const chatLines: ChatLine[] = []
const ROOMS = ['general', 'random'] as const
const joined = new Set<string>(['general', 'random'])

function renderChatLine(line: ChatLine): void {
  const list = $('#chat-log')
  const row = document.createElement('li')
  row.className = line.mine ? 'mine' : ''
  const room = document.createElement('span')
  room.className = 'room'
  room.textContent = `#${line.room}`
  const who = document.createElement('b')
  who.textContent = line.from
  const text = document.createElement('span')
  text.textContent = line.text
  row.append(room, who, text)
  list.append(row)
  list.scrollTop = list.scrollHeight
  $('#chat-empty').hidden = true
}

async function startChat(conn: Connection): Promise<(text: string, room: string) => Promise<void>> {
  // One exclusive, server-named queue per tab, bound to the rooms it joined.
  const inbox = new Queue<ChatMessage | string>('', {
    exclusive: true,
    bindings: [...joined].map((room) => binding(chat, { routingKey: `room.${room}` })),
  })
  // A channel of its own: an error elsewhere (a 404 from a queue deleted in the console)
  // closes only the channel it happened on, and must not take the chat with it.
  const consumer = new Consumer<ChatMessage | string>(await conn.channel(), {
    queues: inbox,
    noAck: true,
    callbacks: [
      (body, message) => {
        const room = message.deliveryInfo.routingKey.replace(/^room\./, '')
        // Messages published from the console may be plain text.
        const parsed: ChatMessage = typeof body === 'string' ? { from: 'console', text: body, at: Date.now() } : body
        const line: ChatLine = { from: String(parsed.from ?? '?'), text: String(parsed.text ?? ''), at: Number(parsed.at ?? Date.now()), room, mine: parsed.from === tabName }
        chatLines.push(line)
        renderChatLine(line)
      },
    ],
  })
  await consumer.consume()
  const bound = consumer.queues[0]!

  for (const room of ROOMS) {
    const box = $<HTMLInputElement>(`#room-${room}`)
    box.checked = joined.has(room)
    box.addEventListener('change', async () => {
      // Joining or leaving a room is binding or unbinding: watch the bindings in the console.
      if (box.checked) await bound.bindTo(chat, { routingKey: `room.${room}` })
      else await bound.unbindFrom(chat, { routingKey: `room.${room}` })
    })
  }

  const producer = conn.producer<ChatMessage>({ exchange: chat })
  return async (text, room) => {
    await producer.publish({ from: tabName, text, at: Date.now() }, { routingKey: `room.${room}` })
  }
}

// ---------------------------------------------------------------- jobs

interface JobView extends JobEvent {
  /** When this tab first heard of the job: the board lists newest first, in a stable order. */
  seen: number
}

const jobs = new Map<string, JobView>()
let seenSeq = 0
const NAMES = ['sunset.jpg', 'cat.png', 'harbor.heic', 'mountains.raw', 'receipt.pdf', 'portrait.jpg', 'nebula.tiff', 'bicycle.webp', 'map.png', 'forest.jpg']
let jobSeq = 0

function renderJobs(): void {
  const list = $('#jobs')
  const recent = [...jobs.values()].sort((a, b) => b.seen - a.seen).slice(0, 14)
  $('#jobs-empty').hidden = recent.length > 0
  list.replaceChildren(
    ...recent.map((job) => {
      const row = document.createElement('li')
      row.className = `job ${job.state}`
      row.dataset.job = job.id
      const name = document.createElement('span')
      name.className = 'name'
      name.textContent = job.name
      const bar = document.createElement('span')
      bar.className = 'bar'
      const fill = document.createElement('i')
      fill.style.width = `${job.pct}%`
      bar.append(fill)
      const state = document.createElement('span')
      state.className = 'state'
      state.textContent =
        job.state === 'queued' ? 'waiting' : job.state === 'failed' ? 'dead-lettered' : job.state === 'done' ? 'done' : `${job.pct}%`
      const who = document.createElement('span')
      who.className = 'who'
      who.textContent = job.worker ?? ''
      row.append(name, bar, state, who)
      if (job.redelivered) row.append(badge('redelivered', 'redelivered'))
      if (job.retried) row.append(badge('retried', 'from DLQ'))
      return row
    }),
  )
}

function badge(cls: string, text: string): HTMLElement {
  const el = document.createElement('span')
  el.className = `badge ${cls}`
  el.textContent = text
  return el
}

async function startJobs(conn: Connection) {
  await conn.maybeDeclare(deadJobs)
  await conn.maybeDeclare(imageJobs)
  // Every tab hears every job's progress on its own exclusive queue.
  const progress = new Queue<JobEvent>('', { exclusive: true, exchange: jobEvents, routingKey: 'job.#' })
  const consumer = new Consumer<JobEvent>(await conn.channel(), {
    queues: progress,
    noAck: true,
    callbacks: [
      (event) => {
        const known = jobs.get(event.id)
        // A late 'progress' must not overwrite 'done'.
        if (known?.state === 'done' && event.state !== 'done' && event.state !== 'started') return
        jobs.set(event.id, { ...known, ...event, redelivered: Boolean(known?.redelivered || event.redelivered), retried: Boolean(known?.retried || event.retried), seen: known?.seen ?? ++seenSeq })
        scheduleRender()
      },
    ],
  })
  await consumer.consume()

  const producer = conn.producer<Job>()
  const events = conn.producer<JobEvent>({ exchange: jobEvents })
  const addJobs = async (count: number, options: Partial<Job> = {}): Promise<string[]> => {
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const id = `${tabName.split(' ')[0]!.toLowerCase()}-${Date.now().toString(36)}-${++jobSeq}`
      const job: Job = { id, name: NAMES[Math.floor(Math.random() * NAMES.length)]!, steps: 10, stepMs: 350 + Math.floor(Math.random() * 300), ...options }
      // Persistent, on a durable queue: the job survives a reload of every tab.
      await producer.publish(job, { routingKey: imageJobs.name, deliveryMode: 'persistent' })
      await events.publish({ id, name: job.name, state: 'queued', pct: 0 }, { routingKey: `job.${id}.queued`, deliveryMode: 'transient' })
      ids.push(id)
    }
    return ids
  }
  return { addJobs }
}

let renderQueued = false
function scheduleRender(): void {
  if (renderQueued) return
  renderQueued = true
  requestAnimationFrame(() => {
    renderQueued = false
    renderJobs()
  })
}

// ---------------------------------------------------------------- workers

interface WorkerView {
  id: number
  name: string
  worker: Worker
  state: 'starting' | 'idle' | 'busy' | 'cancelled' | 'error'
  job?: Job
  pct: number
  redelivered: boolean
  message?: string
}

const workers = new Map<number, WorkerView>()
let workerSeq = 0

function spawnWorker(): number {
  const id = ++workerSeq
  const name = `worker ${id} · ${tabName}`
  const worker = new Worker(new URL('./image-worker.ts', import.meta.url), { type: 'module', name })
  const view: WorkerView = { id, name, worker, state: 'starting', pct: 0, redelivered: false }
  worker.onmessage = (event: MessageEvent<WorkerNotice>) => {
    const notice = event.data
    if (notice.type === 'ready' || notice.type === 'idle') Object.assign(view, { state: 'idle', job: undefined, pct: 0, redelivered: false })
    else if (notice.type === 'busy') Object.assign(view, { state: 'busy', job: notice.job, pct: notice.pct, redelivered: notice.redelivered })
    else if (notice.type === 'cancelled') Object.assign(view, { state: 'cancelled', job: undefined })
    else if (notice.type === 'error') Object.assign(view, { state: 'error', message: notice.message })
    renderWorkers()
  }
  workers.set(id, view)
  renderWorkers()
  return id
}

/** Terminates a worker (the busiest one by default) without any goodbye: a crash. */
function killWorker(id?: number): number | undefined {
  const victim = id !== undefined ? workers.get(id) : [...workers.values()].find((w) => w.state === 'busy') ?? [...workers.values()][0]
  if (!victim) return undefined
  victim.worker.terminate()
  workers.delete(victim.id)
  renderWorkers()
  return victim.id
}

function renderWorkers(): void {
  const list = $('#workers')
  $('#workers-empty').hidden = workers.size > 0
  list.replaceChildren(
    ...[...workers.values()].map((view) => {
      const row = document.createElement('li')
      row.className = `worker ${view.state}`
      row.dataset.worker = String(view.id)
      const dot = document.createElement('i')
      const label = document.createElement('span')
      label.className = 'label'
      label.textContent = view.name
      const what = document.createElement('span')
      what.className = 'what'
      what.textContent =
        view.state === 'busy' ? `${view.job?.name} ${view.pct}%${view.redelivered ? ' (redelivered)' : ''}`
          : view.state === 'cancelled' ? 'queue deleted: consumer cancelled'
            : view.state === 'error' ? view.message ?? 'error' : view.state
      const kill = document.createElement('button')
      kill.type = 'button'
      kill.className = 'small danger'
      kill.textContent = 'Kill'
      kill.title = 'Terminate this worker now, mid-job: no ack, no goodbye'
      kill.onclick = () => killWorker(view.id)
      row.append(dot, label, what, kill)
      return row
    }),
  )
}

// ---------------------------------------------------------------- wiring

let waiting = 0
let dead = 0

async function main() {
  const conn = await connect(`app · ${tabName}`)
  const send = await startChat(conn)
  const { addJobs } = await startJobs(conn)

  const form = $<HTMLFormElement>('#chat-form')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const input = $<HTMLInputElement>('#chat-input')
    const text = input.value.trim()
    if (!text) return
    input.value = ''
    await send(text, $<HTMLSelectElement>('#chat-room').value)
  })

  $('#add-jobs').addEventListener('click', () => void addJobs(5))
  $('#add-poison').addEventListener('click', () => void addJobs(1, { name: 'corrupt.png', poison: true, steps: 6 }))
  $('#add-worker').addEventListener('click', () => spawnWorker())
  $('#kill-worker').addEventListener('click', () => killWorker())
  $('#new-tab').addEventListener('click', () => window.open(location.href, '_blank'))

  // How many jobs wait: a passive declare answers with the ready count (as queue_declare does).
  // On a missing queue it fails with 404, which closes its channel: so it gets its own.
  let probe = await conn.channel()
  const refreshWaiting = async () => {
    try {
      if (probe.state !== 'open') probe = await conn.channel()
      waiting = (await imageJobs.bind(probe).queueDeclare({ passive: true })).messageCount
      dead = (await deadJobs.bind(probe).queueDeclare({ passive: true })).messageCount
    } catch {
      // Deleted from the console: the count shows as gone.
      waiting = -1
    }
    $('#waiting').textContent = waiting < 0 ? 'queue deleted' : `${waiting} waiting`
    $('#dead').textContent = `${dead} in the dead-letter queue`
    return waiting
  }
  setInterval(() => void refreshWaiting(), 1000)
  void refreshWaiting()

  const initial = Number(params.get('workers') ?? 2)
  for (let i = 0; i < initial; i++) spawnWorker()

  return { conn, send, addJobs, refreshWaiting }
}

const started = main()
started.catch((error: unknown) => {
  $('#fatal').hidden = false
  $('#fatal').textContent = `Could not reach the broker: ${(error as Error)?.message ?? error}`
})

/** For tests (and the curious, in devtools). */
const demo = {
  name: tabName,
  ready: started.then(() => undefined),
  chat: chatLines,
  async sendChat(text: string, room = 'general') {
    await (await started).send(text, room)
  },
  async addJobs(count: number, options: Partial<Job> = {}) {
    return (await started).addJobs(count, options)
  },
  spawnWorker,
  killWorker,
  workers: () => [...workers.values()].map(({ worker: _w, ...view }) => view),
  jobs: () => [...jobs.values()],
  waiting: () => waiting,
  async refreshWaiting() {
    return (await started).refreshWaiting()
  },
}

declare global {
  interface Window {
    demo: typeof demo
  }
}
window.demo = demo
