// The benchmark page: every tab loads it, and the Node driver calls `window.bench.*` through
// page.evaluate. Baselines and Warren live side by side so one run measures both.
import * as base from './baselines.js'
import { now, sleep } from './shapes.js'
import * as remote from './remote.js'
import * as warren from './warren.js'

/** Registers the workbox peer's service worker and waits until it is active. */
async function workboxReady(): Promise<ServiceWorker> {
  const registration = await navigator.serviceWorker.register('/workbox.sw.js', { type: 'module', scope: '/' })
  await navigator.serviceWorker.ready
  const worker = registration.active
  if (!worker) throw new Error('the workbox service worker did not activate')
  return worker
}

/** `n` pushRequest() calls on workbox's Queue, `inFlight` at a time; returns ms and how many it stored. */
async function workbox(n: number, inFlight: number): Promise<{ ms: number; stored: number }> {
  const worker = await workboxReady()
  const { port1, port2 } = new MessageChannel()
  const done = new Promise<{ ms: number; stored: number }>((resolve) => (port1.onmessage = (event) => resolve(event.data)))
  worker.postMessage({ n, inFlight, body: JSON.stringify({ id: 'msg-0000000000', seq: 0, ts: 1700000000000, topic: 'bench.topic', headers: { k: 'v' }, body: { text: 'hello warren' } }) }, [port2])
  return done
}

const bench = { base, warren, remote, now, sleep, workbox, workboxReady }

declare global {
  interface Window {
    bench: typeof bench
  }
}
window.bench = bench
