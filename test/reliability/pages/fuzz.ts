// The protocol fuzzer of reliability runs: a hostile script of the same origin posting on the
// broker's BroadcastChannel while the normal workload runs. fast-check generates the frames:
// junk posts, malformed commands (wrong types, missing fields, huge strings, deep nesting,
// unknown ops), well-formed commands that are wrong (other clients' delivery and consumer
// tags, unopened channels, inequivalent redeclares of the workload's entities), and
// handshakes out of order. It listens on the broker channel like any tab could, so it knows
// the real clients' ids and tags.
//
// What it does not do, because a same-origin script is trusted on this wire (BroadcastChannel
// carries no sender identity; see hosts/broadcast-host.ts): publish into, consume from, bind,
// purge or delete the workload's queues, or send valid commands with a request id in a real
// client's name. In real clients' names it only sends frames the guards refuse (naming no
// session, or the session it read on the broker channel), hellos that name no session (the
// broker refuses them) and, when `resets` is set, session forgeries in turn: a goodbye naming
// a made-up session (refused), a hello naming none (refused), and, where it could read the
// session id (BroadcastChannel clients: a port client's batches never pass this channel), a
// goodbye naming it (the broker ends the session and tells the client, which says hello again)
// or a hello naming it (the broker gives the session to whoever sent it, and the welcome goes
// to the real client, which takes the new session). The client must recover without losing a
// confirmed message. Real clients are found on the broker channel and by their Web Locks.
import fc from 'fast-check'
import { COMMAND_OPS } from '../../../src/protocol/guards.js'
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js'
import type { LockManagerLike } from '../../../src/transport/locks.js'
import { brokerChannelName, clientChannelName, clientLockName } from '../../../src/transport/names.js'

export interface FuzzConfig {
  vhost: string
  durationMs: number
  seed: number
  /** Queue and exchange names of the workload: never targeted by frames that could change them. */
  protectedQueues: string[]
  protectedExchanges: string[]
  /** Milliseconds between posts. */
  intervalMs?: number
  /** Own sessions (fuzzer client ids that said hello and hold their lock). */
  sessions?: number
  /** Goodbyes forged in real clients' names over the run (session resets). */
  resets?: number
}

export interface FuzzReport {
  /** Posts made, frames inside them (a post that is not a batch counts as one), and frames by category. */
  posts: number
  frames: number
  byKind: Record<string, number>
  /**
   * Frames that must be refused: dropped and counted by the host, or refused by the engine
   * (counted, and answered with a typed error when they carry a request id). Frames answered
   * ok are subtracted by the harness; hellos and goodbyes are not in it.
   */
  refusable: number
  /** Posts that could not even be sent (postMessage refused to clone them). */
  unsendable: number
  /** Own-session frames with a request id, and the replies to them. */
  withId: number
  ok: number
  /** ok replies per kind of post. */
  okByKind: Record<string, number>
  errors: number
  /** Error codes seen, and how often. */
  codes: Record<string, number>
  /** Replies that broke the contract: a second reply to one id, an untyped error, an internal error (541). */
  violations: string[]
  /** Real clients seen (broker channel, Web Locks); session forgeries sent, and by strategy. */
  realClients: number
  resets: number
  resetsBy: Record<string, number>
  /** Hard errors that closed an own session (it says hello again). */
  sessionsClosed: number
}

type Frame = Record<string, unknown>

const WORKLOAD_SAFE_OPS = ['queue.declare'] as const

/** Forgeries of real clients' sessions, used in turn (see the header). */
const RESET_STRATEGIES = ['stale-goodbye', 'blind-hello', 'sniffed-goodbye', 'sniffed-hello'] as const

/** Deeply nested plain objects (structured clone and the guards must cope). */
const deep = (depth: number): unknown => {
  let v: unknown = { leaf: true }
  for (let i = 0; i < depth; i++) v = { n: v }
  return v
}

const huge = (n: number) => 'x'.repeat(n)

