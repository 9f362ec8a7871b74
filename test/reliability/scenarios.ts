// The scenarios of the short run (inside `npm test`) and of the long one (`npm run test:reliability`).
import type { Scenario } from './harness.js'
import type { NemesisName } from './nemeses.js'

const EVERY: NemesisName[] = [
  'consumer-tab-close',
  'storage-fail',
  'tab-crash',
  'freeze',
  'worker-terminate',
  'broker-kill',
  'offline',
  'all-tabs-restart',
  'offline-broker-kill',
]

const base = {
  queues: 2,
  producerTabs: 1,
  consumerTabs: 2,
  prefetch: 50,
  window: 100,
  processMs: 2,
  rejectEvery: 97,
  expireEvery: 61,
} satisfies Partial<Scenario>

/** Finding 4 of issue 17: consumers live while the SharedWorker is killed mid-stream, publishers retrying. */
const killsWithLiveConsumers = {
  ...base,
  name: 'broker kills, live consumers, retried publishes',
  nemeses: ['broker-kill'],
  clientRetry: true,
} satisfies Partial<Scenario>

export const SHORT: Scenario[] = [
  { ...base, name: 'mixed faults', messages: 3000, quota: 750, nemeses: EVERY, faults: EVERY.length, pause: [300, 600], seed: 1 },
  {
    ...base,
    name: 'protocol fuzzing',
    messages: 1500,
    quota: 750,
    nemeses: ['storage-fail'],
    faults: 1,
    pause: [1000, 1000],
    fuzz: { durationMs: 3000, sessions: 3, resets: 4 },
    seed: 2,
  },
  { ...killsWithLiveConsumers, messages: 1500, quota: 500, faults: 15, pause: [100, 300], seed: 3 },
  // The same on the BroadcastChannel link, where the fuzzer can read the windows' session ids
  // too (and so end them and take them over: see pages/fuzz.ts).
  {
    ...base,
    name: 'protocol fuzzing, BroadcastChannel link',
    link: 'broadcast',
    messages: 1500,
    quota: 750,
    nemeses: ['storage-fail'],
    faults: 1,
    pause: [1000, 1000],
    fuzz: { durationMs: 3000, sessions: 3, resets: 4 },
    seed: 3,
  },
]

export const LONG: Scenario[] = [
  { ...base, name: 'mixed faults', messages: 70_000, quota: 2500, nemeses: EVERY, faults: 40, pause: [800, 2000], seed: 11 },
  { ...base, name: 'broker restarts', messages: 20_000, quota: 2500, nemeses: ['broker-kill', 'all-tabs-restart', 'browser-restart', 'offline-broker-kill'], faults: 8, pause: [1500, 3000], seed: 12 },
  {
    ...base,
    name: 'protocol fuzzing',
    messages: 20_000,
    quota: 2500,
    nemeses: ['storage-fail', 'tab-crash', 'worker-terminate'],
    faults: 6,
    pause: [3000, 5000],
    fuzz: { durationMs: 25_000, sessions: 4, resets: 10 },
    seed: 13,
  },
  { ...killsWithLiveConsumers, messages: 20_000, quota: 2500, faults: 40, pause: [500, 1500], seed: 14 },
]

/**
 * Faults that need CDP (Chromium only): a renderer crash (Page.crash), a SharedWorker killed
 * under its clients or found gone (Target.*), a frozen tab (Page.setWebLifecycleState).
 */
const NEEDS_CDP = new Set<NemesisName>(['tab-crash', 'freeze', 'broker-kill', 'all-tabs-restart', 'offline-broker-kill'])

/**
 * The same scenarios with only the faults every engine can produce (closing tabs, terminating
 * workers, offline, storage), fuzzer included; a scenario left with no fault (the broker kills)
 * is not run. (Firefox's fuzzer tally once put some 'wrong' frames under the workload's kind:
 * that was before sessions had unguessable ids, when forged frames could share a real
 * client's sender and request ids; it closes in Firefox as in Chromium since.)
 */
export function withoutCdp(scenarios: Scenario[]): Scenario[] {
  return scenarios.flatMap((scenario) => {
    const nemeses = scenario.nemeses.filter((n) => !NEEDS_CDP.has(n))
    if (nemeses.length === 0) return []
    return [{ ...scenario, nemeses, faults: Math.min(scenario.faults, nemeses.length * Math.ceil(scenario.faults / scenario.nemeses.length)) }]
  })
}
