/**
 * `npm run bench` (full) and `npm run bench -- --quick` (smoke, under 2 minutes): Warren next
 * to the raw browser primitives and the peers, all measured in the same run, in Debian's
 * headless Chromium on a persistent profile. Prints a table of medians with [min, max],
 * ratios and the targets; writes bench/results/latest.json. Never fails on a figure.
 *
 * Options: --quick, --only=transient,fanout,latency,durable,startup,heap,streams,routing,bundle,remote,
 * --reps=N, --out=FILE, --echo (page console to stdout), --browser=chromium|firefox (results in
 * latest-firefox.json; no heap group there: it needs CDP); --profile=transient|durable|latency|startup [--n=N]
 * profiles one scenario instead (bench/profile.ts).
 */
import { execSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import * as groups from './browser-groups.js'
import { bundles } from './bundle.js'
import { firefoxPath } from '../test/firefox.js'
import { startBrowser, type BenchEngine } from './lib/browser.js'
import { fmt, ratioTable, Results, table, targetTable } from './lib/report.js'
import { profile } from './profile.js'
import { remote, remoteAvailable } from './remote.js'
import { routing } from './routing.js'

const ALL = ['transient', 'fanout', 'latency', 'durable', 'startup', 'heap', 'streams', 'routing', 'bundle', 'remote'] as const
type Group = (typeof ALL)[number]

function targets(results: Results, quick: boolean): void {
  const ratio = (of: string, to: string, min: number, label: string) =>
    results.targets.push({
      label,
      check: (get) => {
        const a = get(of)
        const b = get(to)
        if (a === undefined || b === undefined) return { figure: '—', met: undefined }
        return { figure: `${(a / b).toFixed(2)}× (${fmt(a)} / ${fmt(b)})`, met: a / b >= min }
      },
    })
  const atMost = (id: string, max: number, unit: string, label: string) =>
    results.targets.push({
      label,
      check: (get) => {
        const v = get(id)
        return v === undefined ? { figure: '—', met: undefined } : { figure: `${fmt(v)} ${unit}`, met: v <= max }
      },
    })
  // Windows talk to the broker over a MessagePort by default: every target uses that link (fanout,
  // durability and startup too), throughput and latency each against the bare primitive of the
  // same kind (the BroadcastChannel link's rows stay in the tables).
  ratio('warren-ack-port/small', 'bc/small', 2.5, 'transient small, acks (default port link) ≥ 2.5× bare BroadcastChannel (1 post/msg)')
  ratio('warren-ack-port/small', 'relay-port-batch/small', 0.5, 'transient small, acks (default port link) ≥ 0.5× batched bare relay (MessagePorts)')
  results.targets.push({
    label: 'latency p50 (low rate, default port link) ≤ 1.5× bare SharedWorker round trip',
    check: (get) => {
      const w = get('rtt-warren-port:p50')
      const bare = get('rtt-relay-port:p50')
      if (w === undefined || bare === undefined) return { figure: '—', met: undefined }
      return { figure: `${(w / bare).toFixed(2)}× (${fmt(w)} / ${fmt(bare)} ms, MessagePort link vs MessagePort relay)`, met: w / bare <= 1.5 }
    },
  })
  ratio('durable-1000', 'idb-1000', 1, 'persistent confirmed, 1,000 in flight ≥ raw IndexedDB 1,000 puts/tx')
  ratio('fan-warren-8/small', 'fan-bc-8/small', 1, 'fanout to 8 tabs (default port link) ≥ bare BroadcastChannel fanout')
  ratio('warren-ack-port/small', 'lib/small', 1, 'pub/sub (default port link) ahead of broadcast-channel (npm)')
  results.targets.push({
    label: 'durable enqueue ≥ 10× workbox-background-sync',
    check: (get) => {
      const w = get('durable-1000')
      const best = Math.max(get('workbox-1') ?? 0, get('workbox-100') ?? 0)
      if (w === undefined || best === 0) return { figure: '—', met: undefined }
      return { figure: `${(w / best).toFixed(1)}× (${fmt(w)} / ${fmt(best)}, workbox's better case)`, met: w / best >= 10 }
    },
  })
  ratio('remote-publish-warren', 'remote-publish-stomp', 1, '[remote] publish to RabbitMQ with receipts ≥ 1× @stomp/stompjs from the tab (one socket for every tab)')
  ratio('remote-consume-warren', 'remote-consume-stomp', 1, '[remote] consume from RabbitMQ with acks ≥ 1× @stomp/stompjs from the tab')
  atMost('start-cold-empty', 150, 'ms', 'startup to first delivery, empty broker < 150 ms')
  atMost('start-backlog', 500, 'ms', `startup to first delivery, ${quick ? '10k (quick mode; target is for 100k)' : '100k'} backlog < 500 ms`)
  atMost('heap-recovered', 64, 'MB', 'broker heap with 1M backlogged < 64 MB')
  atMost('bundle-client:gz', 12, 'KB', 'client bundle < 12 KB gzipped (initial chunks)')
  atMost('bundle-worker:gz', 40, 'KB', 'worker bundle < 40 KB gzipped')
}

function machine(engine: BenchEngine) {
  // Named `chromium` in the results for the readers of older files; it is the engine benchmarked.
  let chromium = ''
  try {
    const binary = engine === 'firefox' ? firefoxPath() : process.env.CHROMIUM_PATH || '/usr/bin/chromium'
    chromium = execSync(`${binary} --version 2>/dev/null`).toString().trim()
  } catch {
    chromium = 'unknown'
  }
  let commit = ''
  try {
    commit = execSync('git rev-parse --short HEAD').toString().trim()
    if (execSync('git status --porcelain -- src').toString().trim()) commit += ' (src modified)'
  } catch {
    commit = 'unknown'
  }
  return { chromium, node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '', commit, date: new Date().toISOString() }
}

export async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  // `--name=value` or `--name value`.
  const value = (name: string) => {
    const at = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    if (at < 0) return undefined
    const next = argv[at + 1]
    return argv[at]!.includes('=') ? argv[at]!.split('=')[1] : next !== undefined && !next.startsWith('--') ? next : undefined
  }
  const profiled = value('profile')
  if (profiled) return profile(profiled, Number(value('n') ?? 20_000))
  const quick = flag('quick') !== undefined
  const engine = (value('browser') ?? 'chromium') as BenchEngine
  if (engine !== 'chromium' && engine !== 'firefox') throw new Error(`--browser=${engine}: chromium or firefox`)
  const only = value('only')?.split(',') as Group[] | undefined
  // The heap figures come from CDP (Chromium only).
  const selected = (only ?? ALL.filter((g) => !(quick && g === 'heap') && !(engine !== 'chromium' && g === 'heap'))) as Group[]
  const reps = Number(value('reps') ?? (quick ? 1 : 3))
  const suffix = engine === 'chromium' ? '' : `-${engine}`
  const out = value('out') ?? fileURLToPath(new URL(`./results/${quick ? 'quick' : 'latest'}${suffix}.json`, import.meta.url))
  const started = Date.now()
  const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`)
  const loads: number[][] = [loadavg()]
  const info = machine(engine)
  log(`warren bench ${quick ? '--quick' : '(full)'}: ${selected.join(', ')}; ${reps} rep(s) after a warm-up; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

  const results = new Results()
  const plan = { quick, reps, log }
  const browserGroups = selected.filter((g) => ['transient', 'fanout', 'latency', 'durable', 'startup', 'heap', 'streams'].includes(g))
  if (browserGroups.length > 0) {
    const browser = await startBrowser(flag('echo') !== undefined, true, engine)
    try {
      for (const group of browserGroups) {
        log(`${group}...`)
        if (group === 'transient') await groups.throughput(browser, results, plan)
        if (group === 'fanout') await groups.fanoutGroup(browser, results, plan)
        if (group === 'latency') await groups.latency(browser, results, plan)
        if (group === 'durable') await groups.durable(browser, results, plan)
        if (group === 'startup') await groups.startup(browser, results, plan)
        if (group === 'heap') await groups.heap(browser, results, plan)
        if (group === 'streams') await groups.streams(browser, results, plan)
        loads.push(loadavg())
      }
    } finally {
      await browser.close()
      if (browser.errors.length) log(`page errors/warnings: ${browser.errors.length} (first: ${browser.errors.slice(0, 3).join(' | ')})`)
    }
  }
  if (selected.includes('routing')) {
    log('routing...')
    await routing(results, plan)
  }
  // [remote] Against a private RabbitMQ node: only where rabbitmq-server is installed.
  if (selected.includes('remote')) {
    if (remoteAvailable()) {
      log('remote...')
      await remote(results, plan, flag('echo') !== undefined, engine)
    } else log('remote: skipped (rabbitmq-server is not installed)')
  }
  if (selected.includes('bundle')) {
    log('bundle...')
    await bundles(results)
  }
  loads.push(loadavg())
  targets(results, quick)

  const seconds = (Date.now() - started) / 1000
  const load1 = loads.map((l) => l[0]!)
  console.log(`\nWarren benchmarks (${quick ? 'quick' : 'full'}), ${info.chromium}, Node ${info.node}, ${info.cpus} × ${info.cpu}, commit ${info.commit}`)
  console.log(`median of ${reps} rep(s) after a warm-up; 1-min load average during the run ${Math.min(...load1).toFixed(2)}–${Math.max(...load1).toFixed(2)}; ${seconds.toFixed(0)} s\n`)
  console.log(table(results))
  console.log(`\n${ratioTable(results)}`)
  console.log(`\n${targetTable(results)}\n`)

  await mkdir(new URL('./results/', import.meta.url), { recursive: true })
  const json = {
    mode: quick ? 'quick' : 'full',
    ...info,
    seconds,
    loadAverage: loads,
    reps,
    rows: results.rows,
    ratios: results.ratios.map((r) => {
      const a = results.get(r.of)
      const b = results.get(r.to)
      return { ...r, value: a !== undefined && b !== undefined ? a / b : null }
    }),
    targets: results.targets.map((t) => ({ label: t.label, ...t.check((id) => results.get(id)) })),
  }
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`)
  log(`wrote ${out}`)
}
