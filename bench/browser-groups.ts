// The browser groups: each configuration runs one unrecorded warm-up rep and then `reps`
// recorded ones, interleaved with its baselines (rep 1 of everything, then rep 2...), so
// drift on a shared 2-core machine hits Warren and the primitives alike.
import type { Page } from 'playwright-core'
import type { Browser } from './lib/browser.js'
import type { Results } from './lib/report.js'
import type { Path } from './pages/baselines.js'
import type { Size } from './pages/shapes.js'

export interface Plan {
  quick: boolean
  reps: number
  log: (line: string) => void
}

type Received = { t: number; count: number; outOfOrder: number } | { error: string }
const TIMEOUT = 120_000

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Tab i joins the relay worker under role `t<i>` once. */
const joined = new WeakSet<Page>()
async function relayTab(browser: Browser, i: number): Promise<Page> {
  const page = await browser.tab(i)
  if (!joined.has(page)) {
    await page.evaluate((role) => window.bench.base.relayJoin(role), `t${i}`)
    joined.add(page)
  }
  return page
}

const N: Record<Size, [number, number]> = { small: [40_000, 8_000], '4k': [8_000, 2_000], '64k': [800, 200] }
const count = (plan: Plan, size: Size) => N[size][plan.quick ? 1 : 0]

// ------------------------------------------------------------------ one measurement each

/** Bare one-way throughput tab 1 → tab 2 (msg/s). */
async function bare(browser: Browser, path: Path, size: Size, n: number, batch: boolean, tag: string): Promise<number> {
  const [a, b] = [await relayTab(browser, 1), await relayTab(browser, 2)]
  const channel = `raw-${tag}`
  const to = path === 'bc' || path === 'lib' ? channel : 't2'
  await b.evaluate(([p, c, k]) => window.bench.base.arm(p as Path, c as string, k as number), [path, channel, n] as const)
  if (path === 'lib') await pause(500) // limits.md pitfall 8: the library's clock skew drops early messages
  const t0 = await a.evaluate(([p, t, k, s, bt]) => window.bench.base.send(p as Path, t as string, k as number, s as Size, bt as boolean), [path, to, n, size, batch] as const)
  const r = (await b.evaluate((ms) => window.bench.base.received(ms), TIMEOUT)) as Received
  if ('error' in r) throw new Error(`${path} ${size}: ${r.error}`)
  return (n / (r.t - t0)) * 1000
}

/** Warren one-way throughput tab 1 → broker → tab 2 (msg/s at the consumer), work queue. */
async function warrenQueue(browser: Browser, size: Size, n: number, options: { noAck?: boolean; link?: 'broadcast' | 'port' }, tag: string) {
  const [a, b] = [await browser.tab(1), await browser.tab(2)]
  const queue = `wq-${tag}`
  const link = options.link ?? 'broadcast'
  await b.evaluate(([q, k, na, l]) => window.bench.warren.arm({ queue: q as string }, k as number, { prefetch: 100, noAck: na as boolean, link: l as 'broadcast' }), [queue, n, options.noAck ?? false, link] as const)
  const sent = await a.evaluate(([q, k, s, l]) => window.bench.warren.send({ queue: q as string }, k as number, s as Size, { link: l as 'broadcast' }), [queue, n, size, link] as const)
  const r = (await b.evaluate((ms) => window.bench.warren.received(ms), TIMEOUT)) as Received
  if ('error' in r) throw new Error(`warren ${size}: ${r.error}`)
  await a.evaluate((q) => window.bench.warren.deleteQueue(q), queue)
  return { rate: (n / (r.t - sent.t0)) * 1000, confirmRate: (n / (sent.t1 - sent.t0)) * 1000, failed: sent.failed, outOfOrder: r.outOfOrder }
}

