/**
 * [remote] A direct connection (`stomp+ws://`): the wire's AMQP commands carried out on RabbitMQ
 * itself over the broker host's Web-STOMP socket, so Producer, Consumer and rpc work against
 * RabbitMQ with the client API unchanged. It stands where the engine stands behind a LinkHost
 * (connect, receive, disconnect), one per socket, for every context that opens the same remote.
 *
 * The mapping: publish = SEND with a receipt (the confirm); consume = SUBSCRIBE with
 * `ack: client-individual` and `prefetch-count`; ack = ACK; nack and reject = NACK with a
 * `requeue` header; a queue is declared by a SUBSCRIBE to `/queue/<name>` with its `durable`,
 * `auto-delete`, `exclusive` and `x-*` headers (an auto-delete queue at its first consume, as
 * a consumer ending would delete it). What STOMP cannot do is answered NOT_SUPPORTED.
 */
import type { IMessage, StompHeaders } from '@stomp/stompjs'
import { wireError, type ErrorData, type WireErrorCode } from '../protocol/errors.js'
import type { ClientCommand, MessageProperties, ServerEvent, StorageState } from '../protocol/frames.js'
import { parseCommand } from '../protocol/guards.js'
import { RemoteError, type RemoteConnection, type Subscription } from './connection.js'
import { bodyBytes, isTextContent, propertiesOf, stompBody, stompHeaders } from './headers.js'

/** Exchanges every RabbitMQ has: declaring them is a no-op that STOMP need not perform. */
const BUILTIN_EXCHANGES = new Set(['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match'])

interface QueueSpec {
  readonly headers: StompHeaders
  /** Auto-delete: declared by its first consume (a declaring SUBSCRIBE ending would delete it). */
  readonly atConsume: boolean
  /** The socket the declaring SUBSCRIBE went on (0: not sent yet). */
  readonly socket: number
}

interface Consumer {
  readonly tag: string
  readonly destination: string
  readonly headers: StompHeaders
  subscription: Subscription | undefined
}

interface Delivery {
  readonly message: IMessage
  /** The socket it came on: after a reconnect RabbitMQ has requeued it already. */
  readonly socket: number
}

interface ChannelState {
  prefetch: number
  readonly consumers: Map<string, Consumer>
  readonly deliveries: Map<number, Delivery>
  nextTag: number
}

interface Client {
  readonly send: (event: ServerEvent) => void
  readonly channels: Map<number, ChannelState>
  /** Queues this client declared, by name: their headers go on every SUBSCRIBE to them. */
  readonly queues: Map<string, QueueSpec>
}

class Refusal extends Error {
  constructor(readonly data: ErrorData) {
    super(data.message)
  }
}

const refuse = (code: WireErrorCode, message: string): Refusal => new Refusal(wireError(code, message))

const notSupported = (what: string): Refusal =>
  refuse('NOT_SUPPORTED', `${what} is not supported over STOMP (RabbitMQ's Web-STOMP cannot do it): do it on RabbitMQ itself (management UI or API, a definitions file)`)

/** The wire error for a failure of the remote. */
function errorDataOf(error: unknown): ErrorData {
  if (error instanceof Refusal) return error.data
  const message = error instanceof Error ? error.message : String(error)
  const code = error instanceof RemoteError ? error.code : ''
  if (code === 'NOT_FOUND' || code === 'PRECONDITION_FAILED' || code === 'ACCESS_REFUSED') return wireError(code, message)
  if (code === 'FRAME_TOO_LARGE') return wireError('CONTENT_TOO_LARGE', message)
  if (code === 'CONNECTION_LOST' || code === 'CONNECTION_CLOSED') return wireError('BROKER_UNAVAILABLE', message)
  return wireError('INTERNAL_ERROR', message)
}

/** Where a MESSAGE was published: its exchange and routing key, from its destination header. */
function origin(destination: string | undefined): { exchange: string; routingKey: string } {
  const d = destination ?? ''
  const exchange = /^\/exchange\/([^/]*)(?:\/(.*))?$/.exec(d)
  if (exchange) return { exchange: exchange[1]!, routingKey: exchange[2] ?? '' }
  const topic = /^\/topic\/(.*)$/.exec(d)
  if (topic) return { exchange: 'amq.topic', routingKey: topic[1]! }
  const queue = /^\/(?:amq\/)?queue\/(.*)$/.exec(d)
  return { exchange: '', routingKey: queue ? queue[1]! : d }
}

/** RabbitMQ's STOMP adapter shows a plain AMQP reply-to as `/reply-queue/<name>`: the name is what AMQP has. */
function replyToOf(properties: MessageProperties): MessageProperties {
  const replyTo = properties.replyTo
  return replyTo?.startsWith('/reply-queue/') ? { ...properties, replyTo: replyTo.slice('/reply-queue/'.length) } : properties
}

