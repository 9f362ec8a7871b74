// The reliability harness (Node side). It builds the pages under test/reliability/pages,
// drives Chromium through the e2e harness (persistent profile, so IndexedDB is on disk), and
// runs scenarios: producer and consumer roles in tabs and dedicated workers against one vhost,
// a schedule of nemeses, then heal, drain and check. Every event of the pages arrives through
// the `warrenLog` binding; the history goes to the checker.
import type { CDPSession, Page } from 'playwright-core'
import { fileURLToPath } from 'node:url'
import { startHarness, type Harness } from '../e2e/harness.js'
import { check, type CheckResult, type HistoryEvent } from './checker.js'
import { accountFuzz, diffTally, type FuzzAccount } from './fuzz-accounting.js'
import { NEMESES, type NemesisName } from './nemeses.js'
import type { FuzzConfig, FuzzReport } from './pages/fuzz.js'
import type { RoleConfig, RoleEvent, WireEvent } from './pages/roles.js'
import { DLQ, DLX, type DebugCommand, type DebugReply, type InspectReply } from './pages/workload.js'

export const PAGES_ROOT = fileURLToPath(new URL('./pages/', import.meta.url))
const PAGE = 'index.html'

export interface Scenario {
  name: string
  /** At least this many ids are published (more while faults are still to come). */
  messages: number
  queues: number
  /** Tabs hosting producers and consumers; each runs one role in the page and one in a dedicated worker. */
  producerTabs: number
  consumerTabs: number
  prefetch: number
  /** Unconfirmed publishes per producer at most. */
  window: number
  /** Ids per producer role. */
  quota: number
  processMs: number
  /** Producers let the client retry a publish lost with the link (Producer retry) before their own retry. */
  clientRetry?: boolean
  rejectEvery?: number
  expireEvery?: number
  /** Nemeses in rotation, and how many faults to inject. */
  nemeses: NemesisName[]
  faults: number
  /** Pause between two faults (ms), chosen at random in this range. */
  pause: [number, number]
  /** 'broadcast': windows too use the BroadcastChannel link (default: their default, the MessagePort). */
  link?: 'broadcast'
  /** Run the protocol fuzzer in a tab of its own while the workload runs. */
  fuzz?: Pick<FuzzConfig, 'intervalMs' | 'sessions' | 'resets'> & { durationMs: number }
  seed: number
  /** Give up waiting for the end phase after this long (ms). */
  settleTimeout?: number
}

export interface FuzzOutcome extends FuzzReport {
  /** Per kind of post: frames that reached the host, counted as dropped or refused, answered ok. */
  account: FuzzAccount
  epochBefore: number
  epochAfter: number
  /** The host's and the engine's counters before and after. */
  stats: { before: unknown; after: unknown }
}

export interface ScenarioResult {
  scenario: string
  /** Confirmed ids. */
  messages: number
  faults: number
  faultsByKind: Record<string, number>
  check: CheckResult
  ms: number
  drained: Record<string, number>
  fuzz?: FuzzOutcome
  /** Role errors and other things worth a look; not failures by themselves. */
  notes: string[]
  epochs: number[]
}

export interface Tab {
  readonly page: Page
  readonly kind: 'producer' | 'consumer' | 'fuzz' | 'control'
  /** Roles running in the page itself and in its dedicated worker. */
  pageRole: string | undefined
  workerRole: string | undefined
  frozen: boolean
  closed: boolean
  cdp: CDPSession | undefined
}

interface RoleState {
  name: string
  kind: 'producer' | 'consumer'
  tab: Tab
  inWorker: boolean
  quota: number
  started: boolean
  startedAt: number
  finished: boolean
  dead: boolean
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A deterministic random source (runs differ by seed, not by accident). */
export function random(seed: number) {
  let s = seed >>> 0 || 1
  return {
    next(): number {
      s ^= s << 13
      s >>>= 0
      s ^= s >>> 17
      s ^= s << 5
      s >>>= 0
      return s / 0x1_0000_0000
    },
    int(lo: number, hi: number): number {
      return lo + Math.floor(this.next() * (hi - lo + 1))
    },
    pick<T>(list: readonly T[]): T | undefined {
      return list.length === 0 ? undefined : list[Math.floor(this.next() * list.length)]
    },
  }
}

/** One browser for many scenarios. */
export class ReliabilityHarness {
  readonly harness: Harness
  #sink: ((events: WireEvent[]) => void) | undefined

