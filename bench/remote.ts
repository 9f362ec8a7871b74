// [remote] The remote group: Warren's direct connection to RabbitMQ (through the broker host's
// one Web-STOMP socket) against @stomp/stompjs used directly from the tab, on a private RabbitMQ
// node started with the test infrastructure's script. Runs only where rabbitmq-server is installed.
import type { Page } from 'playwright-core'
import { rabbitmqInstalled, startRabbitmq } from '../test/rabbitmq/node.mjs'
import type { Plan } from './browser-groups.js'
import { startBrowser, type BenchEngine } from './lib/browser.js'
import type { Results } from './lib/report.js'

export const remoteAvailable = (): boolean => rabbitmqInstalled()

export async function remote(results: Results, plan: Plan, echo = false, engine: BenchEngine = 'chromium'): Promise<void> {
  const node = await startRabbitmq({ log: plan.log })
  // The bench worker gives its 'remote-*' vhosts this node as remote 'upstream' (read at build).
  process.env.VITE_RABBITMQ_STOMP_URL = node.stompUrl
  const browser = await startBrowser(echo, true, engine)
  try {
    const page: Page = await browser.tab(1)
    const url = node.stompUrl
    const n = plan.quick ? 2000 : 10_000
    const k = plan.quick ? 200 : 1000
    const kinds = [
      { kind: 'warren', label: 'Warren stomp+ws (one socket in the broker host)' },
      { kind: 'stomp', label: '@stomp/stompjs directly from the tab' },
    ] as const
    for (const { kind, label } of kinds) {
      results.add({ group: 'remote', id: `remote-publish-${kind}`, label: `publish → RabbitMQ, receipts as confirms, 100 in flight: ${label}`, size: '64 B', unit: 'msg/s', better: 'higher' })
      results.add({ group: 'remote', id: `remote-consume-${kind}`, label: `RabbitMQ → tab, acked, prefetch 100: ${label}`, size: '64 B', unit: 'msg/s', better: 'higher' })
      results.add({ group: 'remote', id: `remote-rtt-${kind}`, label: `round trip tab → RabbitMQ → tab (p50): ${label}`, size: '64 B', unit: 'ms', better: 'lower' })
    }
    results.add({ group: 'remote', id: 'remote-shovel', label: 'shovel local queue → RabbitMQ, receipts then local ack, published with 100 in flight: Warren', size: '64 B', unit: 'msg/s', better: 'higher' })
    results.add({ group: 'remote', id: 'remote-federation', label: 'federation RabbitMQ queue → local queue, acked after the local commit, consumed with acks: Warren', size: '64 B', unit: 'msg/s', better: 'higher' })
    results.add({ group: 'remote', id: 'remote-drain', label: 'offline outbox drain, 10,000 persistent messages queued before the link: Warren', size: '64 B', unit: 'msg/s', better: 'higher' })
    results.ratio('remote-shovel', 'remote-publish-stomp', 'shovel to RabbitMQ: Warren / @stomp/stompjs publish with receipts from the tab')
    results.ratio('remote-federation', 'remote-consume-stomp', 'federation from RabbitMQ: Warren / @stomp/stompjs consume with acks in the tab')
    results.ratio('remote-drain', 'remote-publish-stomp', 'outbox drain: Warren / @stomp/stompjs publish with receipts from the tab')
    results.ratio('remote-publish-warren', 'remote-publish-stomp', 'direct publish with receipts: Warren / @stomp/stompjs')
    results.ratio('remote-consume-warren', 'remote-consume-stomp', 'direct consume with acks: Warren / @stomp/stompjs')
    results.ratio('remote-rtt-warren', 'remote-rtt-stomp', 'round trip p50: Warren / @stomp/stompjs (lower is better)')
    for (let rep = 0; rep <= plan.reps; rep++) {
      for (const { kind } of kinds) {
        const queue = `bench-${kind}-${rep}`
        await page.evaluate(([u, q]) => window.bench.remote.declare(u!, q!), [url, queue])
        const count = rep === 0 ? 200 : n
        const pub = await page.evaluate(([kk, u, q, c]) => window.bench.remote.publish(kk as 'warren', u as string, q as string, c as number), [kind, url, queue, count] as const)
        const con = await page.evaluate(([kk, u, q, c]) => window.bench.remote.consume(kk as 'warren', u as string, q as string, c as number), [kind, url, queue, count] as const)
        const rt = await page.evaluate(([kk, u, q, c]) => window.bench.remote.rtt(kk as 'warren', u as string, q as string, c as number), [kind, url, queue, rep === 0 ? 20 : k] as const)
        if (rep === 0) continue
        results.push(`remote-publish-${kind}`, pub)
        results.push(`remote-consume-${kind}`, con)
        results.push(`remote-rtt-${kind}`, rt)
        plan.log(`remote ${kind} rep ${rep}: publish ${pub.toFixed(0)}/s, consume ${con.toFixed(0)}/s, rtt p50 ${rt.toFixed(2)} ms`)
      }
      // Links through the broker host's socket, each rep on a fresh vhost (a fresh broker).
      const vhost = `remote-${rep}`
      const links = rep === 0 ? 200 : n
      const shovel = await page.evaluate(([u, v, c]) => window.bench.remote.shovel(u as string, v as string, c as number), [url, vhost, links] as const)
      const federation = await page.evaluate(([u, v, c]) => window.bench.remote.federation(u as string, v as string, c as number), [url, vhost, links] as const)
      const drain = await page.evaluate(([u, v, c]) => window.bench.remote.drain(u as string, v as string, c as number), [url, vhost, rep === 0 ? 200 : 10_000] as const)
      if (rep === 0) continue
      results.push('remote-shovel', shovel)
      results.push('remote-federation', federation)
      results.push('remote-drain', drain)
      plan.log(`remote links rep ${rep}: shovel ${shovel.toFixed(0)}/s, federation ${federation.toFixed(0)}/s, drain of 10,000 ${drain.toFixed(0)}/s`)
    }
  } finally {
    await browser.close()
    await node.stop()
  }
}