/**
 * A name that would make a bad STOMP destination is refused here: RabbitMQ answers a bad one
 * with an ERROR frame, which closes the socket every context shares.
 */
function checkName(kind: string, name: string): void {
  if (name.includes('/')) throw refuse('PRECONDITION_FAILED', `${kind} '${name}': a '/' cannot travel in a STOMP destination`)
}

/** The STOMP destination of a publish. `/amq/queue/` sends to an existing queue without declaring it. */
export const publishDestination = (exchange: string, routingKey: string): string =>
  exchange === '' ? `/amq/queue/${routingKey}` : routingKey === '' ? `/exchange/${exchange}` : `/exchange/${exchange}/${routingKey}`

/** Whether two header sets say the same (STOMP headers are flat strings). */
const sameHeaders = (a: StompHeaders, b: StompHeaders): boolean => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}

/** The declare headers of a queue (STOMP values are strings; x-* arguments as RabbitMQ reads them). */
export function declareHeaders(command: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean; arguments?: Record<string, unknown> }): StompHeaders {
  const headers: StompHeaders = {
    durable: String(command.durable ?? false),
    'auto-delete': String(command.autoDelete ?? false),
    exclusive: String(command.exclusive ?? false),
  }
  for (const [key, value] of Object.entries(command.arguments ?? {})) {
    if (!key.startsWith('x-')) throw refuse('PRECONDITION_FAILED', `queue argument '${key}': only x-* arguments travel over STOMP`)
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw refuse('PRECONDITION_FAILED', `queue argument '${key}' must be a string, number or boolean over STOMP`)
    headers[key] = String(value)
  }
  return headers
}

export class DirectBroker {
  readonly epoch = Date.now()
  readonly brokerId: string
  readonly storageState: StorageState = 'durable'
  readonly #remote: RemoteConnection
  readonly #clients = new Map<string, Client>()
  /** Grows with every (re)connection of the socket. */
  #socket = 0
  #nextName = 1
  readonly #unlisten: () => void

