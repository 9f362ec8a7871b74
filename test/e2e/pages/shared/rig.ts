// Link-level test rig, the same in a page and in a dedicated worker: opens shared:// links
// and drives them with raw frames, so the e2e tests can exercise the transport on its own.
import type { BasicDeliver, ClientCommand, ServerEvent, Welcome } from '../../../../src/protocol/frames.js'
import type { ClientLink } from '../../../../src/transport/client-link.js'
import { connectShared, type SharedConnectOptions } from '../../../../src/transport/shared.js'

type Cmd = ClientCommand extends infer C ? (C extends ClientCommand ? Omit<C, 'id'> : never) : never

interface Client {
  link: ClientLink
  next: number
  pending: Map<number, (frame: ServerEvent) => void>
  events: ServerEvent[]
  welcomes: Array<Welcome & { at: number }>
  downs: Array<{ name: string; code: string; message: string; at: number }>
  /** Deliveries seen by auto-acking consumers: body and redelivered flag. */
  seen: Array<{ body: unknown; redelivered: boolean; consumerTag: string }>
  autoAck: Set<string>
}

export interface ErrorInfo {
  name: string
  code: string
  message: string
}

const info = (error: unknown): ErrorInfo => {
  const e = error as { name?: string; code?: string; message?: string }
  return { name: e?.name ?? 'Error', code: e?.code ?? '', message: e?.message ?? String(error) }
}

