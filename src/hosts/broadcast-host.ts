/**
 * The broker's side of the links: sessions, handshake, liveness and batching, in front of
 * one engine. Batches arrive on the vhost's broker channel (BroadcastChannel) or on an
 * attached MessagePort; each is checked here (envelope, hello, goodbye, ping) and its
 * commands go to the engine, which checks them again field by field. Nothing a client posts
 * can make this throw.
 *
 * Sessions: every welcome carries a fresh unguessable session id, and a batch's commands run
 * only when the batch names the sender's live session (and came through that session's port,
 * for the MessagePort link); anything else is answered `unknown-session`, and the client says
 * hello again. A goodbye ends only the session it names, and a hello never replaces a session
 * in use unless it names it, or the client's Web Lock is gone (the session is then dropped by
 * the lock watch, and the next hello opens a new one). So a stale or buggy context, or a
 * forged frame that does not know the session id, cannot end or take over a client's session.
 * (A session no batch has named yet may have lost its welcome: a hello repeats it, or moves
 * the session to the medium the hello came through, except from BroadcastChannel back to a
 * port: such a hello is a late twin, queued on a port the window has since given up.)
 *
 * What it cannot do: BroadcastChannel carries no sender identity and every context of the
 * origin can listen on the broker channel, so a hostile same-origin script can read the
 * session ids of BroadcastChannel clients there and act in their names. Port sessions' ids
 * never travel on a BroadcastChannel.
 */
import type { Broker } from '../engine/broker.js'
import type { Hello, ServerFrame, Welcome } from '../protocol/frames.js'
import { parseClientBatch, parseGoodbye, parseHello, parsePing } from '../protocol/guards.js'
import { PROTOCOL_VERSION } from '../protocol/version.js'
import { serverToWire, type WireServerFrame } from '../protocol/compact.js'
import { mergeOk } from '../protocol/confirms.js'
import { Batcher, postEach, queueTask } from '../transport/batch.js'
import { defaultLocks, type LockManagerLike } from '../transport/locks.js'
import { brokerChannelName, clientChannelName, clientLockName } from '../transport/names.js'
import { newSessionId } from '../transport/session.js'

/** Where a session's frames go: the client's own BroadcastChannel, or its port. */
export interface Endpoint {
  post(frames: WireServerFrame[]): void
  close(): void
}

export interface HostStats {
  /** Posts received (broker channel and ports). */
  batches: number
  /** Commands handed to the engine. */
  commands: number
  /** Posts that were not a batch, hellos refused, frames from unknown or foreign senders or stale sessions. */
  dropped: number
  /** Hellos refused because the client id has a live session the hello did not name (counted in `dropped` too). */
  refusedHellos: number
  /** 'unknown-session' answers sent. */
  unknownSessions: number
  /** Frames that could not be posted to a client (clone failures, closed channels). */
  postFailures: number
  /** Sessions opened and closed so far. */
  opened: number
  closed: number
}

export interface LinkHostOptions {
  vhost: string
  locks?: LockManagerLike
  /** Minimum time between two 'unknown-session' answers to the same client and session (ms). */
  unknownInterval?: number
  /** Clock for the rate limit (ms). */
  now?: () => number
}

/** What a LinkHost needs of the broker behind it: the engine, or a direct remote (src/remote/direct.ts). */
export type LinkBroker = Pick<Broker, 'connect' | 'hasClient' | 'disconnect' | 'receive' | 'epoch' | 'brokerId' | 'storageState'>

interface Session {
  /** The client id. */
  readonly id: string
  /** The session id its welcome carried. */
  readonly token: string
  /** A batch named it: the client has its welcome. */
  used: boolean
  endpoint: Endpoint
  /** The port the session came through; undefined for BroadcastChannel sessions. */
  via: object | undefined
  readonly outbox: Batcher<WireServerFrame>
  readonly liveness: AbortController
}

const MAX_UNKNOWN_TRACKED = 10_000

/** Frames run for one sender before the others get their turn. */
const SLICE = 256

/** A batch being run in slices. */
interface Work {
  readonly from: string
  readonly session: string | undefined
  readonly frames: readonly unknown[]
  next: number
  readonly via: { port: object; endpoint: Endpoint } | undefined
}

