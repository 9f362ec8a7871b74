// The bare primitives and the pub/sub peer, driven from the page: BroadcastChannel tab → tab,
// a relay through a SharedWorker with no broker in it (one post per message, or a batch per
// post), the `broadcast-channel` npm package, and raw IndexedDB puts in that worker.
import { BroadcastChannel as LibChannel } from 'broadcast-channel'
import { makeMessage, now, percentile, YIELD_EVERY, yieldTask, type Envelope, type Size } from './shapes.js'

/** How messages travel in a baseline. */
export type Path =
  | 'bc' // BroadcastChannel tab → tab
  | 'lib' // the broadcast-channel package (native method) tab → tab
  | 'relay-bc' // BroadcastChannel 'in' → SharedWorker → the receiver's BroadcastChannel
  | 'relay-port' // MessagePort → SharedWorker → MessagePort

export interface Received {
  /** When the last expected message arrived. */
  t: number
  count: number
  outOfOrder: number
}

let relay: SharedWorker | undefined
let role = ''
const portListeners = new Set<(data: unknown) => void>()
let idbReply: ((result: unknown) => void) | undefined

/** Starts (or joins) the relay SharedWorker under `myRole`; resolves when it answered. */
export function relayJoin(myRole: string): Promise<void> {
  role = myRole
  return new Promise((resolve) => {
    relay = new SharedWorker(new URL('./relay.worker.ts', import.meta.url), { type: 'module', name: 'bench-relay' })
    relay.port.onmessage = (event) => {
      const data = event.data as { op?: string; result?: unknown } | unknown[]
      if (!Array.isArray(data) && data.op === 'ready') {
        relay!.port.postMessage({ op: 'hello', role })
        resolve()
      } else if (!Array.isArray(data) && data.op === 'idb-result') idbReply?.(data.result)
      else for (const listener of portListeners) listener(data)
    }
  })
}

/** A sink for `path`: calls `onData` with every post addressed to this tab. Returns a closer. */
function listen(path: Path, channelName: string, onData: (data: unknown) => void): () => void {
  if (path === 'bc') {
    const channel = new BroadcastChannel(channelName)
    channel.onmessage = (event) => onData(event.data)
    return () => channel.close()
  }
  if (path === 'lib') {
    const channel = new LibChannel(channelName, { type: 'native' })
    channel.onmessage = (data) => onData(data)
    return () => void channel.close()
  }
  if (path === 'relay-bc') {
    const channel = new BroadcastChannel(`relay-out-${role}`)
    channel.onmessage = (event) => onData(event.data)
    return () => channel.close()
  }
  portListeners.add(onData)
  return () => portListeners.delete(onData)
}

/** A sender for `path`: posts `data` to `to` (a role, or for bc/lib the channel name). */
function sender(path: Path, to: string): { post(data: unknown): void; close(): void } {
  if (path === 'bc') {
    const channel = new BroadcastChannel(to)
    return { post: (data) => channel.postMessage(data), close: () => channel.close() }
  }
  if (path === 'lib') {
    const channel = new LibChannel(to, { type: 'native' })
    return { post: (data) => void channel.postMessage(data), close: () => void channel.close() }
  }
  if (path === 'relay-bc') {
    const channel = new BroadcastChannel('relay-in')
    return { post: (data) => channel.postMessage({ to, data }), close: () => channel.close() }
  }
  const port = relay!.port
  return { post: (data) => port.postMessage({ op: 'relay', to, data }), close: () => {} }
}

let pending: Promise<Received> | undefined
let closePending: (() => void) | undefined

/** Arms a receiver for `n` messages (batched posts count each message). */
export function arm(path: Path, channelName: string, n: number): void {
  closePending?.()
  let count = 0
  let last = -1
  let outOfOrder = 0
  pending = new Promise<Received>((resolve) => {
    const take = (message: Envelope) => {
      if (message.seq !== last + 1) outOfOrder++
      last = message.seq
      if (++count === n) resolve({ t: now(), count, outOfOrder })
    }
    closePending = listen(path, channelName, (data) => {
      if (Array.isArray(data)) for (const message of data as Envelope[]) take(message)
      else take(data as Envelope)
    })
  })
}

