// The direct-connection tests' page: Connection.open('stomp+ws://…') against RabbitMQ itself,
// through the SharedWorker's socket, with a rig on `window.stompDirect` for the test to drive.
import { Connection, Queue, type Consumer, type Message } from '../../../src/index.js'
import { SimpleQueue } from '../../../src/simple.js'
import { useSharedWorker } from '../../../src/transport/shared.js'

useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

const url = `stomp+${import.meta.env.VITE_RABBITMQ_STOMP_URL as string}`
let conn: Connection | undefined
const inbox: Array<{ body: string; redelivered: boolean; message: Message<unknown> }> = []
const consumers: Consumer<unknown>[] = []
/** Every frame this page's link carried, serialised: the test checks no credential is in one. */
const frames: string[] = []

const failure = (error: unknown) => ({ name: (error as Error)?.name, code: (error as { code?: string })?.code, message: (error as Error)?.message })

const rig = {
  async open(login: string, passcode: string) {
    conn = await Connection.open(url, { login, passcode, vhost: '/', requestTimeout: 20_000 })
    const c = conn as unknown as { sendFrame(f: unknown): void }
    const send = c.sendFrame.bind(conn)
    c.sendFrame = (frame) => {
      frames.push(JSON.stringify(frame))
      send(frame)
    }
  },
  frames: () => frames.join('\n'),
  async declare(queue: string, options: { durable?: boolean; autoDelete?: boolean; arguments?: Record<string, unknown> } = {}) {
    const ch = await conn!.channel()
    try {
      return (await ch.queueDeclare({ queue, durable: options.durable ?? true, ...(options.autoDelete ? { autoDelete: true } : {}), ...(options.arguments ? { arguments: options.arguments } : {}) })).queue
    } finally {
      await ch.close().catch(() => {})
    }
  },
  /** Publishes text bodies, each confirmed by RabbitMQ's receipt; resolves once all are. */
  async publish(exchange: string, routingKey: string, bodies: string[], headers: Record<string, string> = {}) {
    const producer = conn!.producer()
    await Promise.all(bodies.map((body) => producer.publish(body, { exchange, routingKey, serializer: 'text', deliveryMode: 'persistent', headers })))
  },
  /** Consumes with manual acks (the test settles), at `prefetch`. */
  async consume(queue: string, prefetch: number) {
    const consumer = conn!.consumer(queue, {
      prefetch,
      onMessage: (message) => {
        inbox.push({ body: String(message.body), redelivered: message.redelivered, message })
      },
    })
    await consumer.consume()
    consumers.push(consumer)
  },
  async cancelAll() {
    for (const c of consumers.splice(0)) await c.cancel()
  },
  received: () => inbox.map((m) => ({ body: m.body, redelivered: m.redelivered, state: m.message.state })),
  /** Settles the unsettled messages with `body`. */
  settle(body: string, how: 'ack' | 'requeue' | 'reject') {
    const m = inbox.find((e) => e.body === body && e.message.state === 'RECEIVED')
    if (!m) throw new Error(`no unsettled message '${body}'`)
    if (how === 'ack') m.message.ack()
    else if (how === 'requeue') m.message.nack({ requeue: true })
    else m.message.reject({ requeue: false })
  },
  async serve(queue: string) {
    await conn!.serve<string, string>(queue, (body) => `re:${body}`)
  },
  rpc: (queue: string, body: string) => conn!.rpc<string, string>(queue, body, { timeout: 20_000 }),
  /**
   * Kombu's SimpleQueue on RabbitMQ: given a Queue (the default exchange) it puts and gets;
   * by name it would declare a direct exchange, which STOMP cannot: that error.
   */
  async simple(queue: string, bodies: string[]) {
    const simple = new SimpleQueue<string>(conn!, new Queue(queue, { durable: true }), { serializer: 'text' })
    for (const body of bodies) await simple.put(body)
    const got: string[] = []
    for (let i = 0; i < bodies.length; i++) {
      const message = await simple.get({ timeout: 20_000 })
      got.push(message.body)
      message.ack()
    }
    await simple.close()
    let byName: ReturnType<typeof failure> | null = null
    try {
      await new SimpleQueue<string>(conn!, `${queue}-by-name`).put('x')
    } catch (error) {
      byName = failure(error)
    }
    return { got, byName }
  },
  /** An operation STOMP cannot carry out: its error. */
  async unsupported(what: 'exchange.declare' | 'queue.purge' | 'passive') {
    const ch = await conn!.channel()
    try {
      if (what === 'exchange.declare') await ch.exchangeDeclare({ exchange: 'direct-x', type: 'topic' })
      else if (what === 'queue.purge') await ch.queuePurge('direct-basic')
      else await ch.queueDeclare({ queue: 'direct-basic', passive: true })
      return null
    } catch (error) {
      return failure(error)
    } finally {
      await ch.close().catch(() => {})
    }
  },
}

declare global {
  interface Window {
    stompDirect: typeof rig
  }
}
window.stompDirect = rig