  private constructor(harness: Harness) {
    this.harness = harness
  }

  static async start(): Promise<ReliabilityHarness> {
    const harness = await startHarness({ pages: [PAGE], root: PAGES_ROOT })
    const rig = new ReliabilityHarness(harness)
    await rig.bindContext()
    return rig
  }

  /** Installs the event binding on the current browser context (again after a restart). */
  async bindContext(): Promise<void> {
    await this.harness.context.exposeBinding('warrenLog', (_source, events: WireEvent[]) => {
      this.#sink?.(events)
    })
  }

  listen(sink: ((events: WireEvent[]) => void) | undefined): void {
    this.#sink = sink
  }

  async restartBrowser(): Promise<void> {
    await this.harness.restartBrowser()
    await this.bindContext()
  }

  close(): Promise<void> {
    return this.harness.close()
  }

  run(scenario: Scenario, log: (line: string) => void = () => {}): Promise<ScenarioResult> {
    return new Run(this, scenario, log).run()
  }
}

/** One scenario in progress: what the nemeses act on. */
export class Run {
  readonly rig: ReliabilityHarness
  readonly scenario: Scenario
  readonly vhost: string
  readonly url: string
  readonly queues: string[]
  readonly rand: ReturnType<typeof random>
  readonly history: HistoryEvent[] = []
  readonly notes: string[] = []
  readonly tabs: Tab[] = []
  readonly roles = new Map<string, RoleState>()
  readonly log: (line: string) => void
  control: Tab | undefined
  /** Ids not yet handed to a producer. */
  pool: number
  offline = false
  /** Set while a nemesis rebuilds the browser side: nobody opens tabs meanwhile. */
  paused = false
  #roleNo = 0
  #attempted = new Map<string, number>()
  #reconciling: Promise<void> | undefined

  constructor(rig: ReliabilityHarness, scenario: Scenario, log: (line: string) => void) {
    this.rig = rig
    this.scenario = scenario
    this.vhost = `rel-${scenario.name.replace(/[^a-z0-9]+/gi, '-')}-${scenario.seed}`
    // The windows' link: the default (a MessagePort), or BroadcastChannel everywhere (read by the roles).
    this.url = `shared://${this.vhost}${scenario.link === 'broadcast' ? '?link=broadcast' : ''}`
    this.queues = Array.from({ length: scenario.queues }, (_, i) => `rel.q${i}`)
    this.rand = random(scenario.seed)
    this.pool = scenario.messages
    this.log = log
  }

  get harness(): Harness {
    return this.rig.harness
  }

  get live(): Tab[] {
    return this.tabs.filter((tab) => !tab.closed)
  }

  /** Tabs that can be evaluated in now (not frozen, not closed). */
  get usable(): Tab[] {
    return this.tabs.filter((tab) => !tab.closed && !tab.frozen && tab.kind !== 'control')
  }

  // ------------------------------------------------------------ events

  #receive(events: WireEvent[]): void {
    for (const event of events) {
      if (event.type === 'role') this.#roleEvent(event)
      else {
        this.history.push(event)
        if (event.type === 'publish-attempt' && event.attempt === 1 && event.producer)
          this.#attempted.set(event.producer, (this.#attempted.get(event.producer) ?? 0) + 1)
      }
    }
  }

