// The faults a browser actually produces, each as one nemesis acting on a running scenario.
// A nemesis injects its fault and, when the fault lasts (freeze, offline), undoes it before it
// returns; Run.heal() undoes whatever is left, and Run.reconcile() replaces dead tabs and roles.
import type { Run, Tab } from './harness.js'

export type NemesisName =
  | 'consumer-tab-close'
  | 'tab-crash'
  | 'worker-terminate'
  | 'broker-kill'
  | 'all-tabs-restart'
  | 'freeze'
  | 'offline'
  | 'offline-broker-kill'
  | 'storage-fail'
  | 'browser-restart'

export type Nemesis = (run: Run) => Promise<void>

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const workloadTabs = (run: Run, kind?: 'producer' | 'consumer'): Tab[] =>
  run.usable.filter((tab) => (kind ? tab.kind === kind : tab.kind === 'producer' || tab.kind === 'consumer'))

/** Kills the broker's SharedWorker (CDP Target.closeTarget): its memory is gone, IndexedDB stays. */
async function killBroker(run: Run): Promise<boolean> {
  const workers = await run.sharedWorkers()
  run.log(`    shared workers: ${JSON.stringify(workers)}`)
  if (workers.length === 0) return false
  const session = await run.cdp(run.control!)
  for (const worker of workers) await session.send('Target.closeTarget', { targetId: worker.targetId }).catch(() => {})
  return true
}

/** Waits until no SharedWorker of ours is left (the last client tab closed). */
async function brokerGone(run: Run, timeout = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if ((await run.sharedWorkers()).length === 0) return true
    await sleep(100)
  }
  return false
}

export const NEMESES: Record<NemesisName, Nemesis> = {
  /** A consumer tab closes (its unacked messages return to their queues, flagged). */
  async 'consumer-tab-close'(run) {
    const tab = run.rand.pick(workloadTabs(run, 'consumer'))
    if (tab) await run.closeTab(tab)
  },

  /** A tab's renderer crashes (CDP Page.crash): no goodbye, no unload; the broker learns it from the lock. */
  async 'tab-crash'(run) {
    const tab = run.rand.pick(workloadTabs(run))
    if (!tab) return
    const session = await run.cdp(tab)
    run.tabGone(tab)
    const crashed = new Promise<void>((resolve) => tab.page.once('crash', () => resolve()))
    // Page.crash never answers: the renderer is gone before it could.
    void session.send('Page.crash').catch(() => {})
    await Promise.race([crashed, sleep(5000)])
    await Promise.race([tab.page.close().catch(() => {}), sleep(5000)])
  },

  /** A dedicated worker is terminated mid-flight. */
  async 'worker-terminate'(run) {
    const tab = run.rand.pick(workloadTabs(run).filter((t) => t.workerRole !== undefined))
    if (!tab || !tab.workerRole) return
    const role = run.roles.get(tab.workerRole)
    await tab.page.evaluate((r) => window.rel.terminate(r), tab.workerRole).catch(() => false)
    if (role) run.roleGone(role)
  },

  /** The SharedWorker is killed: every client reconnects to a new broker that recovers from IndexedDB. */
  async 'broker-kill'(run) {
    await killBroker(run)
    await sleep(300)
  },

  /** Every tab closes (the broker dies with the last one), then new tabs open: a cold start from IndexedDB. */
  async 'all-tabs-restart'(run) {
    run.paused = true
    for (const tab of run.live) if (tab.kind !== 'control' && tab.kind !== 'fuzz') await run.closeTab(tab)
    // With the fuzzer's tab open the worker lives on: kill it the hard way.
    if (!(await brokerGone(run, run.live.some((t) => t.kind === 'fuzz') ? 500 : 10_000))) await killBroker(run)
    run.paused = false
  },

  /** A tab is frozen (Page.setWebLifecycleState), as a background tab or bfcache freezes it, then resumed. */
  async freeze(run) {
    const tab = run.rand.pick(workloadTabs(run))
    if (!tab) return
    const session = await run.cdp(tab)
    tab.frozen = true
    await session.send('Page.setWebLifecycleState', { state: 'frozen' })
    await sleep(run.rand.int(500, 2500))
    await session.send('Page.setWebLifecycleState', { state: 'active' }).catch(() => {})
    tab.frozen = false
  },

  /** The network goes away and comes back (context.setOffline): scripts cannot load meanwhile. */
  async offline(run) {
    run.offline = true
    await run.harness.context.setOffline(true)
    await sleep(run.rand.int(500, 2000))
    await run.harness.context.setOffline(false)
    run.offline = false
  },

  /** Offline, then the broker is killed: its script cannot load until the network is back. */
  async 'offline-broker-kill'(run) {
    run.offline = true
    await run.harness.context.setOffline(true)
    await killBroker(run)
    await sleep(run.rand.int(1000, 2500))
    await run.harness.context.setOffline(false)
    run.offline = false
  },

  /** The next few storage write batches fail, as aborted IndexedDB transactions do (nacks, failed acks). */
  async 'storage-fail'(run) {
    await run.debug({ op: 'fail-storage', batches: run.rand.int(1, 8) })
    await sleep(300)
  },

  /** The whole browser closes and starts again on the same profile. */
  async 'browser-restart'(run) {
    run.paused = true
    for (const tab of run.live) run.tabGone(tab)
    await run.rig.restartBrowser()
    await run.openControl()
    run.paused = false
  },
}