/** Total deliveries/s, one publisher (tab 0) → `subs` subscriber tabs (1..subs). */
async function fanout(browser: Browser, kind: 'bc' | 'warren', subs: number, size: Size, n: number, tag: string): Promise<number> {
  const pub = await browser.tab(0)
  const tabs = await Promise.all(Array.from({ length: subs }, (_, i) => browser.tab(i + 1)))
  const name = `fan-${tag}`
  if (kind === 'bc') await Promise.all(tabs.map((t) => t.evaluate(([c, k]) => window.bench.base.arm('bc', c as string, k as number), [name, n] as const)))
  else await Promise.all(tabs.map((t) => t.evaluate(([x, k]) => window.bench.warren.arm({ fanout: x as string }, k as number, { prefetch: 100 }), [name, n] as const)))
  let t0: number
  if (kind === 'bc') t0 = await pub.evaluate(([c, k, s]) => window.bench.base.send('bc', c as string, k as number, s as Size), [name, n, size] as const)
  else t0 = (await pub.evaluate(([x, k, s]) => window.bench.warren.send({ fanout: x as string }, k as number, s as Size), [name, n, size] as const)).t0
  const ends = (await Promise.all(
    tabs.map((t) => t.evaluate(([k, ms]) => (k === 'bc' ? window.bench.base.received(ms as number) : window.bench.warren.received(ms as number)), [kind, TIMEOUT] as const)),
  )) as Received[]
  let last = 0
  for (const r of ends) {
    if ('error' in r) throw new Error(`fanout ${kind} ${subs}: ${r.error}`)
    last = Math.max(last, r.t)
  }
  return ((subs * n) / (last - t0)) * 1000
}

// ------------------------------------------------------------------ groups

export async function throughput(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const sizes: Size[] = plan.quick ? ['small'] : ['small', '4k', '64k']
  for (const size of sizes) {
    const rows = [
      { id: `bc/${size}`, label: 'bare BroadcastChannel tab → tab, 1 post/msg', run: (n: number, tag: string) => bare(browser, 'bc', size, n, false, tag) },
      { id: `relay-bc/${size}`, label: 'bare relay tab → SharedWorker → tab (BroadcastChannel), 1 post/msg', run: (n: number, tag: string) => bare(browser, 'relay-bc', size, n, false, tag) },
      { id: `relay-bc-batch/${size}`, label: 'bare relay (BroadcastChannel), batched per turn', run: (n: number, tag: string) => bare(browser, 'relay-bc', size, n, true, tag) },
      { id: `relay-port/${size}`, label: 'bare relay tab → SharedWorker → tab (MessagePorts), 1 post/msg', run: (n: number, tag: string) => bare(browser, 'relay-port', size, n, false, tag) },
      { id: `relay-port-batch/${size}`, label: 'bare relay (MessagePorts), batched per turn', run: (n: number, tag: string) => bare(browser, 'relay-port', size, n, true, tag) },
      { id: `lib/${size}`, label: 'broadcast-channel (npm) tab → tab', run: (n: number, tag: string) => bare(browser, 'lib', size, n, false, tag) },
    ]
    const warrenRows = [
      { id: `warren-ack/${size}`, label: 'Warren work queue, acks, prefetch 100', options: {} },
      { id: `warren-noack/${size}`, label: 'Warren work queue, noAck', options: { noAck: true } },
      { id: `warren-ack-port/${size}`, label: 'Warren work queue, acks, prefetch 100, MessagePort link', options: { link: 'port' as const } },
    ]
    for (const row of rows) results.add({ group: 'transient', id: row.id, label: row.label, size, unit: 'msg/s', better: 'higher' })
    for (const row of warrenRows) {
      results.add({ group: 'transient', id: row.id, label: row.label, size, unit: 'msg/s', better: 'higher' })
      results.add({ group: 'transient', id: `${row.id}:confirms`, label: `${row.label}: publisher confirms/s`, size, unit: 'msg/s', better: 'higher' })
    }
    const n = count(plan, size)
    for (let rep = 0; rep <= plan.reps; rep++) {
      const warm = rep === 0
      const k = warm ? Math.max(100, Math.round(n / 10)) : n
      for (const row of rows) {
        const value = await row.run(k, `${row.id}-${rep}`)
        if (!warm) results.push(row.id, value)
      }
      for (const row of warrenRows) {
        const r = await warrenQueue(browser, size, k, row.options, `${row.id.replace('/', '-')}-${rep}`)
        if (warm) continue
        results.push(row.id, r.rate, r.failed || r.outOfOrder ? `rep ${rep}: ${r.failed} nacked, ${r.outOfOrder} out of order` : undefined)
        results.push(`${row.id}:confirms`, r.confirmRate)
      }
      plan.log(`  transient ${size}: rep ${rep}${warm ? ' (warm-up)' : ''} done`)
    }
    results.ratio(`warren-ack/${size}`, `bc/${size}`, `Warren (acks) / bare BroadcastChannel, ${size}`)
    results.ratio(`warren-ack/${size}`, `relay-bc-batch/${size}`, `Warren (acks) / batched bare relay, ${size}`)
    results.ratio(`warren-ack/${size}`, `lib/${size}`, `Warren (acks) / broadcast-channel (npm), ${size}`)
    results.ratio(`warren-ack-port/${size}`, `warren-ack/${size}`, `Warren MessagePort link / BroadcastChannel link, ${size}`)
  }
}