export function createRig(defaults: Partial<SharedConnectOptions> = {}) {
  const clients = new Map<string, Client>()
  const get = (id: string): Client => {
    const client = clients.get(id)
    if (!client) throw new Error(`no client ${id}`)
    return client
  }

  const rig = {
    /** Opens a link; resolves with its id, the welcome and the time open → welcome. */
    async connect(options: Partial<SharedConnectOptions> = {}): Promise<{ clientId: string; welcome: Welcome; ms: number } | { error: ErrorInfo; ms: number }> {
      const started = performance.now()
      try {
        const { link, welcome } = await connectShared({ vhost: '/', connectTimeout: 5000, ...defaults, ...options })
        const ms = performance.now() - started
        const client: Client = { link, next: 1, pending: new Map(), events: [], welcomes: [], downs: [], seen: [], autoAck: new Set() }
        link.listen({
          frame(frame) {
            if (frame.op === 'ok' || frame.op === 'error') {
              // A ranged ok (protocol 3) answers every request from id through `through`.
              const last = frame.op === 'ok' && frame.through !== undefined ? frame.through : frame.id
              let settled = false
              for (let id = frame.id; id <= last; id++) {
                const resolve = client.pending.get(id)
                if (!resolve) continue
                client.pending.delete(id)
                resolve(frame)
                settled = true
              }
              if (settled) return
            }
            if (frame.op === 'basic.deliver' && client.autoAck.has(frame.consumerTag)) {
              client.seen.push({ body: frame.body, redelivered: frame.redelivered, consumerTag: frame.consumerTag })
              link.send({ op: 'basic.ack', channel: frame.channel, deliveryTag: frame.deliveryTag })
              return
            }
            client.events.push(frame)
          },
          welcome: (w) => client.welcomes.push({ ...w, at: Date.now() }),
          down(e) {
            client.downs.push({ ...info(e), at: Date.now() })
            // Like a client library: pending requests fail at once on down.
            for (const [id, settle] of client.pending) settle({ op: 'error', id, error: { ...info(e) } })
            client.pending.clear()
          },
        })
        clients.set(link.clientId, client)
        return { clientId: link.clientId, welcome, ms }
      } catch (error) {
        return { error: info(error), ms: performance.now() - started }
      }
    },

    call(id: string, cmd: Cmd, timeout = 5000): Promise<ServerEvent> {
      const client = get(id)
      const reqId = client.next++
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          client.pending.delete(reqId)
          resolve({ op: 'error', id: reqId, error: { name: 'TimeoutError', code: 'TIMEOUT', message: `no reply in ${timeout} ms` } })
        }, timeout)
        client.pending.set(reqId, (frame) => {
          clearTimeout(timer)
          resolve(frame)
        })
        client.link.send({ ...cmd, id: reqId } as ClientCommand)
      })
    },

    cast(id: string, cmd: Cmd): void {
      get(id).link.send(cmd as ClientCommand)
    },

    /** Calls in sequence; returns every reply. */
    async script(id: string, cmds: Cmd[]): Promise<ServerEvent[]> {
      const out: ServerEvent[] = []
      for (const cmd of cmds) out.push(await rig.call(id, cmd))
      return out
    },

    /** Starts a consumer whose deliveries are acked at once and recorded in `seen`. */
    async consumeAcking(id: string, channel: number, queue: string, consumerTag: string): Promise<ServerEvent> {
      get(id).autoAck.add(consumerTag)
      return rig.call(id, { op: 'basic.consume', channel, queue, consumerTag })
    },

    state(id: string) {
      const c = get(id)
      return {
        state: c.link.state,
        events: c.events.length,
        welcomes: c.welcomes,
        downs: c.downs,
        seen: c.seen.length,
        stats: { ...c.link.stats },
      }
    },

    /** Events received so far (and forgets them). */
    take(id: string): ServerEvent[] {
      const c = get(id)
      return c.events.splice(0)
    },

    seen(id: string) {
      return get(id).seen.slice()
    },

    deliveries(id: string): Array<{ body: unknown; redelivered: boolean; deliveryTag: number; consumerTag: string }> {
      return get(id)
        .events.filter((e): e is BasicDeliver => e.op === 'basic.deliver')
        .map((d) => ({ body: d.body, redelivered: d.redelivered, deliveryTag: d.deliveryTag, consumerTag: d.consumerTag }))
    },

    async close(id: string): Promise<void> {
      await get(id).link.close()
      clients.delete(id)
    },

    /**
     * Publishes `n` messages (up to `perTurn` per turn) with confirms; resolves with the time
     * until the last confirm and how many were nacked or failed.
     */
    async publishMany(id: string, options: { channel: number; exchange: string; routingKey: string; n: number; perTurn?: number; body?: unknown }) {
      const { channel, exchange, routingKey, n } = options
      const perTurn = options.perTurn ?? 500
      const started = performance.now()
      let failed = 0
      const codes: Record<string, number> = {}
      const inflight: Promise<void>[] = []
      for (let i = 0; i < n; i += perTurn) {
        const turn: Promise<ServerEvent>[] = []
        for (let j = i; j < Math.min(n, i + perTurn); j++)
          turn.push(rig.call(id, { op: 'basic.publish', channel, exchange, routingKey, properties: {}, body: options.body ?? j }, 30_000))
        inflight.push(
          Promise.all(turn).then((replies) => {
            for (const reply of replies)
              if (reply.op === 'error') {
                failed++
                codes[reply.error.code] = (codes[reply.error.code] ?? 0) + 1
              } else if (reply.op !== 'ok') failed++
          }),
        )
        await new Promise((resolve) => setTimeout(resolve, 0))
      }
      await Promise.all(inflight)
      return { ms: performance.now() - started, failed, codes }
    },

    /**
     * Publishes `perTurn` messages every few ms for `duration` ms, whatever happens to the
     * link; resolves once every publish has its answer, tallied by outcome.
     */
    async publishFor(id: string, options: { channel: number; exchange: string; routingKey: string; duration: number; perTurn?: number }) {
      const started = performance.now()
      const codes: Record<string, number> = {}
      const all: Promise<void>[] = []
      let n = 0
      while (performance.now() - started < options.duration) {
        for (let j = 0; j < (options.perTurn ?? 20); j++) {
          const body = n++
          all.push(
            rig
              .call(id, { op: 'basic.publish', channel: options.channel, exchange: options.exchange, routingKey: options.routingKey, properties: {}, body }, 10_000)
              .then((reply) => {
                const code = reply.op === 'ok' ? 'confirmed' : reply.op === 'error' ? reply.error.code : reply.op
                codes[code] = (codes[code] ?? 0) + 1
              }),
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      await Promise.all(all)
      return { n, codes, ms: performance.now() - started }
    },

    /** Resolves when `id` has seen `n` auto-acked deliveries (or the timeout passed). */
    async waitSeen(id: string, n: number, timeout = 20_000): Promise<{ ms: number; seen: number }> {
      const started = performance.now()
      const c = get(id)
      while (c.seen.length < n && performance.now() - started < timeout) await new Promise((r) => setTimeout(r, 5))
      return { ms: performance.now() - started, seen: c.seen.length }
    },
  }
  return rig
}

export type Rig = ReturnType<typeof createRig>