/** `locks`: the lock manager to hold the fuzzer's own client locks with (default navigator.locks). */
export async function runFuzzer(config: FuzzConfig, locks: LockManagerLike = navigator.locks): Promise<FuzzReport> {
  const { vhost, protectedQueues, protectedExchanges } = config
  const report: FuzzReport = {
    posts: 0,
    frames: 0,
    byKind: {},
    refusable: 0,
    unsendable: 0,
    withId: 0,
    ok: 0,
    okByKind: {},
    errors: 0,
    codes: {},
    violations: [],
    realClients: 0,
    resets: 0,
    resetsBy: {},
    sessionsClosed: 0,
  }
  /** Kinds whose frames are all refused unless answered ok. */
  const REFUSABLE = new Set(['junk-post', 'stranger', 'malformed', 'wrong', 'handshake', 'impersonate'])
  const count = (kind: string, n: number) => {
    report.byKind[kind] = (report.byKind[kind] ?? 0) + n
    if (REFUSABLE.has(kind)) report.refusable += n
  }
  const broker = new BroadcastChannel(brokerChannelName(vhost))
  const listener = new BroadcastChannel(brokerChannelName(vhost))

  // What a tab listening on the broker channel learns: who the clients are, their tags.
  const realIds = new Set<string>()
  /** The last session id each real client named on the broker channel. */
  const realSessions = new Map<string, string>()
  const deliveryTags: number[] = []
  const consumerTags: string[] = []
  const ownIds = new Set<string>()
  listener.onmessage = (event: MessageEvent<unknown>) => {
    const batch = event.data as { from?: unknown; frames?: unknown; k?: unknown }
    // Our own posts carry `k`; junk is not a batch of a real client.
    if (batch?.k !== undefined || typeof batch?.from !== 'string' || batch.from.length > 128 || !Array.isArray(batch.frames)) return
    if (ownIds.has(batch.from) || batch.from.startsWith('fuzz-')) return
    realIds.add(batch.from)
    const named = (batch as { session?: unknown }).session
    if (typeof named === 'string') realSessions.set(batch.from, named)
    for (const frame of batch.frames as Frame[]) {
      if (typeof frame !== 'object' || frame === null) continue
      if (typeof frame.deliveryTag === 'number' && deliveryTags.length < 1000) deliveryTags.push(frame.deliveryTag)
      if (typeof frame.consumerTag === 'string' && consumerTags.length < 100) consumerTags.push(frame.consumerTag)
    }
  }

  // ------------------------------------------------------------ own sessions
  interface Session {
    id: string
    /** The session id and broker epoch of our last welcome. */
    token: string | undefined
    /** The session a goodbye was sent for, until the broker says it is over. */
    leaving?: string | undefined
    epoch: number | undefined
    inbox: BroadcastChannel
    release: () => void
    nextId: number
    answered: Set<number>
    /** Request id → the kind of post it went in. */
    kinds: Map<number, string>
    channels: number[]
    open: boolean
  }
  const sessions: Session[] = []
  const post = (from: string, frames: unknown[], kind: string, named?: string) => {
    const session = sessions.find((s) => s.id === from)
    if (session) for (const frame of frames) if (typeof (frame as Frame)?.id === 'number') session.kinds.set((frame as Frame).id as number, kind)
    // Our own sessions name their session; forgeries name what `named` says.
    const token = named ?? session?.token
    try {
      // `k` (ignored by the host) tells a test hooked into the host what the post was.
      broker.postMessage(token === undefined ? { from, frames, k: kind } : { from, session: token, frames, k: kind })
      report.posts++
      report.frames += frames.length
      count(kind, frames.length)
    } catch {
      report.unsendable++
    }
  }
  const hello = (s: Session) =>
    post(s.id, [{ op: 'hello', clientId: s.id, protocol: PROTOCOL_VERSION, kind: 'window', name: 'fuzzer', ...(s.token ? { session: s.token } : {}) }], 'session')
  const newSession = async (k: number): Promise<Session> => {
    const id = `fuzz-${config.seed}-${k}-${Math.random().toString(36).slice(2, 8)}`
    ownIds.add(id)
    // Hold the client lock, as a live client does; otherwise the broker drops the session at once.
    let release!: () => void
    await new Promise<void>((granted) => {
      void locks.request(clientLockName(vhost, id), {}, () => {
        granted()
        return new Promise<void>((done) => (release = done))
      })
    })
    const inbox = new BroadcastChannel(clientChannelName(vhost, id))
    const session: Session = { id, token: undefined, epoch: undefined, inbox, release, nextId: 1, answered: new Set(), kinds: new Map(), channels: [], open: true }
    inbox.onmessage = (event: MessageEvent<unknown>) => {
      if (!Array.isArray(event.data)) {
        report.violations.push(`a post to a client that is not an array of frames`)
        return
      }
      // A ranged ok (consecutive confirms) is one answer per id of the range.
      const frames = (event.data as Frame[]).flatMap((frame) =>
        frame.op === 'ok' && typeof frame.through === 'number'
          ? Array.from({ length: frame.through - (frame.id as number) + 1 }, (_, i) => ({ ...frame, id: (frame.id as number) + i, through: undefined }))
          : [frame],
      )
      for (const frame of frames) {
        if (frame.op === 'ok' || frame.op === 'error') {
          const rid = frame.id as number
          if (session.answered.has(rid)) report.violations.push(`two replies to request ${rid} of ${id}`)
          session.answered.add(rid)
          if (frame.op === 'ok') {
            report.ok++
            const kind = session.kinds.get(rid) ?? 'unknown'
            report.okByKind[kind] = (report.okByKind[kind] ?? 0) + 1
          } else {
            report.errors++
            const error = frame.error as { name?: unknown; code?: unknown; message?: unknown; replyCode?: unknown }
            if (typeof error?.name !== 'string' || typeof error.code !== 'string' || typeof error.message !== 'string')
              report.violations.push(`an untyped error: ${JSON.stringify(error).slice(0, 200)}`)
            else report.codes[error.code] = (report.codes[error.code] ?? 0) + 1
            if (error?.replyCode === 541) report.violations.push(`an internal error (541): ${String(error.message).slice(0, 300)}`)
          }
        } else if (frame.op === 'connection.closed') {
          report.sessionsClosed++
          session.channels = []
          hello(session)
        } else if (frame.op === 'channel.closed') {
          session.channels = session.channels.filter((c) => c !== frame.channel)
        } else if (frame.op === 'welcome') {
          session.token = frame.session as string
          session.epoch = frame.epoch as number
        } else if (frame.op === 'unknown-session' && session.leaving !== undefined) {
          if (frame.session === session.leaving) session.leaving = undefined
        } else if (frame.op === 'unknown-session' && (frame.session === undefined ? frame.epoch !== session.epoch : frame.session === session.token)) {
          // (As a real client does: one naming no session is about ours only from another broker.)
          session.channels = []
          hello(session)
        }
      }
    }
    hello(session)
    // Frames before the welcome would only be dropped (they name no session): wait for it.
    for (let i = 0; i < 200 && session.token === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    return session
  }
  for (let k = 0; k < (config.sessions ?? 3); k++) sessions.push(await newSession(k))

  // ------------------------------------------------------------ generators
  const fuzzName = fc.oneof(
    fc.constantFrom('fz.a', 'fz.b', 'fz.c', 'amq.gen-x', 'amq.direct', 'amq.topic', 'amq.fanout', 'amq.headers', 'fz.ex'),
    fc.string({ maxLength: 12 }).map((s) => `fz.${s}`),
  )
  const badName = fc.oneof(
    fc.constant(huge(300)),
    fc.constant(huge(100_000)),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.constant({ toString: 'x' }),
    fc.constant('\u{1F600}'.repeat(100)),
  )
  const name = fc.oneof({ weight: 4, arbitrary: fuzzName }, { weight: 1, arbitrary: badName })
  const table = fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.constantFrom(
      { 'x-message-ttl': -1 },
      { 'x-max-length': 'ten' },
      { 'x-overflow': 'sideways' },
      { 'x-dead-letter-exchange': 42 },
      { 'x-max-priority': 1000 },
      { 'x-expires': 0 },
      { 'x-queue-type': 'quorum' },
      { 'x-match': 'some' },
      { 'x-delivery-limit': -5 },
      { 'alternate-exchange': ['a'] },
      { 'x-single-active-consumer': 'yes' },
    ),
    fc.constant(deep(1000)),
    // Chromium posts up to about 5,000 levels, but its SharedWorker receives anything past
    // about 1,300 as null (a dedicated worker: about 2,000): keep most deep values readable.
    fc.constant(deep(1200)),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.string(),
  )
  const properties = fc.oneof(
    fc.record(
      {
        contentType: fc.oneof(fc.string(), fc.integer()),
        deliveryMode: fc.oneof(fc.constantFrom(1, 2, 3, 0), fc.string()),
        priority: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double()),
        expiration: fc.oneof(fc.constantFrom('abc', '-1', '1e3', '', '0', '100'), fc.integer()),
        headers: table,
        timestamp: fc.oneof(fc.integer(), fc.string()),
        replyTo: fc.oneof(fc.constantFrom('amq.rabbitmq.reply-to', 'amq.rabbitmq.reply-to.bogus'), fc.string()),
      },
      { requiredKeys: [] },
    ),
    fc.constant(null),
    fc.string(),
    fc.constant(deep(1200)),
  )
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constant(huge(200_000)),
    fc.constant(new Uint8Array(1024)),
    fc.constant(deep(3000)),
    fc.constant(new Map([[1, 2]])),
    fc.date(),
    fc.bigInt(),
  )
  const tag = fc.oneof(fc.nat(), fc.integer({ min: -3, max: 0 }), fc.double(), fc.string(), fc.constant(2 ** 60))
  const channelNo = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 1.5, 65536, 2 ** 53, NaN), fc.string())
  const anyOp = fc.oneof(fc.constantFrom(...COMMAND_OPS), fc.constantFrom('basic.publishh', '', 'hello', 'welcome', 'constructor', '__proto__', 'toString'), fc.string())

  /** A command with arbitrary fields of arbitrary types. */
  const malformed = fc.record(
    {
      op: anyOp,
      channel: channelNo,
      queue: name,
      exchange: name,
      routingKey: name,
      destination: name,
      source: name,
      type: fc.oneof(fc.constantFrom('direct', 'fanout', 'topic', 'headers', 'x-delayed-message', 'x-consistent-hash'), badName),
      properties,
      body,
      arguments: table,
      deliveryTag: tag,
      consumerTag: name,
      prefetchCount: fc.oneof(fc.integer({ min: -2, max: 70_000 }), fc.string()),
      multiple: fc.oneof(fc.boolean(), fc.integer()),
      requeue: fc.oneof(fc.boolean(), fc.string()),
      noAck: fc.oneof(fc.boolean(), fc.constant('no')),
      passive: fc.oneof(fc.boolean(), fc.constant(1)),
    },
    { requiredKeys: [] },
  )

  /** Well-formed commands that are wrong; `channel` and `id` are filled in by the caller. */
  const wrong = fc.oneof(
    // Other clients' delivery tags on our channels: must be 406 unknown tag, never their messages.
    fc.record({ op: fc.constantFrom('basic.ack', 'basic.nack', 'basic.reject'), deliveryTag: fc.constant(-1), multiple: fc.boolean(), requeue: fc.boolean() }),
    // Other clients' consumer tags: cancelling them here must not touch their consumers.
    fc.record({ op: fc.constant('basic.cancel'), consumerTag: fc.constant('') }),
    // The workload's entities redeclared inequivalently (406/405) or passively (ok).
    fc.record({
      op: fc.constantFrom(...WORKLOAD_SAFE_OPS),
      queue: fc.constantFrom(...protectedQueues),
      durable: fc.boolean(),
      exclusive: fc.boolean(),
      passive: fc.boolean(),
      arguments: fc.constantFrom({}, { 'x-max-length': 1 }, { 'x-dead-letter-exchange': 'elsewhere' }),
    }),
    fc.record({ op: fc.constant('exchange.declare'), exchange: fc.constantFrom(...protectedExchanges), type: fc.constantFrom('direct', 'topic'), durable: fc.boolean() }),
    fc.record({ op: fc.constant('exchange.delete'), exchange: fc.constantFrom('', 'amq.direct', 'amq.topic') }),
    // (Only from a missing source: a binding that worked would route our junk into the workload.)
    fc.record({ op: fc.constant('exchange.bind'), destination: fc.constantFrom(...protectedExchanges), source: fc.constant('fz.missing'), routingKey: fc.string() }),
    // Our own entities, with every option.
    fc.record({ op: fc.constant('queue.declare'), queue: fuzzName, durable: fc.boolean(), exclusive: fc.constant(true), autoDelete: fc.boolean(), arguments: table }),
    fc.record({ op: fc.constant('exchange.declare'), exchange: fuzzName, type: fc.constantFrom('direct', 'fanout', 'topic', 'headers', 'bogus'), autoDelete: fc.boolean(), arguments: table }),
    fc.record({ op: fc.constantFrom('queue.bind', 'queue.unbind'), queue: fuzzName, exchange: fuzzName, routingKey: fc.string({ maxLength: 20 }), arguments: table }),
    fc.record({ op: fc.constant('basic.publish'), exchange: fc.constantFrom('amq.topic', 'amq.fanout', 'fz.missing', 'amq.headers'), routingKey: fc.string({ maxLength: 20 }), mandatory: fc.boolean(), properties, body }),
    fc.record({ op: fc.constant('basic.consume'), queue: fuzzName, consumerTag: fc.constantFrom('', 'dup', 'dup'), noAck: fc.boolean(), exclusive: fc.boolean(), arguments: table }),
    fc.record({ op: fc.constantFrom('basic.get', 'queue.purge'), queue: fuzzName, noAck: fc.boolean() }),
    fc.record({ op: fc.constant('queue.delete'), queue: fuzzName, ifEmpty: fc.boolean(), ifUnused: fc.boolean() }),
    fc.record({ op: fc.constant('basic.qos'), prefetchCount: fc.integer({ min: 0, max: 65535 }), global: fc.boolean() }),
    fc.record({ op: fc.constant('basic.recover'), requeue: fc.boolean() }),
    fc.record({ op: fc.constantFrom('channel.open', 'channel.close') }),
  )

  type Plan =
    | { kind: 'junk-post'; value: unknown }
    | { kind: 'stranger'; frames: unknown[] }
    | { kind: 'malformed'; frames: unknown[] }
    | { kind: 'wrong'; frames: Frame[] }
    | { kind: 'handshake'; which: number }
    | { kind: 'impersonate'; frames: unknown[] }

  const plan: fc.Arbitrary<Plan> = fc.oneof(
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).map((value): Plan => ({ kind: 'junk-post', value })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.record({ from: fc.oneof(fc.integer(), fc.constant(huge(500)), fc.constant(null)), frames: fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 2 }) }),
          fc.record({ from: fc.string({ maxLength: 10 }), frames: fc.oneof(fc.string(), fc.integer(), fc.constant({ length: 2 })) }),
          fc.constant({ from: 'fuzz-many', frames: new Array(10_001).fill({ op: 'ping' }) }),
        )
        .map((value): Plan => ({ kind: 'junk-post', value })),
    },
    { weight: 1, arbitrary: fc.array(malformed, { minLength: 1, maxLength: 3 }).map((frames): Plan => ({ kind: 'stranger', frames })) },
    { weight: 6, arbitrary: fc.array(malformed, { minLength: 1, maxLength: 4 }).map((frames): Plan => ({ kind: 'malformed', frames })) },
    { weight: 8, arbitrary: fc.array(wrong, { minLength: 1, maxLength: 4 }).map((frames): Plan => ({ kind: 'wrong', frames: frames as Frame[] })) },
    { weight: 2, arbitrary: fc.nat(8).map((which): Plan => ({ kind: 'handshake', which })) },
    { weight: 2, arbitrary: fc.array(malformed, { minLength: 1, maxLength: 3 }).map((frames): Plan => ({ kind: 'impersonate', frames })) },
  )

  // ------------------------------------------------------------ session forgeries

  type Strategy = (typeof RESET_STRATEGIES)[number]
  const forgeSession = (victim: string, wanted: Strategy) => {
    const known = realSessions.get(victim)
    // Where the victim's session id never passed the broker channel (a port client), the
    // strategies that need it fall back to the ones that do not.
    const strategy: Strategy = known === undefined ? (wanted === 'sniffed-goodbye' ? 'stale-goodbye' : wanted === 'sniffed-hello' ? 'blind-hello' : wanted) : wanted
    report.resetsBy[strategy] = (report.resetsBy[strategy] ?? 0) + 1
    const stale = 'f'.repeat(32)
    switch (strategy) {
      case 'stale-goodbye':
        post(victim, [{ op: 'goodbye', clientId: victim, session: stale }], 'reset', stale)
        break
      case 'blind-hello':
        post(victim, [{ op: 'hello', clientId: victim, protocol: PROTOCOL_VERSION, kind: 'window' }], 'reset')
        break
      case 'sniffed-goodbye':
        post(victim, [{ op: 'goodbye', clientId: victim, session: known }], 'reset', known)
        break
      case 'sniffed-hello':
        post(victim, [{ op: 'hello', clientId: victim, protocol: PROTOCOL_VERSION, kind: 'window', session: known }], 'reset')
        break
    }
  }

  // Clients whose batches never pass the broker channel (the MessagePort link) are found by their locks.
  const lockPrefix = clientLockName(vhost, '')
  const findByLocks = async () => {
    const snapshot = await (locks as { query?: () => Promise<{ held?: Array<{ name?: string }> }> }).query?.call(locks).catch(() => undefined)
    for (const lock of snapshot?.held ?? []) {
      const id = typeof lock.name === 'string' && lock.name.startsWith(lockPrefix) ? lock.name.slice(lockPrefix.length) : undefined
      if (id && !ownIds.has(id) && !id.startsWith('fuzz-')) realIds.add(id)
    }
  }

  // ------------------------------------------------------------ the run
  const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length])
  let rng = config.seed >>> 0
  const rand = () => {
    rng = (rng * 1664525 + 1013904223) >>> 0
    return rng
  }
  const started = performance.now()
  const resetEvery = config.resets ? config.durationMs / (config.resets + 1) : Infinity
  let nextReset = started + resetEvery
  let batchNo = 0
  const interval = config.intervalMs ?? 5

  const sessionFrame = (s: Session, frame: Frame, withId: boolean): Frame => {
    const out: Frame = { ...frame }
    if (typeof out.channel !== 'number' || rand() % 4 !== 0) {
      // Mostly a channel we opened (so the command reaches its checks), sometimes not.
      const open = pick(s.channels, rand())
      out.channel = open !== undefined && rand() % 5 !== 0 ? open : (rand() % 30) + 1
    }
    if (out.deliveryTag === -1) out.deliveryTag = pick(deliveryTags, rand()) ?? (rand() % 50) + 1
    if (out.consumerTag === '' && out.op === 'basic.cancel') out.consumerTag = pick(consumerTags, rand()) ?? 'ctag-1'
    if (withId) {
      out.id = s.nextId++
      report.withId++
    } else delete out.id
    return out
  }

  let lastLockScan = -Infinity
  while (performance.now() - started < config.durationMs) {
    if (performance.now() - lastLockScan > 500) {
      lastLockScan = performance.now()
      await findByLocks()
    }
    const chunk = fc.sample(plan, { numRuns: 50, seed: config.seed + batchNo++ })
    for (const p of chunk) {
      const s = sessions[rand() % sessions.length]!
      switch (p.kind) {
        case 'junk-post':
          try {
            broker.postMessage(p.value)
            report.posts++
            report.frames++
            count('junk-post', 1)
          } catch {
            report.unsendable++
          }
          break
        case 'stranger':
          post(`fuzz-stranger-${rand() % 1000}`, p.frames, 'stranger')
          break
        case 'malformed':
          post(s.id, p.frames.map((f) => ({ ...(f as Frame), id: rand() % 3 === 0 ? 'x' : s.nextId++ })), 'malformed')
          break
        case 'wrong': {
          const frames = p.frames.map((f) => sessionFrame(s, f, true))
          // Open the channels the commands name first (each open answered too).
          const opens = [...new Set(frames.map((f) => f.channel as number))]
            .filter((c) => !s.channels.includes(c) && rand() % 2 === 0)
            .map((c) => {
              s.channels.push(c)
              report.withId++
              return { op: 'channel.open', channel: c, id: s.nextId++ }
            })
          post(s.id, [...opens, ...frames], 'wrong')
          break
        }
        case 'handshake': {
          if (p.which === 8) {
            // Our own session: goodbye, a command (from nobody now), hello again.
            post(s.id, [{ op: 'goodbye', clientId: s.id, session: s.token }], 'session')
            post(s.id, [{ op: 'basic.qos', channel: 1, prefetchCount: 1, id: s.nextId++ }], 'handshake')
            s.channels = []
            hello(s)
            break
          }
          // Strangers never get a valid hello in (case 5 may be one: it has ids of its own).
          const stranger = p.which === 5 ? `fuzz-h5-${rand() % 100}` : `fuzz-h-${rand() % 100}`
          const cases: unknown[][] = [
            [{ op: 'basic.qos', channel: 1, prefetchCount: 1, id: 1 }, { op: 'hello', clientId: stranger, protocol: PROTOCOL_VERSION, kind: 'window' }],
            [{ op: 'hello', clientId: stranger, protocol: 999, kind: 'window' }],
            [{ op: 'hello', clientId: 'someone-else', protocol: PROTOCOL_VERSION, kind: 'window' }],
            [{ op: 'goodbye', clientId: stranger, session: 'f'.repeat(32) }, { op: 'channel.open', channel: 1, id: 1 }],
            [{ op: 'ping', clientId: stranger, nonce: 'x' }],
            [{ op: 'hello', clientId: stranger, protocol: PROTOCOL_VERSION, kind: 'toaster', name: huge(1000) }],
            [{ op: 'welcome', clientId: stranger, protocol: PROTOCOL_VERSION, epoch: 1, brokerId: 'x', session: 'x' }],
            [{ op: 'hello' }, { op: 'goodbye' }, { op: 'ping' }],
          ]
          // (A valid hello here would be welcomed; case 5 may be, so it counts as a session frame.)
          post(stranger, cases[p.which % cases.length]!, p.which === 5 ? 'session' : 'handshake')
          break
        }
        case 'impersonate': {
          const victim = pick([...realIds], rand())
          if (!victim) break
          // Frames the guards refuse and without a request id, naming no session: dropped and
          // counted by the host, never answered to the victim. (Frames naming a session read on
          // the broker channel reach the engine as the victim's: 'malformed' covers what the
          // engine does with them, the resets what such a script can do to a session.) A hello
          // in its name that names no session: refused.
          const frames: unknown[] = p.frames.map((f) => {
            const frame = { ...(f as Frame) }
            delete frame.id
            frame.op = `bogus.${String(frame.op).slice(0, 10)}`
            return frame
          })
          post(victim, frames, 'impersonate')
          if (rand() % 4 === 0) post(victim, [{ op: 'hello', clientId: victim, protocol: PROTOCOL_VERSION, kind: 'window' }], 'impersonated-hello')
          break
        }
      }
    }
    if (performance.now() >= nextReset && realIds.size > 0) {
      nextReset += resetEvery
      const victim = pick([...realIds], rand())!
      forgeSession(victim, RESET_STRATEGIES[report.resets % RESET_STRATEGIES.length]!)
      report.resets++
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }

  // Let the last replies arrive (a busy broker may be behind), then leave.
  for (let i = 0, last = -1; i < 20 && last !== report.ok + report.errors; i++) {
    last = report.ok + report.errors
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  // Say goodbye, and listen until the broker says the session is over: every reply it sent
  // before comes first on the same channel, and a reply settled after (a storage write) is owed
  // to a session that has ended, which the engine counts.
  await Promise.all(
    sessions.map(async (s) => {
      const ended = s.token
      if (ended !== undefined) {
        s.leaving = ended
        post(s.id, [{ op: 'goodbye', clientId: s.id, session: ended }], 'session')
        for (let i = 0; i < 500 && s.leaving !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      }
      s.inbox.close()
      s.release()
    }),
  )
  report.realClients = realIds.size
  broker.close()
  listener.close()
  return report
}