  #roleEvent(event: RoleEvent): void {
    const role = this.roles.get(event.role)
    if (!role) return
    if (event.event === 'started') role.started = true
    else if (event.event === 'done') role.finished = true
    else if (event.event === 'error') {
      this.notes.push(`${event.role}: ${event.detail ?? 'error'}`.slice(0, 500))
      this.roleGone(role)
    } else if (event.event === 'gave-up') this.notes.push(`${event.role} gave up on ${event.detail}`)
  }

  /** A role stopped for good (its tab or worker died): its unpublished ids go back to the pool. */
  roleGone(role: RoleState): void {
    if (role.dead) return
    role.dead = true
    if (role.kind === 'producer' && !role.finished) this.pool += Math.max(0, role.quota - (this.#attempted.get(role.name) ?? 0))
    if (role.tab.pageRole === role.name) role.tab.pageRole = undefined
    if (role.tab.workerRole === role.name) role.tab.workerRole = undefined
  }

  // ------------------------------------------------------------ tabs and roles

  async openTab(kind: Tab['kind']): Promise<Tab> {
    const page = await this.harness.openPage(PAGE)
    const tab: Tab = { page, kind, pageRole: undefined, workerRole: undefined, frozen: false, closed: false, cdp: undefined }
    const gone = () => this.tabGone(tab)
    page.on('close', gone)
    page.on('crash', gone)
    this.tabs.push(tab)
    return tab
  }

  tabGone(tab: Tab): void {
    if (tab.closed) return
    tab.closed = true
    tab.frozen = false
    for (const role of this.roles.values()) if (role.tab === tab) this.roleGone(role)
  }

  async cdp(tab: Tab): Promise<CDPSession> {
    tab.cdp ??= await this.harness.cdp(tab.page)
    return tab.cdp
  }

  async closeTab(tab: Tab): Promise<void> {
    this.tabGone(tab)
    await tab.page.close().catch(() => {})
  }

  async startRole(tab: Tab, kind: 'producer' | 'consumer', inWorker: boolean): Promise<void> {
    const s = this.scenario
    const name = `${kind[0]}${++this.#roleNo}`
    let config: RoleConfig
    let quota = 0
    if (kind === 'producer') {
      quota = Math.min(s.quota, this.pool)
      if (quota <= 0) return
      this.pool -= quota
      config = {
        kind, role: name, url: this.url, queues: this.queues, count: quota, window: s.window,
        ...(s.rejectEvery ? { rejectEvery: s.rejectEvery } : {}),
        ...(s.expireEvery ? { expireEvery: s.expireEvery } : {}),
        ...(s.clientRetry ? { clientRetry: true } : {}),
      }
    } else {
      config = { kind, role: name, url: this.url, queues: [...this.queues, DLQ], prefetch: s.prefetch, processMs: s.processMs }
    }
    const role: RoleState = { name, kind, tab, inWorker, quota, started: false, startedAt: Date.now(), finished: false, dead: false }
    this.roles.set(name, role)
    if (inWorker) tab.workerRole = name
    else tab.pageRole = name
    try {
      await tab.page.evaluate(([c, w]) => window.rel.start(c as RoleConfig, w as boolean), [config, inWorker] as const)
    } catch (error) {
      this.notes.push(`could not start ${name} in a ${tab.kind} tab: ${(error as Error).message.split('\n')[0]}`)
      this.roleGone(role)
    }
  }

  /** Keeps the population up: producer and consumer tabs, each with a role in the page and one in a worker. */
  reconcile(): Promise<void> {
    this.#reconciling ??= this.#reconcile().finally(() => (this.#reconciling = undefined))
    return this.#reconciling
  }

  async #reconcile(): Promise<void> {
    if (this.paused) return
    // A role that never said it started (a worker script that could not load offline) is gone.
    for (const role of this.roles.values()) {
      if (!role.dead && !role.started && Date.now() - role.startedAt > 15_000) {
        this.notes.push(`${role.name} never started`)
        if (role.inWorker && !role.tab.closed && !role.tab.frozen)
          await role.tab.page.evaluate((r) => window.rel.terminate(r), role.name).catch(() => false)
        this.roleGone(role)
      }
    }
    const s = this.scenario
    for (const [kind, want] of [['producer', s.producerTabs], ['consumer', s.consumerTabs]] as const) {
      const tabs = this.live.filter((tab) => tab.kind === kind)
      // Tabs cannot load while offline.
      for (let i = tabs.length; i < want && !this.offline; i++) tabs.push(await this.openTab(kind))
      for (const tab of tabs) {
        if (tab.closed || tab.frozen) continue
        const busy = (name: string | undefined) => name !== undefined && !this.roles.get(name)?.finished
        if (!busy(tab.pageRole) && (kind === 'consumer' || this.pool > 0)) await this.startRole(tab, kind, false)
        if (!busy(tab.workerRole) && !this.offline && (kind === 'consumer' || this.pool > 0)) await this.startRole(tab, kind, true)
      }
    }
  }

  /** A request on the test broker's debug channel, from any usable tab. */
  async debug(request: DebugCommand): Promise<DebugReply | null> {
    for (const tab of this.usable) {
      try {
        const reply = await tab.page.evaluate(([v, r]) => window.rel.debug(v as string, r as DebugCommand), [this.vhost, request] as const)
        if (reply) return reply
      } catch {
        // That tab went away meanwhile: try another.
      }
    }
    return null
  }

  async inspect(): Promise<InspectReply | null> {
    const reply = await this.debug({ op: 'inspect' })
    return reply?.op === 'inspect' ? reply : null
  }

  /** Ready plus unacked messages in the workload's queues. */
  backlog(inspect: InspectReply): number {
    return inspect.queues.filter((q) => q.name.startsWith('rel.')).reduce((n, q) => n + q.ready + q.unacked, 0)
  }

  /** Targets of the browser: shared workers of our origin. */
  async sharedWorkers(): Promise<Array<{ targetId: string; url: string }>> {
    const control = this.control
    if (!control || control.closed) return []
    const session = await this.cdp(control)
    const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> }
    return targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(this.harness.baseUrl))
  }

  /** Opens the control tab (about:blank, never a client of the broker) used for CDP. */
  async openControl(): Promise<void> {
    const page = await this.harness.context.newPage()
    // Not 'about:blank': the e2e harness hands blank tabs out to openPage().
    await page.goto('about:blank#control')
    this.control = { page, kind: 'control', pageRole: undefined, workerRole: undefined, frozen: false, closed: false, cdp: undefined }
    page.on('close', () => this.control && (this.control.closed = true))
  }

  // ------------------------------------------------------------ the run

  async run(): Promise<ScenarioResult> {
    const s = this.scenario
    const started = Date.now()
    this.rig.listen((events) => this.#receive(events))
    const faultsByKind: Record<string, number> = {}
    let faults = 0
    const epochs = new Set<number>()
    let fuzz: FuzzOutcome | undefined
    let progress: ReturnType<typeof setInterval> | undefined
    try {
      await this.openControl()
      const first = await this.openTab('producer')
      await first.page.evaluate(([u, q]) => window.rel.setup(u as string, q as string[]), [this.url, this.queues] as const)
      await this.reconcile()

      let fuzzing: Promise<FuzzOutcome> | undefined
      if (s.fuzz) fuzzing = this.#fuzz(s.fuzz)
      progress = setInterval(() => this.log(`[${s.name}] ${this.status()}`), 5000)

      // Faults, with the workload running; the pool is topped up while faults remain or the fuzzer runs.
      let fuzzed = !fuzzing
      void fuzzing?.finally(() => (fuzzed = true)).catch(() => {})
      while (faults < s.faults || !fuzzed) {
        if (faults >= s.faults) {
          await sleep(250)
          if (this.pool <= 0) this.pool += s.quota
          await this.reconcile()
          continue
        }
        await sleep(this.rand.int(s.pause[0], s.pause[1]))
        const name = s.nemeses[faults % s.nemeses.length]!
        const nemesis = NEMESES[name]
        this.log(`[${s.name}] fault ${faults + 1}/${s.faults}: ${name} (history ${this.history.length} events)`)
        try {
          await nemesis(this)
        } catch (error) {
          this.notes.push(`nemesis ${name} failed: ${(error as Error).message.split('\n')[0]}`)
        }
        faults++
        faultsByKind[name] = (faultsByKind[name] ?? 0) + 1
        await this.heal()
        if (this.pool <= 0 && (faults < s.faults || !fuzzed)) this.pool += s.quota
        await this.reconcile()
        const inspect = await this.inspect()
        if (inspect) epochs.add(inspect.epoch)
        this.log(`[${s.name}]   after ${name}: epoch ${inspect?.epoch ?? '?'}, backlog ${inspect ? this.backlog(inspect) : '?'}, storage failures ${inspect?.storage.failedBatches ?? '?'}; ${this.status()}`)
      }
      if (fuzzing) fuzz = await fuzzing

      // Heal, let the producers finish, let the consumers empty the queues.
      await this.heal()
      const settleBy = Date.now() + (s.settleTimeout ?? 120_000)
      for (;;) {
        await this.reconcile()
        const producing = [...this.roles.values()].some((r) => r.kind === 'producer' && !r.dead && !r.finished)
        if (!producing && this.pool <= 0) break
        if (Date.now() > settleBy) {
          this.notes.push(`producers still running at the deadline (pool ${this.pool})`)
          break
        }
        await sleep(250)
      }
      let quiet = 0
      for (;;) {
        const inspect = await this.inspect()
        if (inspect) epochs.add(inspect.epoch)
        if (inspect && this.backlog(inspect) === 0) {
          if (++quiet >= 2) break
        } else quiet = 0
        if (Date.now() > settleBy) {
          this.notes.push(`queues not empty at the deadline: ${inspect ? this.backlog(inspect) : '?'} messages`)
          break
        }
        await sleep(250)
      }

      // Stop every role (consumers close: what they hold goes back), then drain what is left.
      this.paused = true
      await Promise.all(this.usable.map((tab) => tab.page.evaluate(() => window.rel.stopAll()).catch(() => {})))
      const drainer = this.usable[0] ?? (await this.openTab('consumer'))
      const drained = await drainer.page.evaluate(([u, q]) => window.rel.drain(u as string, q as string[]), [this.url, [...this.queues, DLQ]] as [string, string[]])
      const final = await this.inspect()
      if (final) epochs.add(final.epoch)
      if (final && this.backlog(final) !== 0) this.notes.push(`after the drain the broker still reports ${this.backlog(final)} messages`)
      await sleep(200)

      const result = check(this.history)
      return {
        scenario: s.name,
        messages: result.confirmed,
        faults,
        faultsByKind,
        check: result,
        ms: Date.now() - started,
        drained,
        ...(fuzz ? { fuzz } : {}),
        notes: this.notes,
        epochs: [...epochs].sort((a, b) => a - b),
      }
    } finally {
      clearInterval(progress)
      this.rig.listen(undefined)
      for (const tab of this.tabs) await tab.page.close().catch(() => {})
      await this.control?.page.close().catch(() => {})
      await this.rig.harness.context.setOffline(false).catch(() => {})
    }
  }

  /** One line on how the run is doing. */
  status(): string {
    const count = (type: HistoryEvent['type']) => this.history.reduce((n, e) => n + (e.type === type ? 1 : 0), 0)
    const roles = [...this.roles.values()]
    const alive = (kind: string) => roles.filter((r) => r.kind === kind && !r.dead && !r.finished).length
    return `attempts ${count('publish-attempt')}, confirmed ${count('publish-confirmed')}, failed ${count('publish-failed')}, delivered ${count('delivered')}, acked ${count('acked')}, dead ${count('dead-lettered')}; producers ${alive('producer')}, consumers ${alive('consumer')}, pool ${this.pool}, tabs ${this.live.length - 1}`
  }

  /** Undoes lasting faults: frozen tabs resume, the network is back, storage works. */
  async heal(): Promise<void> {
    for (const tab of this.tabs) {
      if (!tab.frozen || tab.closed) continue
      try {
        const session = await this.cdp(tab)
        await session.send('Page.setWebLifecycleState', { state: 'active' })
      } catch {
        // Gone meanwhile.
      }
      tab.frozen = false
    }
    if (this.offline) {
      await this.harness.context.setOffline(false)
      this.offline = false
    }
    this.paused = false
    await this.debug({ op: 'heal-storage' })
  }

  async #fuzz(config: NonNullable<Scenario['fuzz']>): Promise<FuzzOutcome> {
    const tab = await this.openTab('fuzz')
    const before = await this.inspect()
    const report = await tab.page.evaluate(
      (c) => window.rel.fuzz(c as FuzzConfig),
      {
        vhost: this.vhost,
        seed: this.scenario.seed,
        protectedQueues: this.queues.concat(DLQ),
        protectedExchanges: [DLX, ''],
        ...config,
      } satisfies FuzzConfig,
    )
    // The broker may still be working through the last posts: wait until its counters settle.
    // (and its counters: a command that waits for a storage write is counted when it settles).
    const mark = (i: InspectReply | null) =>
      i ? `${i.host.batches}/${i.host.dropped}/${i.broker.droppedFrames}/${i.broker.rejectedFrames}` : ''
    let after = await this.inspect()
    for (let i = 0; i < 20; i++) {
      await sleep(250)
      const next = await this.inspect()
      const settled = mark(next) === mark(after)
      after = next
      if (settled) break
    }
    await this.closeTab(tab)
    return {
      ...report,
      account: accountFuzz(report, diffTally(after?.tally ?? {}, before?.tally ?? {})),
      epochBefore: before?.epoch ?? -1,
      epochAfter: after?.epoch ?? -1,
      stats: { before: before && { host: before.host, broker: before.broker, tally: before.tally }, after: after && { host: after.host, broker: after.broker, tally: after.tally } },
    }
  }
}