export async function fanoutGroup(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const sizes: Size[] = plan.quick ? ['small'] : ['small', '4k']
  const fanouts = plan.quick ? [1, 8] : [1, 4, 8]
  for (const size of sizes) {
    const n = Math.round(count(plan, size) / 4)
    for (const subs of fanouts) {
      results.add({ group: 'fanout', id: `fan-bc-${subs}/${size}`, label: `bare BroadcastChannel 1 → ${subs} tab(s), deliveries in total`, size, unit: 'msg/s', better: 'higher' })
      results.add({ group: 'fanout', id: `fan-warren-${subs}/${size}`, label: `Warren fanout exchange 1 → ${subs} tab(s), acks, prefetch 100, in total`, size, unit: 'msg/s', better: 'higher' })
      for (let rep = 0; rep <= plan.reps; rep++) {
        const k = rep === 0 ? Math.max(100, Math.round(n / 10)) : n
        const bcRate = await fanout(browser, 'bc', subs, size, k, `bc-${subs}-${size}-${rep}`)
        const warrenRate = await fanout(browser, 'warren', subs, size, k, `w-${subs}-${size}-${rep}`)
        if (rep === 0) continue
        results.push(`fan-bc-${subs}/${size}`, bcRate)
        results.push(`fan-warren-${subs}/${size}`, warrenRate)
      }
      results.ratio(`fan-warren-${subs}/${size}`, `fan-bc-${subs}/${size}`, `Warren fanout / bare BroadcastChannel fanout, ${subs} tab(s), ${size}`)
      plan.log(`  fanout ${subs} ${size} done`)
    }
  }
}

