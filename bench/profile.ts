/**
 * `node bench/run.mjs --profile=<scenario>`: runs one scenario on an unminified build with
 * Chromium's sampling profiler on the broker's SharedWorker and on the tabs involved, and
 * prints the top functions by self time in each. A tool for finding hot paths, not a figure.
 * Scenarios: transient, durable, latency; startup (a cold start's CPU time by process and
 * thread, from Linux's per-thread schedstat: a load-independent view of where it goes).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { startBrowser } from './lib/browser.js'
import type { Size } from './pages/shapes.js'

export async function profile(scenario: string, n: number): Promise<void> {
  if (scenario === 'startup') return startupCpu(Math.max(3, Math.min(n, 30)))
  const browser = await startBrowser(false, false)
  try {
    const [a, b] = [await browser.tab(1), await browser.tab(2)]
    // Start the broker, then warm up the path once.
    await a.evaluate(() => window.bench.warren.connection())
    await b.evaluate(() => window.bench.warren.connection())
    const run = async (k: number, tag: string) => {
      if (scenario === 'transient') {
        await b.evaluate(([q, k2]) => window.bench.warren.arm({ queue: q as string }, k2 as number, { prefetch: 100 }), [tag, k] as const)
        const sent = await a.evaluate(([q, k2]) => window.bench.warren.send({ queue: q as string }, k2 as number, 'small' as Size), [tag, k] as const)
        const r = await b.evaluate(() => window.bench.warren.received(60_000))
        return 't' in r ? `${Math.round((k / (r.t - sent.t0)) * 1000)} msg/s` : r.error
      }
      if (scenario === 'durable') {
        const sent = await a.evaluate(([q, k2]) => window.bench.warren.send({ queue: q as string, durable: true }, k2 as number, 'small', { window: 1000, persistent: true }), [tag, k] as const)
        await a.evaluate((q) => window.bench.warren.deleteQueue(q), tag)
        return `${Math.round((k / (sent.t1 - sent.t0)) * 1000)} msg/s confirmed`
      }
      if (scenario === 'latency') {
        await b.evaluate(() => window.bench.warren.echo('ping-b', 'ping-a'))
        const r = await a.evaluate((k2) => window.bench.warren.ping('ping-a', 'ping-b', 'small', k2, 50), k)
        await b.evaluate(() => window.bench.warren.echoStop())
        return `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`
      }
      throw new Error(`unknown scenario ${scenario}`)
    }
    console.log(`warm-up: ${await run(Math.round(n / 5), 'p-warm')}`)
    let figure = ''
    const worker = await browser.profileWorker('broker', async () => {
      const pa = browser.profilePage(a, async () => {
        const pb = browser.profilePage(b, async () => {
          figure = await run(n, 'p-run')
        })
        console.log(`\n--- receiving tab (B)\n${await pb}`)
      })
      console.log(`\n--- sending tab (A)\n${await pa}`)
    })
    console.log(`\n--- broker SharedWorker\n${worker}`)
    console.log(`\n${scenario}: ${figure}`)
  } finally {
    await browser.close()
  }
}

/**
 * CPU ms each kind of thread spends from open() to the first delivery of a cold, empty broker
 * (median of `reps` fresh tabs, each on a new vhost): the broker's SharedWorker thread, the
 * tab, the browser process (IPC, IndexedDB) and the rest. Wall time on a shared machine
 * swings with the load; CPU time mostly does not.
 */
async function startupCpu(reps: number): Promise<void> {
  const browser = await startBrowser(false, true)
  try {
    const holder = await browser.tab(0)
    await holder.evaluate(() => window.bench.warren.connection('warm'))
    const rows = new Map<string, number[]>()
    const walls: number[] = []
    for (let rep = 0; rep <= reps; rep++) {
      const tab = await browser.fresh()
      const before = threadCpu()
      const r = await tab.evaluate((v) => window.bench.warren.startup(v, 'first', true), `cpu-${rep}`)
      const after = threadCpu()
      await tab.close()
      if (rep === 0) continue
      walls.push(r.firstMs)
      const worker = new Set([...after.values()].filter((t) => t.thread.startsWith('SharedWorker')).map((t) => t.pid))
      const existed = new Set([...before.values()].map((t) => t.pid))
      const sums = new Map<string, number>([['total', 0]])
      for (const [id, key] of after) {
        const ms = (key.ns - (before.get(id)?.ns ?? 0)) / 1e6
        if (ms <= 0) continue
        // A renderer started meanwhile is Chromium's spare process, replacing the one the worker took.
        const process = worker.has(key.pid) ? 'broker worker process' : existed.has(key.pid) ? key.type : `${key.type} started meanwhile`
        const label = `${process}: ${key.thread.replace(/\d+$/, '')}`
        sums.set(label, (sums.get(label) ?? 0) + ms)
        sums.set('total', sums.get('total')! + ms)
      }
      for (const [label, ms] of sums) rows.set(label, [...(rows.get(label) ?? []), ms])
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    console.log(`cold start, empty store: wall median ${median(walls).toFixed(0)} ms; CPU ms by thread (median of ${reps}):`)
    const sorted = [...rows].map(([label, xs]) => [label, median([...xs, ...Array<number>(reps - xs.length).fill(0)])] as const)
    for (const [label, ms] of sorted.sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`${ms.toFixed(1).padStart(8)}  ${label}`)
  } finally {
    await browser.close()
  }
}

interface ThreadCpu {
  readonly pid: string
  readonly type: string
  readonly thread: string
  readonly ns: number
}

/** CPU ns of every thread of this process's Chromium descendants (Linux /proc), by pid/tid. */
function threadCpu(): Map<string, ThreadCpu> {
  const children = new Map<string, string[]>()
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const parent = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!
      children.set(parent, [...(children.get(parent) ?? []), pid])
    } catch {
      // gone meanwhile
    }
  }
  const out = new Map<string, ThreadCpu>()
  const todo = [String(process.pid)]
  while (todo.length > 0) {
    for (const pid of children.get(todo.pop()!) ?? []) {
      todo.push(pid)
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        if (!cmdline.includes('chrom')) continue
        const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser'
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
          const thread = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
          out.set(`${pid}/${tid}`, { pid, type, thread, ns })
        }
      } catch {
        // gone meanwhile
      }
    }
  }
  return out
}
