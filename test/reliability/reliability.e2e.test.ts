// The short reliability run inside `npm test`: a few thousand persistent messages through
// every kind of fault, accounted for by the checker. `npm run test:reliability` runs the long
// version (WARREN_RELIABILITY=long) and prints the report table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine, hasCdp } from '../e2e/harness.js'
import { ReliabilityHarness, details, table, type Scenario, type ScenarioResult } from './harness.js'
import { LONG, SHORT, withoutCdp } from './scenarios.js'

const long = process.env.WARREN_RELIABILITY === 'long'
const scenarios: Scenario[] = hasCdp ? (long ? LONG : SHORT) : withoutCdp(long ? LONG : SHORT)
const results: ScenarioResult[] = []
const echo = long || process.env.WARREN_E2E_DEBUG === "1" || process.env.WARREN_RELIABILITY_VERBOSE === "1"

let rig: ReliabilityHarness
beforeAll(async () => {
  rig = await ReliabilityHarness.start()
})
afterAll(async () => {
  await rig?.close()
  if (results.length > 0) console.log(`\nreliability (${long ? 'long' : 'short'} run, ${engine})\n\n${table(results)}\n\n${details(results)}\n`)
})

describe('reliability: targeted faults', () => {
  // Found by the offline-broker-kill nemesis: windows that saw the broker die while its script
  // could not load (offline) said hello to nobody for ever.
  // Chromium only: killing a SharedWorker that still has clients needs CDP (Target.closeTarget).
  it.runIf(hasCdp)('a SharedWorker killed while offline is started again once the network is back', async () => {
    const page = await rig.harness.openPage('index.html')
    const vhost = 'rel-offline-restart'
    const url = `shared://${vhost}`
    try {
      await page.evaluate(([u]) => window.rel.setup(u!, ['rel.q0']), [url])
      await page.evaluate(([u]) => window.rel.start({ kind: 'consumer', role: 'c', url: u!, queues: ['rel.q0'], prefetch: 1, processMs: 0 }, false), [url])
      const epoch = async () => page.evaluate(([v]) => window.rel.debug(v!, { op: 'inspect' }, 500).then((r) => (r?.op === 'inspect' ? r.epoch : null)), [vhost])
      await expect.poll(epoch, { timeout: 10_000 }).toBe(1)
      const session = await rig.harness.cdp(page)
      const workers = async () =>
        ((await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; title: string }> }).targetInfos.filter(
          (t) => t.type === 'shared_worker' && t.title.endsWith(vhost),
        )
      const [worker] = await workers()
      await rig.harness.context.setOffline(true)
      await session.send('Target.closeTarget', { targetId: worker!.targetId })
      await new Promise((r) => setTimeout(r, 1500))
      expect(await workers()).toHaveLength(0)
      await rig.harness.context.setOffline(false)
      await expect.poll(epoch, { timeout: 10_000 }).toBe(2)
      await session.detach().catch(() => {})
    } finally {
      await rig.harness.context.setOffline(false)
      await page.close()
    }
  })
})

describe('reliability: a killed broker nobody was connected to', () => {
  // Found by the 10,000-queue run: a window reused the handle of the worker it had started,
  // dead since, for every new connection.
  // Chromium only: the kill goes through CDP (Target.closeTarget).
  it.runIf(hasCdp)("a window starts a new SharedWorker for its next connection when the one it started was killed meanwhile", async () => {
    const page = await rig.harness.openPage('index.html')
    const vhost = 'rel-killed-idle'
    const url = `shared://${vhost}`
    try {
      await page.evaluate(([u]) => window.rel.setup(u!, ['rel.q0']), [url])
      const session = await rig.harness.cdp(page)
      const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; title: string }> }
      const worker = targetInfos.find((t) => t.type === 'shared_worker' && t.title.endsWith(vhost))!
      await session.send('Target.closeTarget', { targetId: worker.targetId })
      await session.detach().catch(() => {})
      await new Promise((r) => setTimeout(r, 300))
      // setup() opens a connection with a 10 s timeout; the new broker answers well within it.
      const started = Date.now()
      await page.evaluate(([u]) => window.rel.setup(u!, ['rel.q0']), [url])
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      await page.close()
    }
  })
})

describe('reliability: accounting under faults', () => {
  for (const scenario of scenarios) {
    it(
      `${scenario.name}: lost = 0, unflagged duplicates = 0, unexpected = 0`,
      async () => {
        const result = await rig.run(scenario, echo ? (line) => console.log(line) : undefined)
        results.push(result)
        const { check } = result
        const summary = JSON.stringify({ ...check, reasons: check.reasons, faultsByKind: result.faultsByKind, drained: result.drained, epochs: result.epochs, notes: result.notes.slice(0, 20) }, null, 1)
        if (echo || !check.ok) console.log(`${scenario.name}: ${summary}`)
        if (scenario.clientRetry) console.log(`${scenario.name}: ${check.retried} publishes confirmed after a retry, ${check.deduplicated} of them deduplicated by the broker, ${check.redeliveries} deliveries flagged redelivered, ${result.faults} faults, ${check.confirmed} confirmed`)
        expect(check.lost, summary).toBe(0)
        expect(check.duplicatedUnflagged, summary).toBe(0)
        expect(check.unexpected, summary).toBe(0)
        expect(result.faults).toBe(scenario.faults)
        expect(check.confirmed).toBeGreaterThanOrEqual(scenario.messages * 0.9)
        if (result.fuzz) {
          const fuzz = result.fuzz
          expect(fuzz.violations, JSON.stringify(fuzz)).toEqual([])
          expect(fuzz.account.unaccounted, JSON.stringify(fuzz)).toBe(0)
          expect(fuzz.account.junkUncounted, JSON.stringify(fuzz)).toBe(0)
          expect(fuzz.epochAfter).toBe(fuzz.epochBefore)
        }
      },
      long ? 3_600_000 : 180_000,
    )
  }
})