export class LinkHost {
  readonly stats: HostStats = {
    batches: 0,
    commands: 0,
    dropped: 0,
    refusedHellos: 0,
    unknownSessions: 0,
    postFailures: 0,
    opened: 0,
    closed: 0,
  }
  readonly vhost: string
  readonly #broker: LinkBroker
  readonly #locks: LockManagerLike | undefined
  readonly #sessions = new Map<string, Session>()
  readonly #unknownSent = new Map<string, number>()
  readonly #unknownInterval: number
  readonly #now: () => number
  #closed = false
  /**
   * Batches waiting for their next slice, in arrival order, by sender: a port (it carries one
   * client), or on the broker channel a client id and the session its batch names. A post in a
   * client's name that does not name its session neither waits behind its work nor holds it up.
   */
  readonly #pending = new Map<object | string, Work[]>()
  #sliceScheduled = false

  constructor(broker: LinkBroker, options: LinkHostOptions) {
    this.#broker = broker
    this.vhost = options.vhost
    this.#locks = options.locks ?? defaultLocks()
    this.#unknownInterval = options.unknownInterval ?? 1000
    this.#now = options.now ?? Date.now
  }

  get sessionCount(): number {
    return this.#sessions.size
  }

  /**
   * One post from a client. `via` is the port it came through with that port's endpoint, or
   * undefined for the broker's BroadcastChannel. Never throws.
   */
  receive(data: unknown, via?: { port: object; endpoint: Endpoint }): void {
    try {
      this.#receive(data, via)
    } catch {
      // A bug of ours must not take the host down with it; the post is lost, and counted.
      this.stats.dropped++
    }
  }

  /** Stops: posts nothing more and lets go of every session (the engine keeps its state). */
  close(): void {
    this.#closed = true
    for (const session of this.#sessions.values()) {
      session.liveness.abort()
      session.outbox.take()
      session.endpoint.close()
    }
    this.#sessions.clear()
  }

  #receive(data: unknown, via: { port: object; endpoint: Endpoint } | undefined): void {
    if (this.#closed) return
    this.stats.batches++
    const batch = parseClientBatch(data)
    if (batch === null) {
      this.stats.dropped++
      return
    }
    const { from, session, frames } = batch
    const sender = via?.port ?? `${from}\n${session ?? ''}`
    const queued = this.#pending.get(sender)
    if (queued === undefined && frames.length <= SLICE) {
      this.#run({ from, session, frames, next: 0, via }, frames.length)
      return
    }
    // A big batch (or one behind a sender's unfinished one) is run in slices, taking turns
    // with the other senders: a publisher posting thousands of frames at once no longer holds
    // back the acks (and so the deliveries) of every consumer behind it.
    const work: Work = { from, session, frames, next: 0, via }
    if (queued) queued.push(work)
    else this.#pending.set(sender, [work])
    this.#scheduleSlice()
  }