export async function received(timeoutMs: number): Promise<Received | { error: string }> {
  const result = await Promise.race([pending!, new Promise<{ error: string }>((r) => setTimeout(() => r({ error: 'timeout' }), timeoutMs))])
  closePending?.()
  closePending = undefined
  return result
}

/** Posts `n` messages (a fresh object each), one per post or `batch` per post; returns the start time. */
export async function send(path: Path, to: string, n: number, size: Size, batch = false): Promise<number> {
  const template = makeMessage(size, 0)
  const out = sender(path, to)
  const every = YIELD_EVERY[size]
  const t0 = now()
  let chunk: Envelope[] = []
  for (let i = 0; i < n; i++) {
    const message = { ...template, seq: i }
    if (batch) chunk.push(message)
    else out.post(message)
    if (i % every === every - 1 || i === n - 1) {
      if (batch) {
        out.post(chunk)
        chunk = []
      }
      await yieldTask()
    }
  }
  // The library posts after a promise: keep its channel open until the posts are out.
  if (path === 'lib') await new Promise((r) => setTimeout(r, 200))
  out.close()
  return t0
}

// ------------------------------------------------------------------ round trips

let closeEcho: (() => void) | undefined

/** Echoes every message on `path` back to `replyTo`. */
export function echo(path: Path, inbox: string, replyTo: string): void {
  closeEcho?.()
  const out = sender(path, replyTo)
  const close = listen(path, inbox, (data) => out.post(data))
  closeEcho = () => {
    close()
    out.close()
  }
}

/** Ping-pong: `iterations` timed round trips after `warmup`; returns p50 and p99 in ms. */
export async function ping(path: Path, inbox: string, to: string, size: Size, iterations: number, warmup: number) {
  const template = makeMessage(size, 0)
  const out = sender(path, to)
  let wake: (() => void) | undefined
  const close = listen(path, inbox, () => wake?.())
  const rtts: number[] = []
  for (let i = 0; i < warmup + iterations; i++) {
    const back = new Promise<void>((resolve) => (wake = resolve))
    const t0 = performance.now()
    out.post({ ...template, seq: i })
    await back
    if (i >= warmup) rtts.push(performance.now() - t0)
  }
  close()
  out.close()
  rtts.sort((a, b) => a - b)
  return { p50: percentile(rtts, 50), p99: percentile(rtts, 99), n: rtts.length }
}

// ------------------------------------------------------------------ background load

let loadStop: (() => void) | undefined

/** Sends `rate` messages/s to `to` in chunks every 10 ms until stopped (one post per message). */
export function loadStart(path: Path, to: string, rate: number, size: Size): void {
  const template = makeMessage(size, 0)
  const out = sender(path, to)
  let seq = 0
  const perTick = Math.max(1, Math.round(rate / 100))
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) out.post({ ...template, seq: seq++ })
  }, 10)
  loadStop = () => {
    clearInterval(timer)
    out.close()
  }
}

export function loadStopNow(): void {
  loadStop?.()
  loadStop = undefined
}

let sinkClose: (() => void) | undefined
export let sinkCount = 0
export function loadSink(path: Path, channelName: string): void {
  sinkClose?.()
  sinkCount = 0
  sinkClose = listen(path, channelName, () => void sinkCount++)
}

// ------------------------------------------------------------------ IndexedDB in the SharedWorker

export function idb(perTx: number, records: number, budgetMs: number): Promise<{ records: number; ms: number }> {
  return new Promise((resolve) => {
    idbReply = resolve as (result: unknown) => void
    relay!.port.postMessage({ op: 'idb', name: `bench-idb-${Date.now()}`, perTx, records, budgetMs, record: makeMessage('small', 0) })
  })
}