export async function latency(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const [a, b, c, d] = [await relayTab(browser, 1), await relayTab(browser, 2), await relayTab(browser, 3), await relayTab(browser, 4)]
  const iterations = plan.quick ? 500 : 3000
  const warmup = plan.quick ? 100 : 300
  const loadRate = 3000
  const size: Size = 'small'
  const paths: Array<{ id: string; label: string; path: Path | 'warren' | 'warren-port' }> = [
    { id: 'rtt-bc', label: 'bare BroadcastChannel A → B → A', path: 'bc' },
    { id: 'rtt-relay-bc', label: 'bare relay A → SW → B → SW → A (BroadcastChannel)', path: 'relay-bc' },
    { id: 'rtt-relay-port', label: 'bare relay A → SW → B → SW → A (MessagePorts)', path: 'relay-port' },
    { id: 'rtt-warren', label: 'Warren publish A → B, B publishes back (acks)', path: 'warren' },
    { id: 'rtt-warren-port', label: 'Warren round trip, MessagePort link', path: 'warren-port' },
  ]
  const loads: Array<{ load: boolean; suffix: string }> = [
    { load: false, suffix: '' },
    { load: true, suffix: `, under load (${loadRate.toLocaleString('en-US')} msg/s through the same hub)` },
  ]
  for (const { load, suffix } of loads) {
    for (const p of paths) {
      if (load && p.path === 'warren-port') continue
      for (const q of ['p50', 'p99'])
        results.add({ group: 'latency', id: `${p.id}${load ? '-load' : ''}:${q}`, label: `RTT ${q}, ${p.label}${suffix}`, size, unit: 'ms', better: 'lower' })
    }
  }
  for (let rep = 0; rep <= plan.reps; rep++) {
    for (const { load } of loads) {
      for (const p of paths) {
        if (load && p.path === 'warren-port') continue
        let r: { p50: number; p99: number }
        const k = rep === 0 ? 200 : iterations
        // Background traffic goes through the same hub as the pings: the relay worker for the bare paths, the broker for Warren.
        const loadPath: Path | 'warren' = p.path === 'warren' ? 'warren' : p.path === 'bc' ? 'bc' : (p.path as Path)
        if (load) {
          if (loadPath === 'warren') {
            await d.evaluate(() => window.bench.warren.loadSink('load'))
            await c.evaluate((rate) => window.bench.warren.loadStart('load', rate, 'small'), loadRate)
          } else {
            await d.evaluate((lp) => window.bench.base.loadSink(lp as Path, 'load-bc'), loadPath)
            await c.evaluate(([lp, rate]) => window.bench.base.loadStart(lp as Path, lp === 'bc' ? 'load-bc' : 't4', rate as number, 'small'), [loadPath, loadRate] as const)
          }
          await pause(300)
        }
        if (p.path === 'warren' || p.path === 'warren-port') {
          const link = p.path === 'warren' ? 'broadcast' : 'port'
          await b.evaluate((l) => window.bench.warren.echo('ping-b', 'ping-a', l as 'broadcast'), link)
          r = await a.evaluate(([k, w, l]) => window.bench.warren.ping('ping-a', 'ping-b', 'small', k as number, w as number, l as 'broadcast'), [k, warmup, link] as const)
          await b.evaluate(() => window.bench.warren.echoStop())
        } else {
          const path = p.path
          const [inA, inB] = path === 'bc' ? ['rtt-a', 'rtt-b'] : ['', '']
          await b.evaluate(([pp, i, t]) => window.bench.base.echo(pp as Path, i as string, t as string), [path, inB, path === 'bc' ? 'rtt-a' : 't1'] as const)
          r = await a.evaluate(([pp, i, t, k, w]) => window.bench.base.ping(pp as Path, i as string, t as string, 'small', k as number, w as number), [path, inA, path === 'bc' ? 'rtt-b' : 't2', k, warmup] as const)
        }
        if (load) {
          if (loadPath === 'warren') {
            await c.evaluate(() => window.bench.warren.loadStopNow())
            await pause(200)
            await d.evaluate(() => window.bench.warren.loadSinkStop())
          } else {
            await c.evaluate(() => window.bench.base.loadStopNow())
          }
        }
        if (rep === 0) continue
        const id = `${p.id}${load ? '-load' : ''}`
        results.push(`${id}:p50`, r.p50)
        results.push(`${id}:p99`, r.p99)
      }
    }
    plan.log(`  latency rep ${rep}${rep === 0 ? ' (warm-up)' : ''} done`)
  }
  results.ratio('rtt-warren:p50', 'rtt-relay-bc:p50', 'Warren RTT p50 / bare SharedWorker relay RTT p50 (BroadcastChannel)')
  results.ratio('rtt-warren:p50', 'rtt-relay-port:p50', 'Warren RTT p50 / bare SharedWorker relay RTT p50 (MessagePorts)')
  results.ratio('rtt-warren-load:p50', 'rtt-relay-bc-load:p50', 'Warren RTT p50 / bare relay RTT p50, both under load')
  results.ratio('rtt-warren-load:p99', 'rtt-relay-bc-load:p99', 'Warren RTT p99 / bare relay RTT p99, both under load')
}

