// The remote tests' page: a tab of the app, with a rig on `window.r` for the test to drive.
import { Connection } from '../../../src/index.js'
import { openManagement, type ManagementClient } from '../../../src/client/management.js'
import { watchRemotes } from '../../../src/client/remotes.js'
import { mountConsole } from '../../../src/console/index.js'
import type { FederationSpec, RemoteStatus, ShovelSpec } from '../../../src/protocol/remote.js'
import { useSharedWorker } from '../../../src/transport/shared.js'

useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

const connections = new Map<string, Connection>()
const managers = new Map<string, ManagementClient>()
const statuses = new Map<string, readonly RemoteStatus[]>()
/** Every notice seen, serialised: the test checks no credential ever crossed. */
const notices: string[] = []

async function conn(vhost: string): Promise<Connection> {
  let c = connections.get(vhost)
  if (!c) {
    c = await Connection.open(`shared://${encodeURIComponent(vhost)}`)
    connections.set(vhost, c)
    watchRemotes(vhost, (remotes) => {
      statuses.set(vhost, remotes)
      notices.push(JSON.stringify(remotes))
    })
  }
  return c
}

async function management(vhost: string): Promise<ManagementClient> {
  let m = managers.get(vhost)
  if (!m) {
    m = await openManagement({ vhost })
    managers.set(vhost, m)
  }
  return m
}

const rig = {
  async open(vhost: string) {
    await conn(vhost)
  },
  status: (vhost: string) => statuses.get(vhost) ?? [],
  notices: () => notices.join('\n'),
  /** Publishes `count` persistent messages to a local durable queue, each confirmed. */
  async publish(vhost: string, queue: string, from: number, count: number, options: { messageIds?: boolean; body?: 'text' | 'bytes' | 'object'; size?: number; declare?: boolean } = {}) {
    const c = await conn(vhost)
    const producer = c.producer()
    const target = { name: queue, durable: true } as const
    if (options.declare !== false) await c.channel().then((ch) => ch.queueDeclare({ queue, durable: true }))
    const sends: Promise<unknown>[] = []
    for (let i = from; i < from + count; i++) {
      const body = options.body === 'bytes' ? new Uint8Array(options.size ?? 8).fill(i % 256)
        : options.body === 'object' ? { n: i, when: new Date(0) }
        : options.size ? `${i}:`.padEnd(options.size, 'x') : String(i)
      sends.push(producer.publish(body, {
        routingKey: target.name,
        deliveryMode: 'persistent',
        headers: { seq: i, kind: 'test' },
        ...(options.body === 'bytes' ? { contentType: 'application/octet-stream' } : options.body === 'object' ? { serializer: 'structured' } : { serializer: 'text' }),
        ...(options.messageIds ? { messageId: `m-${i}` } : {}),
      }))
    }
    await Promise.all(sends)
  },
  /** Takes every message of a local queue (acked), in order. */
  async take(vhost: string, queue: string) {
    const m = await management(vhost)
    const got = await m.getMessages(queue, 10_000, { ackMode: 'ack' })
    return got.map((g) => ({ body: typeof g.body === 'string' ? g.body : String(g.body), redelivered: g.redelivered, routingKey: g.routingKey, properties: g.properties }))
  },
  async declareQueue(vhost: string, queue: string, args: Record<string, unknown> = {}) {
    await (await management(vhost)).declareQueue({ name: queue, durable: true, arguments: args })
  },
  async declareExchange(vhost: string, exchange: string, type = 'topic') {
    await (await management(vhost)).declareExchange({ name: exchange, type, durable: true })
  },
  async bindQueue(vhost: string, exchange: string, queue: string, routingKey: string) {
    await (await management(vhost)).declareBinding({ source: exchange, destination: queue, routingKey })
  },
  async declareShovel(vhost: string, spec: ShovelSpec) {
    await (await management(vhost)).declareShovel(spec)
  },
  async declareFederation(vhost: string, spec: FederationSpec) {
    await (await management(vhost)).declareFederation(spec)
  },
  async overviewRemotes(vhost: string) {
    return (await (await management(vhost)).overview()).remotes
  },
  /** Mounts the console on the Connections tab; returns once it drew an overview. */
  async console(vhost: string) {
    const host = document.body.appendChild(document.createElement('div'))
    host.id = `console-${vhost}`
    await mountConsole(host, { vhost, tab: 'connections', pollInterval: 200 }).ready
  },
  async ready(vhost: string, queue: string) {
    const o = await (await management(vhost)).overview()
    return o.queues.find((q) => q.name === queue)?.ready ?? 0
  },
}

declare global {
  interface Window {
    r: typeof rig
  }
}
window.r = rig