  constructor(remote: RemoteConnection) {
    this.#remote = remote
    this.brokerId = `stomp:${remote.url}`
    // Subscriptions end with a socket: consumers subscribe again on the next one.
    this.#unlisten = remote.onOpen(() => {
      this.#socket++
      for (const client of this.#clients.values())
        for (const channel of client.channels.values()) {
          channel.deliveries.clear()
          for (const consumer of channel.consumers.values()) this.#subscribe(client, channel, consumer)
        }
    })
  }

  connect(clientId: string, send: (event: ServerEvent) => void): void {
    if (this.#clients.has(clientId)) this.disconnect(clientId)
    this.#clients.set(clientId, { send, channels: new Map(), queues: new Map() })
  }

  hasClient(clientId: string): boolean {
    return this.#clients.has(clientId)
  }

  /** The client is gone: its subscriptions end and its unacked messages go back to RabbitMQ. */
  disconnect(clientId: string): void {
    const client = this.#clients.get(clientId)
    if (!client) return
    this.#clients.delete(clientId)
    for (const channel of client.channels.values()) this.#closeChannel(channel)
  }

  close(): void {
    this.#unlisten()
    for (const id of [...this.#clients.keys()]) this.disconnect(id)
  }

  /** One untrusted frame from a client. Never throws. */
  receive(clientId: string, raw: unknown): void {
    const client = this.#clients.get(clientId)
    if (!client) return
    const parsed = parseCommand(raw)
    if (!parsed.ok) {
      if (parsed.id !== undefined) client.send({ op: 'error', id: parsed.id, error: parsed.error })
      return
    }
    const command = parsed.frame
    Promise.resolve()
      .then(() => this.#execute(client, command))
      .then(
        (result) => {
          if (command.id !== undefined) client.send({ op: 'ok', id: command.id, result: result ?? {} })
        },
        (error: unknown) => this.#fail(client, command, errorDataOf(error)),
      )
  }

  #fail(client: Client, command: ClientCommand, error: ErrorData): void {
    if (command.id !== undefined) client.send({ op: 'error', id: command.id, error })
    // As AMQP does: a soft error closes the channel (after the failing request is answered).
    if (error.closes === 'channel' && client.channels.has(command.channel)) {
      this.#closeChannel(client.channels.get(command.channel)!)
      client.channels.delete(command.channel)
      client.send({ op: 'channel.closed', channel: command.channel, error })
    }
  }

  async #execute(client: Client, command: ClientCommand): Promise<unknown> {
    if (command.op === 'channel.open') {
      client.channels.set(command.channel, { prefetch: 0, consumers: new Map(), deliveries: new Map(), nextTag: 1 })
      return {}
    }
    const channel = client.channels.get(command.channel)
    if (!channel) throw refuse('CHANNEL_ERROR', `channel ${command.channel} is not open`)
    switch (command.op) {
      case 'channel.close':
        this.#closeChannel(channel)
        client.channels.delete(command.channel)
        return {}
      case 'basic.qos':
        if (command.global) throw notSupported('a global (per-channel) prefetch')
        // STOMP's prefetch is per subscription: it applies to the consumers started after it.
        channel.prefetch = command.prefetchCount
        return {}
      case 'exchange.declare':
        if (BUILTIN_EXCHANGES.has(command.exchange)) return {}
        throw notSupported(`declaring exchange '${command.exchange}'${command.passive ? ' (passive)' : ''}`)
      case 'exchange.delete':
        throw notSupported(`deleting exchange '${command.exchange}'`)
      case 'exchange.bind':
      case 'exchange.unbind':
        throw notSupported('binding exchanges to exchanges')
      case 'queue.declare':
        return this.#declare(client, command)
      case 'queue.bind':
        throw notSupported(`binding queue '${command.queue}' to exchange '${command.exchange}' outside a subscription`)
      case 'queue.unbind':
        throw notSupported(`unbinding queue '${command.queue}'`)
      case 'queue.purge':
        throw notSupported(`purging queue '${command.queue}'`)
      case 'queue.delete':
        throw notSupported(`deleting queue '${command.queue}'`)
      case 'basic.get':
        throw notSupported('basic.get (polling a queue)')
      case 'basic.recover':
        throw notSupported('basic.recover')
      case 'basic.publish':
        return this.#publish(command)
      case 'basic.consume':
        return this.#consume(client, channel, command)
      case 'basic.cancel': {
        const consumer = channel.consumers.get(command.consumerTag)
        channel.consumers.delete(command.consumerTag)
        if (consumer?.subscription && this.#remote.isOpen) await this.#remote.unsubscribe(consumer.subscription).catch(() => {})
        return {}
      }
      case 'basic.ack':
        for (const delivery of this.#take(channel, command.deliveryTag, command.multiple)) delivery.message.ack()
        return {}
      case 'basic.nack':
      case 'basic.reject': {
        const multiple = command.op === 'basic.nack' ? command.multiple : false
        const requeue = String(command.requeue ?? true)
        for (const delivery of this.#take(channel, command.deliveryTag, multiple)) delivery.message.nack({ requeue })
        return {}
      }
    }
  }

  async #declare(client: Client, command: Extract<ClientCommand, { op: 'queue.declare' }>): Promise<unknown> {
    if (command.passive) throw notSupported(`a passive declare of queue '${command.queue}'`)
    checkName('queue', command.queue)
    const queue = command.queue === '' ? `warren.gen-${crypto.randomUUID()}-${this.#nextName++}` : command.queue
    if (queue.startsWith('amq.')) throw refuse('ACCESS_REFUSED', `queue name '${queue}' contains a reserved prefix amq.*`)
    const headers = declareHeaders(command)
    const known = client.queues.get(queue)
    // Declared on this socket already with the same headers (a SimpleQueue declares on every
    // put): RabbitMQ has it, and another declaring SUBSCRIBE could catch a message and send it
    // back flagged redelivered, behind the ones published after it.
    if (known && known.socket === this.#socket && known.socket !== 0 && sameHeaders(known.headers, headers))
      return { queue, messageCount: 0, consumerCount: 0 }
    const atConsume = command.autoDelete === true
    let socket = 0
    if (!atConsume) {
      await this.#ready()
      socket = this.#socket
      // SUBSCRIBE declares; its UNSUBSCRIBE's receipt says it took effect. A message that
      // arrives on it meanwhile goes straight back.
      const subscription = this.#remote.subscribe(`/queue/${queue}`, { ...headers, ack: 'client-individual', 'prefetch-count': '1' }, (m) =>
        m.nack({ requeue: 'true' }),
      )
      await this.#remote.unsubscribe(subscription)
    }
    client.queues.set(queue, { headers, atConsume, socket })
    // STOMP reports no counts.
    return { queue, messageCount: 0, consumerCount: 0 }
  }

  async #publish(command: Extract<ClientCommand, { op: 'basic.publish' }>): Promise<unknown> {
    if (command.mandatory) throw notSupported('a mandatory publish (STOMP returns no unroutable messages)')
    checkName('exchange', command.exchange)
    if (command.exchange === '') checkName('queue', command.routingKey)
    const body = stompBody(command.body)
    if (!body) throw refuse('ENCODE', 'a message to RabbitMQ needs a string or bytes body (use the json, text or binary serializer)')
    if (bodyBytes(body) > this.#remote.maxMessageBytes)
      throw refuse('CONTENT_TOO_LARGE', `the body is larger than ${this.#remote.maxMessageBytes} bytes, the remote's maxMessageBytes`)
    await this.#ready()
    await this.#remote.send(publishDestination(command.exchange, command.routingKey), stompHeaders(command.properties), body)
    // A receipt says RabbitMQ took it; STOMP does not say whether a queue did.
    return { routed: true }
  }

  async #consume(client: Client, channel: ChannelState, command: Extract<ClientCommand, { op: 'basic.consume' }>): Promise<unknown> {
    if (command.exclusive) throw notSupported('an exclusive consumer')
    checkName('queue', command.queue)
    const tag = command.consumerTag || `stomp.ctag-${this.#nextName++}`
    if (channel.consumers.has(tag)) throw refuse('NOT_ALLOWED', `consumer tag '${tag}' is in use on channel ${command.channel}`)
    const spec = client.queues.get(command.queue)
    const headers: StompHeaders = {
      ...(spec?.headers ?? {}),
      ack: command.noAck ? 'auto' : 'client-individual',
      ...(!command.noAck && channel.prefetch > 0 ? { 'prefetch-count': String(channel.prefetch) } : {}),
    }
    // A queue this client declared is named with its headers (and declared if it is not yet);
    // any other one must exist already.
    const destination = spec ? `/queue/${command.queue}` : `/amq/queue/${command.queue}`
    const consumer: Consumer = { tag, destination, headers, subscription: undefined }
    await this.#ready()
    channel.consumers.set(tag, consumer)
    this.#subscribe(client, channel, consumer)
    return { consumerTag: tag }
  }

  #subscribe(client: Client, channel: ChannelState, consumer: Consumer): void {
    const socket = this.#socket
    const channelNumber = [...client.channels].find(([, c]) => c === channel)?.[0] ?? 0
    try {
      consumer.subscription = this.#remote.subscribe(consumer.destination, consumer.headers, (message) => {
        if (channel.consumers.get(consumer.tag) !== consumer) {
          message.nack({ requeue: 'true' })
          return
        }
        const deliveryTag = channel.nextTag++
        if (consumer.headers.ack !== 'auto') channel.deliveries.set(deliveryTag, { message, socket })
        const properties = replyToOf(propertiesOf(message.headers))
        client.send({
          op: 'basic.deliver',
          channel: channelNumber,
          consumerTag: consumer.tag,
          deliveryTag,
          redelivered: message.headers.redelivered === 'true',
          ...origin(message.headers.destination),
          properties,
          body: isTextContent(properties.contentType) ? message.body : message.binaryBody,
        })
      })
    } catch {
      // The socket is down: the next open subscribes again.
      consumer.subscription = undefined
    }
  }

  /** The deliveries an ack or nack settles; an unknown tag closes the channel, as in AMQP. */
  #take(channel: ChannelState, deliveryTag: number, multiple: boolean | undefined): Delivery[] {
    const tags = multiple ? [...channel.deliveries.keys()].filter((t) => t <= deliveryTag) : [deliveryTag]
    if (!multiple && !channel.deliveries.has(deliveryTag)) {
      // One from before a reconnect is RabbitMQ's to redeliver already; others are a client bug.
      if (deliveryTag < channel.nextTag) return []
      throw refuse('PRECONDITION_FAILED', `unknown delivery tag ${deliveryTag}`)
    }
    const taken = tags.map((t) => channel.deliveries.get(t)!)
    for (const t of tags) channel.deliveries.delete(t)
    return taken.filter((d) => d.socket === this.#socket)
  }

  #closeChannel(channel: ChannelState): void {
    for (const consumer of channel.consumers.values()) {
      try {
        consumer.subscription?.unsubscribe()
      } catch {
        // the socket is gone, and the subscription with it
      }
    }
    channel.consumers.clear()
    // As AMQP does on a channel's close: unacked messages go back to their queues.
    for (const delivery of channel.deliveries.values()) if (delivery.socket === this.#socket) delivery.message.nack({ requeue: 'true' })
    channel.deliveries.clear()
  }

  /** Resolves once the socket is open; fails at once when RabbitMQ refused the login. */
  #ready(): Promise<void> {
    const remote = this.#remote
    if (remote.isOpen) return Promise.resolve()
    const refused = () => new RemoteError('ACCESS_REFUSED', remote.lastError?.message ?? `RabbitMQ refused the login to ${remote.url}`)
    if (remote.state === 'refused') return Promise.reject(refused())
    return new Promise<void>((resolve, reject) => {
      const offError = remote.onError((error) => {
        if (remote.isOpen || error.code !== 'ACCESS_REFUSED') return
        offOpen()
        offError()
        reject(refused())
      })
      const offOpen = remote.onOpen(() => {
        offOpen()
        offError()
        resolve()
      })
    })
  }
}