export async function durable(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const a = await relayTab(browser, 1)
  const b = await browser.tab(2)
  const q = plan.quick
  const rows = [
    { id: 'idb-1', label: 'raw IndexedDB in a SharedWorker, 1 put per transaction', unit: 'rec/s' },
    { id: 'idb-1000', label: 'raw IndexedDB in a SharedWorker, 1,000 puts per transaction', unit: 'rec/s' },
    { id: 'workbox-1', label: 'workbox-background-sync Queue.pushRequest, 1 in flight (service worker)', unit: 'req/s' },
    { id: 'workbox-100', label: 'workbox-background-sync Queue.pushRequest, 100 in flight (service worker)', unit: 'req/s' },
    { id: 'durable-1', label: 'Warren persistent publish, confirmed, 1 in flight', unit: 'msg/s' },
    { id: 'durable-100', label: 'Warren persistent publish, confirmed, 100 in flight', unit: 'msg/s' },
    { id: 'durable-1000', label: 'Warren persistent publish, confirmed, 1,000 in flight', unit: 'msg/s' },
    { id: 'durable-consume', label: 'Warren consume a durable backlog, acks, prefetch 100', unit: 'msg/s' },
  ]
  for (const row of rows) results.add({ group: 'durable', ...row, size: 'small', better: 'higher' })
  const windows: Array<[number, number]> = [
    [1, q ? 300 : 1500],
    [100, q ? 3000 : 10_000],
    [1000, q ? 5000 : 30_000],
  ]
  for (let rep = 0; rep <= plan.reps; rep++) {
    const warm = rep === 0
    const scale = warm ? 0.2 : 1
    const one = await a.evaluate(([n, ms]) => window.bench.base.idb(1, n as number, ms as number), [Math.round((q ? 1500 : 4000) * scale), 4000] as const)
    const many = await a.evaluate(([n, ms]) => window.bench.base.idb(1000, n as number, ms as number), [Math.round((q ? 10_000 : 40_000) * scale), 8000] as const)
    const wb1 = await a.evaluate(([n]) => window.bench.workbox(n as number, 1), [Math.round((q ? 300 : 1500) * scale)] as const)
    const wb100 = await a.evaluate(([n]) => window.bench.workbox(n as number, 100), [Math.round((q ? 1500 : 5000) * scale)] as const)
    if (!warm) {
      results.push('idb-1', (one.records / one.ms) * 1000)
      results.push('idb-1000', (many.records / many.ms) * 1000)
      results.push('workbox-1', (wb1.stored / wb1.ms) * 1000)
      results.push('workbox-100', (wb100.stored / wb100.ms) * 1000)
    }
    for (const [window_, n0] of windows) {
      const n = Math.max(50, Math.round(n0 * scale))
      const queue = `dq-${window_}-${rep}`
      const sent = await a.evaluate(([qq, k, w]) => window.bench.warren.send({ queue: qq as string, durable: true }, k as number, 'small', { window: w as number, persistent: true }), [queue, n, window_] as const)
      if (!warm) results.push(`durable-${window_}`, (n / (sent.t1 - sent.t0)) * 1000, sent.failed ? `${sent.failed} nacked` : undefined)
      if (window_ === 1000) {
        // The backlog just written: consume it with acks from another tab.
        const started = await b.evaluate(([qq, k]) => window.bench.warren.arm({ queue: qq as string, durable: true }, k as number, { prefetch: 100 }), [queue, n] as const)
        const r = (await b.evaluate((ms) => window.bench.warren.received(ms), TIMEOUT)) as Received
        if ('error' in r) throw new Error(`durable consume: ${r.error}`)
        if (!warm) results.push('durable-consume', (n / (r.t - started)) * 1000, r.outOfOrder ? `${r.outOfOrder} out of order` : undefined)
      }
      await a.evaluate((qq) => window.bench.warren.deleteQueue(qq), queue)
    }
    plan.log(`  durable rep ${rep}${warm ? ' (warm-up)' : ''} done`)
  }
  results.ratio('durable-1000', 'idb-1000', 'Warren confirmed persistent (1,000 in flight) / raw IndexedDB 1,000 puts per tx')
  results.ratio('durable-1', 'idb-1', 'Warren confirmed persistent (1 in flight) / raw IndexedDB 1 put per tx')
  results.ratio('durable-1000', 'workbox-100', 'Warren confirmed persistent (1,000 in flight) / workbox Queue (100 in flight)')
  results.ratio('durable-1', 'workbox-1', 'Warren confirmed persistent (1 in flight) / workbox Queue (1 in flight)')
}

