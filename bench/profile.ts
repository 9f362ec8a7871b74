/**
 * `node bench/run.mjs --profile=<scenario>`: runs one scenario on an unminified build with
 * Chromium's sampling profiler on the broker's SharedWorker and on the tabs involved, and
 * prints the top functions by self time in each. A tool for finding hot paths, not a figure.
 * Scenarios: transient, durable, latency.
 */
import { startBrowser } from './lib/browser.js'
import type { Size } from './pages/shapes.js'

export async function profile(scenario: string, n: number): Promise<void> {
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