// ------------------------------------------------------------ report

export function table(results: ScenarioResult[]): string {
  const head = ['scenario', 'messages', 'faults', 'lost', 'dup flagged', 'dup unflagged', 'unexpected', 'recovered', 'republished', 'deduplicated', 'dead-lettered', 'time']
  const rows = results.map((r) => [
    r.scenario,
    String(r.messages),
    String(r.faults),
    String(r.check.lost),
    String(r.check.duplicatedFlagged),
    String(r.check.duplicatedUnflagged),
    String(r.check.unexpected),
    String(r.check.recovered),
    String(r.check.republished),
    String(r.check.deduplicated),
    String(r.check.deadLettered),
    `${Math.round(r.ms / 1000)} s`,
  ])
  if (results.length > 1) {
    const sum = (f: (r: ScenarioResult) => number) => String(results.reduce((n, r) => n + f(r), 0))
    rows.push([
      'total',
      sum((r) => r.messages),
      sum((r) => r.faults),
      sum((r) => r.check.lost),
      sum((r) => r.check.duplicatedFlagged),
      sum((r) => r.check.duplicatedUnflagged),
      sum((r) => r.check.unexpected),
      sum((r) => r.check.recovered),
      sum((r) => r.check.republished),
      sum((r) => r.check.deduplicated),
      sum((r) => r.check.deadLettered),
      `${Math.round(results.reduce((n, r) => n + r.ms, 0) / 1000)} s`,
    ])
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n')
}

/** What the table leaves out: faults by kind, broker epochs seen, the fuzzer's accounting. */
export function details(results: ScenarioResult[]): string {
  const lines: string[] = []
  for (const r of results) {
    const kinds = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ')
    const c = r.check
    lines.push(
      `${r.scenario}: ${c.attempts} publish attempts for ${c.attempted} ids; ${c.confirmed} confirmed, ${c.acked} acked, ${c.deadLettered} dead-lettered (${Object.entries(c.reasons).map(([k, n]) => `${k} ${n}`).join(', ')}), ${c.drained} left for the final drain; ${c.redeliveries} deliveries flagged redelivered; ${c.retried} publishes confirmed after a retry, ${c.deduplicated} of them deduplicated by the broker, ${c.republished} ids stored again by a new attempt; broker epochs ${r.epochs.join(', ')}; faults: ${kinds}`,
    )
    const f = r.fuzz
    if (f) {
      const refused = Object.values(f.account.perKind).reduce((n, k) => n + k.frames, 0)
      lines.push(
        `  fuzzer: ${f.frames} frames in ${f.posts} posts (${Object.entries(f.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}); of the ${refused} bad frames that reached the host readable, ${f.account.unaccounted} unaccounted: ${f.ok} answered ok, ${f.errors} answered with typed errors (${Object.entries(f.codes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}), the rest dropped and counted; ${f.account.unreadable} posts arrived unreadable (counted once each); ${f.resets} session forgeries (${Object.entries(f.resetsBy ?? {}).map(([k, n]) => `${k} ${n}`).join(', ')}); ${f.violations.length} contract violations; broker epoch ${f.epochBefore} → ${f.epochAfter}`,
      )
    }
    if (r.notes.length > 0) lines.push(`  notes: ${r.notes.slice(0, 10).join(' | ')}`)
  }
  return lines.join('\n')
}