export async function startup(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const rows = [
    { id: 'start-cold-empty', label: 'fresh tab: open() → first delivery, broker not running, empty store (publishes 1)' },
    { id: 'start-cold-empty:open', label: 'fresh tab: open() alone, broker not running' },
    { id: 'start-cold-empty:ready', label: "fresh tab: open() until the new broker's SharedWorker says it serves" },
    { id: 'start-warm-empty', label: 'fresh tab: open() → first delivery, broker running (publishes 1)' },
    { id: 'start-backlog', label: `fresh tab after a browser restart: open() → first delivery, ${plan.quick ? '10,000' : '100,000'}-message durable backlog` },
    { id: 'start-backlog:open', label: 'the same: open() alone' },
    { id: 'start-backlog:ready', label: "the same: open() until the broker's SharedWorker says it serves (recovered)" },
  ]
  for (const row of rows) results.add({ group: 'startup', ...row, size: 'small', unit: 'ms', better: 'lower' })
  const holder = await browser.tab(0)
  await holder.evaluate(() => window.bench.warren.connection('warm'))
  for (let rep = 0; rep <= plan.reps; rep++) {
    // A vhost of its own gives a new SharedWorker and a new database: a cold, empty broker.
    const cold = await browser.fresh()
    const r1 = await cold.evaluate((v) => window.bench.warren.startup(v, 'first', true), `cold-${rep}`)
    await cold.close()
    const warm = await browser.fresh()
    const r2 = await warm.evaluate((qq) => window.bench.warren.startup('warm', qq, true), `first-${rep}`)
    await warm.close()
    if (rep === 0) continue
    results.push('start-cold-empty', r1.firstMs)
    results.push('start-cold-empty:open', r1.openMs)
    results.push('start-cold-empty:ready', r1.readyMs)
    results.push('start-warm-empty', r2.firstMs)
  }
  // The backlog: written once, then every rep restarts the browser so the broker recovers it cold.
  const backlog = plan.quick ? 10_000 : 100_000
  const filler = await browser.tab(1)
  const fill = await filler.evaluate((k) => window.bench.warren.send({ queue: 'backlog', durable: true }, k, 'small', { window: 1000, persistent: true, vhost: 'backlog' }), backlog)
  plan.log(`  startup: backlog of ${backlog} written in ${((fill.t1 - fill.t0) / 1000).toFixed(1)} s`)
  for (let rep = 0; rep <= plan.reps; rep++) {
    await browser.restart()
    const tab = await browser.fresh()
    const r = await tab.evaluate(() => window.bench.warren.startup('backlog', 'backlog', false))
    if (rep > 0) {
      results.push('start-backlog', r.firstMs)
      results.push('start-backlog:open', r.openMs)
      results.push('start-backlog:ready', r.readyMs)
    }
  }
  const left = await (await browser.fresh()).evaluate(() => window.bench.warren.count('backlog', 'backlog'))
  results.add({ group: 'startup', id: 'start-backlog:left', label: 'backlog left after the reps (each acks ≤ 100)', size: 'small', unit: 'msgs', better: 'higher', values: [left] })
  await browser.restart()
}