  /** Runs frames [work.next, work.next + budget) of one batch; returns how many it used. */
  #run(work: Work, budget: number): number {
    const { from, session: named, frames, via } = work
    const end = Math.min(frames.length, work.next + budget)
    const start = work.next
    for (let i = start; i < end; i++) {
      const frame = frames[i]
      const op = typeof frame === 'object' && frame !== null ? (frame as { op?: unknown }).op : undefined
      if (op === 'hello') this.#hello(from, frame, via)
      else if (op === 'goodbye') this.#goodbye(from, frame, via)
      else if (op === 'ping') this.#ping(from, frame, via)
      else {
        const session = this.#sessionOf(from, named, via)
        if (session === undefined) {
          // The rest of the batch names the same unknown session.
          this.stats.dropped += frames.length - i
          this.#unknown(from, named, via)
          work.next = frames.length
          return i - start + 1
        }
        this.stats.commands++
        this.#broker.receive(from, frame)
      }
    }
    work.next = end
    return end - start
  }

  #scheduleSlice(): void {
    if (this.#sliceScheduled) return
    this.#sliceScheduled = true
    // A task, not a microtask: posts already queued for this context (other senders' acks)
    // run before the next slice.
    queueTask(() => this.#slice())
  }

  /** One turn: up to SLICE frames from each sender with queued batches, in arrival order of senders. */
  #slice(): void {
    this.#sliceScheduled = false
    if (this.#closed) {
      this.#pending.clear()
      return
    }
    for (const [sender, queue] of [...this.#pending]) {
      let budget = SLICE
      while (budget > 0 && queue.length > 0) {
        const work = queue[0]!
        try {
          budget -= this.#run(work, budget)
        } catch {
          this.stats.dropped++
          work.next = work.frames.length
        }
        if (work.next >= work.frames.length) queue.shift()
      }
      if (queue.length === 0) this.#pending.delete(sender)
    }
    if (this.#pending.size > 0) this.#scheduleSlice()
  }

  /** The live session `from` holds when it is `named` and reached through `via`; drops sessions the engine has dropped. */
  #sessionOf(from: string, named: string | undefined, via: { port: object } | undefined): Session | undefined {
    const session = this.#sessions.get(from)
    if (session === undefined) return undefined
    if (!this.#broker.hasClient(from)) {
      // The engine closed the connection (a hard error): the session is over. What the engine
      // said last still goes out (the failing command's error, connection.closed), or a client
      // that sent more in the same batch would only ever hear 'unknown-session'.
      session.outbox.flush()
      this.#drop(session)
      return undefined
    }
    // A port session hears only its own port; a BroadcastChannel session only the channel.
    if (session.via !== via?.port || session.token !== named) return undefined
    session.used = true
    return session
  }

  // ------------------------------------------------------------------ handshake

  #hello(from: string, raw: unknown, via: { port: object; endpoint: Endpoint } | undefined): void {
    const hello = parseHello(raw)
    if (hello === null || hello.clientId !== from || hello.protocol !== PROTOCOL_VERSION) {
      this.stats.dropped++
      return
    }
    const existing = this.#sessions.get(from)
    if (existing !== undefined) {
      // A session in use stands unless the hello names it: a stale context of the same id or a
      // forged hello changes nothing. Once the client's lock is gone, the watch drops the
      // session and the next hello gets through.
      if (this.#broker.hasClient(from) && hello.session !== existing.token) {
        if (existing.used) {
          this.stats.dropped++
          this.stats.refusedHellos++
          return
        }
        // Never used: its welcome may not have reached the client. A hello resent before it
        // arrived hears it again; one from another medium (a window whose port went quiet
        // while its SharedWorker waited, now saying hello over BroadcastChannel) gets a
        // session there. Either way nothing of the client's is lost.
        if (existing.via === via?.port) {
          existing.outbox.push(this.#welcome(existing))
          return
        }
        // The other way round, a hello on a port for a session on BroadcastChannel, is the late
        // twin of the one that opened it: a window gives its port up before it says hello over
        // BroadcastChannel, and comes back to a port only through a restart, whose hello names
        // its session. The session stays; the port hears its welcome (should a window really be
        // there, its first batch is told the session is elsewhere and it says hello naming it).
        if (via !== undefined && existing.via === undefined) {
          this.#reply(from, via, this.#welcome(existing))
          return
        }
      }
      this.#drop(existing)
    }
    this.#open(hello, via)
  }

  #open(hello: Hello, via: { port: object; endpoint: Endpoint } | undefined): void {
    const id = hello.clientId
    const endpoint = via?.endpoint ?? this.#broadcastEndpoint(id)
    // Flushed at the microtask checkpoint: the engine answers a batch synchronously, so
    // nothing is split, and a flush task would wait behind every post already queued (the
    // publishers' batches), holding deliveries and confirms back under load.
    const outbox = new Batcher<WireServerFrame>(
      (frames) =>
        postEach(
          frames,
          (chunk) => endpoint.post(chunk),
          () => {
            this.stats.postFailures++
          },
        ),
      4096,
      'microtask',
      mergeOk,
    )
    const session: Session = { id, token: newSessionId(), used: false, endpoint, via: via?.port, outbox, liveness: new AbortController() }
    this.#sessions.set(id, session)
    this.stats.opened++
    const info = hello.name === undefined ? { kind: hello.kind } : { kind: hello.kind, name: hello.name }
    this.#broker.connect(
      id,
      (event) => {
        if (!this.#closed && this.#sessions.get(id) === session) outbox.push(serverToWire(event))
      },
      info,
    )
    outbox.push(this.#welcome(session))
    this.#watch(session)
  }

  #welcome(session: Session): Welcome {
    const broker = this.#broker
    return { op: 'welcome', clientId: session.id, protocol: PROTOCOL_VERSION, epoch: broker.epoch, brokerId: broker.brokerId, session: session.token, storage: broker.storageState }
  }

  /** Waits on the client's lock: it is granted when the client is gone (closed, crashed, cached). */
  #watch(session: Session): void {
    const locks = this.#locks
    if (!locks) return
    const signal = session.liveness.signal
    locks
      .request(clientLockName(this.vhost, session.id), { signal }, () => {
        if (this.#sessions.get(session.id) === session) this.#drop(session)
      })
      .catch(() => {})
  }

  #goodbye(from: string, raw: unknown, via: { port: object } | undefined): void {
    const goodbye = parseGoodbye(raw)
    const session = this.#sessions.get(from)
    if (goodbye === null || goodbye.clientId !== from || session?.token !== goodbye.session || session.via !== via?.port) {
      this.stats.dropped++
      return
    }
    // A client that said goodbye has stopped listening; a live one hears at once that its
    // session is over (a goodbye that named it was not its own) and says hello again.
    this.#reply(from, { endpoint: session.endpoint }, { op: 'unknown-session', clientId: from, session: session.token, epoch: this.#broker.epoch })
    this.#drop(session)
  }

  #drop(session: Session): void {
    if (this.#sessions.get(session.id) !== session) return
    this.#sessions.delete(session.id)
    this.stats.closed++
    session.liveness.abort()
    // Frames the client will never read; and a post to a cached page would evict it.
    session.outbox.take()
    this.#broker.disconnect(session.id)
    session.endpoint.close()
  }

  #ping(from: string, raw: unknown, via: { port: object; endpoint: Endpoint } | undefined): void {
    const ping = parsePing(raw)
    if (ping === null || ping.clientId !== from) {
      this.stats.dropped++
      return
    }
    this.#reply(from, via, { op: 'pong', nonce: ping.nonce, epoch: this.#broker.epoch })
  }

  /**
   * Tells a sender whose batch named no live session of its to say hello again, at most once
   * per interval per client and session (a client whose new session is dropped too hears it again).
   */
  #unknown(from: string, session: string | undefined, via: { port: object; endpoint: Endpoint } | undefined): void {
    const now = this.#now()
    const key = `${from}\n${session ?? ''}`
    const last = this.#unknownSent.get(key)
    if (last !== undefined && now - last < this.#unknownInterval) return
    if (this.#unknownSent.size >= MAX_UNKNOWN_TRACKED) this.#unknownSent.clear()
    this.#unknownSent.set(key, now)
    this.stats.unknownSessions++
    const epoch = this.#broker.epoch
    this.#reply(from, via, session === undefined ? { op: 'unknown-session', clientId: from, epoch } : { op: 'unknown-session', clientId: from, session, epoch })
  }

  /** A one-off answer outside any session. */
  #reply(clientId: string, via: { endpoint: Endpoint } | undefined, frame: ServerFrame): void {
    try {
      if (via) via.endpoint.post([frame])
      else {
        const channel = new BroadcastChannel(clientChannelName(this.vhost, clientId))
        channel.postMessage([frame])
        channel.close()
      }
    } catch {
      this.stats.postFailures++
    }
  }

  #broadcastEndpoint(clientId: string): Endpoint {
    const channel = new BroadcastChannel(clientChannelName(this.vhost, clientId))
    return {
      post: (frames) => channel.postMessage(frames),
      close: () => channel.close(),
    }
  }
}

/** Serves the vhost's broker channel; returns a function that stops listening. */
export function serveBroadcast(host: LinkHost): () => void {
  const channel = new BroadcastChannel(brokerChannelName(host.vhost))
  channel.onmessage = (event) => host.receive(event.data)
  channel.onmessageerror = () => {
    host.stats.dropped++
  }
  return () => {
    channel.onmessage = null
    channel.close()
  }
}

/** Serves one attached MessagePort (the MessagePort link); returns a function that stops it. */
export function servePort(host: LinkHost, port: MessagePort): () => void {
  const endpoint: Endpoint = {
    post: (frames) => port.postMessage(frames),
    // The port outlives one session: the client may say hello again on it.
    close: () => {},
  }
  const via = { port, endpoint }
  port.onmessage = (event) => host.receive(event.data, via)
  port.onmessageerror = () => {
    host.stats.dropped++
  }
  return () => {
    port.onmessage = null
    port.close()
  }
}
