/// <reference types="vite/client" />
/**
 * The outbox page: compose mails, each a durable job; this page's worker sends them while the
 * network is there and pauses while it is not; the service worker sends what is left when the
 * page is gone (Background Sync, Chromium). Job events from every context feed the activity log.
 */
import swUrl from './sw.ts?worker&url'
import { openOutbox, peekReceipts, send, type Mail, type Receipt } from './outbox.js'
import { Connection, forcedHost, hostLabel, networkStatus, wire, type JobEvent } from './warren.js'

wire()

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!

function fatal(error: unknown): void {
  const box = $('#fatal')
  box.hidden = false
  box.textContent = `Something went wrong: ${error instanceof Error ? error.message : String(error)}`
}

// ---------------------------------------------------------------- service worker

/** Background Sync is Chromium's only: `sync` may be missing. */
type SyncRegistration = Omit<ServiceWorkerRegistration, 'sync'> & { sync?: { register(tag: string): Promise<void> } }

async function registerServiceWorker(): Promise<SyncRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined
  try {
    // Vite compiles sw.ts into a module worker (in dev, served from this folder, so its scope
    // can be this folder; a build puts it under /assets/, see the README).
    return await navigator.serviceWorker.register(swUrl, { type: 'module', scope: './' })
  } catch (error) {
    console.warn('warren outbox: the service worker could not take this scope; registering it without (no offline reload):', error)
    return navigator.serviceWorker.register(swUrl, { type: 'module' }).catch(() => undefined)
  }
}

/** Asks for a `sync` event: Chromium fires it when the network is back, even with the app closed. */
async function requestSync(registration: SyncRegistration | undefined): Promise<void> {
  await registration?.sync?.register('outbox').catch(() => {})
}

// ---------------------------------------------------------------- UI

const time = (at: number) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

function logLine(list: HTMLElement, className: string, at: number, text: string): void {
  const row = document.createElement('li')
  row.className = className
  const when = document.createElement('time')
  when.textContent = time(at)
  const what = document.createElement('span')
  what.textContent = text
  row.append(when, what)
  list.prepend(row)
  while (list.children.length > 60) list.lastElementChild?.remove()
}

const short = (id: string) => id.slice(0, 8)

function describe(event: JobEvent<Receipt>): string {
  switch (event.type) {
    case 'added':
      return `job ${short(event.jobId)} added${event.delay ? `, due in ${event.delay} ms` : ''}`
    case 'active':
      return `job ${short(event.jobId)}: sending (attempt ${event.attempt}${event.redelivered ? ', back after its worker was lost' : ''})`
    case 'progress':
      return `job ${short(event.jobId)}: ${JSON.stringify(event.progress)}`
    case 'completed':
      return `job ${short(event.jobId)}: sent by the ${event.result?.by ?? '?'} (attempt ${event.attempt})`
    case 'retrying':
      return `job ${short(event.jobId)}: ${event.error}; attempt ${event.attempt + 1} in ${((event.delay ?? 0) / 1000).toFixed(1)} s`
    case 'failed':
      return `job ${short(event.jobId)}: ${event.error}; gave up after ${event.attempt} attempts${event.deadLettered ? ' (dead-lettered)' : ''}`
  }
}

function renderReceipts(list: Receipt[]): void {
  const ul = $('#sent')
  ul.replaceChildren()
  for (const receipt of [...list].reverse()) {
    logLine(ul, 'completed', receipt.sentAt, `to ${receipt.to}: “${receipt.text}” — by the ${receipt.by}, attempt ${receipt.attempt}`)
  }
  $('#sent-empty').hidden = list.length > 0
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const registration = await registerServiceWorker()
  const conn = await Connection.open({ url: 'shared://', name: 'outbox page', ...(forcedHost ? { host: forcedHost } : {}) })
  const outbox = openOutbox(conn)
  await outbox.declare()

  const showHost = async () => {
    $('#host').textContent = `broker: ${await hostLabel(conn.brokerId)} · epoch ${conn.epoch}`
  }
  void showHost()
  void (async () => {
    for await (const status of conn.status) if (status.type === 'connected') void showHost()
  })()

  const network = networkStatus()
  const showNetwork = (online: boolean) => {
    const badge = $('#network')
    badge.textContent = online ? 'online' : 'offline: jobs wait'
    badge.classList.toggle('offline', !online)
  }
  showNetwork(network.online)
  network.subscribe(showNetwork)

  // One refresh at a time (two peeks at once would each see part of the receipts), and one
  // more after it when asked meanwhile.
  let refreshing: Promise<void> | undefined
  let again = false
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      again = true
      return refreshing
    }
    refreshing = (async () => {
      do {
        again = false
        const counts = await outbox.counts()
        $('#waiting').textContent = String(counts.waiting)
        $('#dead').textContent = String(counts.dead)
        renderReceipts(await peekReceipts(conn))
      } while (again)
    })().finally(() => (refreshing = undefined))
    return refreshing
  }

  // Every context's job events (this page's, another tab's, the service worker's).
  outbox.events({
    onEvent: (event) => {
      logLine($('#activity'), event.type, event.at, describe(event as JobEvent<Receipt>))
      if (event.type !== 'progress' && event.type !== 'active') void refresh()
    },
  })

  // This page's worker: two at a time, paused while offline.
  const worker = outbox.process((job) => send(conn, job, 'page'), { concurrency: 2 })
  worker.on((event) => {
    if (event.type === 'requeued') logLine($('#activity'), 'requeued', Date.now(), `job ${short(event.job.id)}: offline, put back without using an attempt`)
    if (event.type === 'paused' || event.type === 'resumed') logLine($('#activity'), 'requeued', Date.now(), `this page's worker ${event.type} (${event.reason})`)
  })

  const add = async (mail: Omit<Mail, 'createdAt'>) => {
    await outbox.add({ ...mail, createdAt: Date.now() })
    if (!network.online) await requestSync(registration)
    void refresh()
  }
  const compose = () => ({ to: $<HTMLInputElement>('#to').value, text: $<HTMLTextAreaElement>('#text').value })
  $('#compose').addEventListener('submit', (event) => {
    event.preventDefault()
    add(compose()).catch(fatal)
  })
  $('#send-flaky').addEventListener('click', () => void add({ ...compose(), fail: 'twice' }).catch(fatal))
  $('#send-poison').addEventListener('click', () => void add({ ...compose(), fail: 'always' }).catch(fatal))
  $('#retry-dead').addEventListener('click', () => void outbox.retryDead().then(refresh).catch(fatal))

  // Leaving with mail still waiting: let the service worker finish the job when it can.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'hidden') return
    void outbox.counts().then((counts) => (counts.waiting > 0 ? requestSync(registration) : undefined)).catch(() => {})
  })

  // Installable: offer the button when the browser says so.
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault()
    const button = $<HTMLButtonElement>('#install')
    button.hidden = false
    button.onclick = () => {
      button.hidden = true
      void (event as Event & { prompt(): Promise<void> }).prompt()
    }
  })

  await refresh()
}

main().catch(fatal)