/** Broker heap with 1,000,000 persistent messages backlogged (full mode only: the load takes minutes). */
export async function heap(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const total = 1_000_000
  const tab = await browser.tab(1)
  await tab.evaluate(() => window.bench.warren.count('heap', 'heap'))
  const empty = await browser.workerHeap('broker')
  const chunk = 100_000
  const started = Date.now()
  for (let done = 0; done < total; done += chunk) {
    const r = await tab.evaluate((k) => window.bench.warren.send({ queue: 'heap', durable: true }, k, 'small', { window: 1000, persistent: true, vhost: 'heap' }), chunk)
    if (r.failed) throw new Error(`heap load: ${r.failed} nacked`)
    plan.log(`  heap: ${done + chunk} written (${Math.round((Date.now() - started) / 1000)} s)`)
  }
  // Let the last transactions settle before the collection.
  await pause(2000)
  const loaded = await browser.workerHeap('broker')
  await browser.restart()
  const fresh = await browser.fresh()
  const t0 = Date.now()
  const left = await fresh.evaluate(() => window.bench.warren.count('heap', 'heap'))
  const recoverMs = Date.now() - t0
  const recovered = await browser.workerHeap('broker')
  const mb = (bytes: number | undefined) => (bytes === undefined ? NaN : bytes / 1024 / 1024)
  results.add({ group: 'heap', id: 'heap-empty', label: 'broker heap, empty queue (for scale)', size: 'small', unit: 'MB', better: 'lower', values: [mb(empty?.used)] })
  results.add({ group: 'heap', id: 'heap-loaded', label: `broker heap after writing ${total.toLocaleString('en-US')} persistent messages (same session)`, size: 'small', unit: 'MB', better: 'lower', values: [mb(loaded?.used)] })
  results.add({ group: 'heap', id: 'heap-recovered', label: 'broker heap after a browser restart and recovery', size: 'small', unit: 'MB', better: 'lower', values: [mb(recovered?.used)] })
  results.add({ group: 'heap', id: 'heap-recover-ms', label: 'restart: open() + declare of the 1M queue', size: 'small', unit: 'ms', better: 'lower', values: [recoverMs] })
  results.add({ group: 'heap', id: 'heap-count', label: 'messages in the queue after recovery', size: 'small', unit: 'msgs', better: 'higher', values: [left] })
  const load = await browser.fresh()
  await load.evaluate(() => window.bench.warren.deleteQueue('heap', 'heap'))
}

/**
 * Stream queues: append N events (confirmed, 1,000 in flight), read them all from the first
 * offset in the same session, then restart the browser and replay them cold (open, recovery
 * and the read from IndexedDB). N = 100,000 (10,000 with --quick).
 */
export async function streams(browser: Browser, results: Results, plan: Plan): Promise<void> {
  const total = plan.quick ? 10_000 : 100_000
  const tag = total.toLocaleString('en-US')
  const rows = [
    { id: 'stream-append', label: `stream: append ${tag} events, 1,000 unconfirmed at most`, unit: 'msg/s', better: 'higher' as const },
    { id: 'stream-read', label: `stream: read ${tag} events from 'first' (prefetch 1,000, acked), same session`, unit: 'msg/s', better: 'higher' as const },
    { id: 'stream-replay', label: `stream: replay ${tag} events after a browser restart (open → last one read)`, unit: 'ms', better: 'lower' as const },
  ]
  for (const row of rows) results.add({ group: 'streams', ...row, size: 'small' })
  for (let rep = 0; rep <= plan.reps; rep++) {
    const vhost = `stream-${rep}`
    const tab = await browser.tab(1)
    const fill = await tab.evaluate(([v, n]) => window.bench.warren.send({ queue: 'events', stream: true }, n as number, 'small', { window: 1000, persistent: true, vhost: v as string }), [vhost, total] as const)
    if (fill.failed) throw new Error(`stream load: ${fill.failed} nacked`)
    const read = await tab.evaluate(([v, n]) => window.bench.warren.streamRead(v as string, 'events', n as number, 1000, false), [vhost, total] as const)
    await browser.restart()
    const fresh = await browser.fresh()
    const replay = await fresh.evaluate(([v, n]) => window.bench.warren.streamRead(v as string, 'events', n as number, 1000, true), [vhost, total] as const)
    if (!read.inOrder || !replay.inOrder) throw new Error('stream read out of offset order')
    plan.log(`  streams: append ${Math.round(total / ((fill.t1 - fill.t0) / 1000))}/s, read ${Math.round(total / (read.ms / 1000))}/s, replay after restart ${Math.round(replay.ms)} ms`)
    if (rep === 0) continue
    results.push('stream-append', total / ((fill.t1 - fill.t0) / 1000))
    results.push('stream-read', total / (read.ms / 1000))
    results.push('stream-replay', replay.ms)
  }
}
