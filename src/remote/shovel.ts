/**
 * A shovel: a local queue forwarded to a remote exchange, confirm-then-ack. The local queue is
 * the outbox: a message leaves it only when RabbitMQ's RECEIPT for it came back, so whatever
 * was published while offline waits in IndexedDB (a durable queue, persistent messages) and
 * goes out in order when the remote is open again. A socket lost with sends in flight closes
 * the local consumer, which puts those messages back in their places, flagged redelivered:
 * RabbitMQ may have got some of them, so they carry `x-warren-redelivered: true` (and their
 * `amqp-message-id`, when they have one) for deduplication downstream.
 */
import type { DeliveredMessage } from '../protocol/frames.js'
import type { LinkStatus, RemoteError as RemoteErrorData, ShovelSpec } from '../protocol/remote.js'
import { RemoteError } from './connection.js'
import { bodyBytes, exchangeDestination, stompBody, stompHeaders } from './headers.js'
import { RemoteLink } from './link.js'
import type { LocalConsumer } from './local.js'

/** Sockets in a row lost on a link's unanswered first send before the link is failed. */
const STRIKES = 3
/** Where the probe goes: amq.topic always exists; the key routes nowhere. */
const PROBE = '/exchange/amq.topic/warren.probe.unrouted'

export class Shovel extends RemoteLink<ShovelSpec> {
  #consumer: LocalConsumer | undefined
  /** Serialises starting and stopping the local consumer. */
  #chain: Promise<void> = Promise.resolve()
  /** Sockets in a row that died with this link's sends unanswered (see #lost). */
  #strikes = 0
  #confirmedThisSession = false
  /** This session's socket confirmed a probe: it was ready when this link's send went. */
  #probed = false

  start(): void {
    this.unsubscribe.push(this.remote.onOpen(() => this.#serially(() => this.#open())))
    // The default exchange cannot be missing or refused.
    this.watchErrors(() => this.spec.exchange || undefined)
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off()
    this.state = 'waiting'
    await this.#serially(() => this.#closeConsumer())
  }

  status(): LinkStatus {
    const { name, remote, queue, exchange, routingKey } = this.spec
    return {
      name, kind: 'shovel', remote, source: queue,
      destination: exchangeDestination(exchange, routingKey ?? '<routing key>'),
      ...this.counters(),
      backlog: this.local.backlog(queue),
    }
  }

  #serially(step: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(step, step).catch(() => {})
    return this.#chain
  }

  async #open(): Promise<void> {
    if (this.state === 'failed' || !this.remote.isOpen) return
    await this.#closeConsumer() // the previous socket's, if it is still there
    const session = ++this.session
    this.#confirmedThisSession = false
    this.#probed = false
    if (this.#strikes > 0) {
      // After a socket died on our send: prove this socket works (a SEND RabbitMQ always
      // takes, unroutable, so dropped) before blaming the next death on our destination.
      try {
        await this.remote.send(PROBE, {}, { body: '' })
      } catch {
        return // not ready, or not allowed: no verdict; the next open tries again
      }
      if (session !== this.session) return
      this.#probed = true
    }
    try {
      await this.local.ensureQueue(this.spec.queue)
      // Deliveries may come before consume() resolves: they wait for the consumer.
      const early: DeliveredMessage[] = []
      const consumer = await this.local.consume(
        this.spec.queue,
        this.spec.prefetch ?? 100,
        (message) => {
          if (this.#consumer) this.#forward(message, session)
          else if (session === this.session) early.push(message)
        },
        (reason) => {
          if (session === this.session) this.#setError('CANCELLED', reason)
        },
      )
      if (session !== this.session) {
        await consumer.close()
        return
      }
      this.#consumer = consumer
      for (const message of early.splice(0)) this.#forward(message, session)
    } catch (error) {
      this.fail({ code: 'LOCAL_ERROR', message: error instanceof Error ? error.message : String(error), at: Date.now() })
      return
    }
    this.state = 'running'
    this.onChange()
  }

  async #closeConsumer(): Promise<void> {
    const consumer = this.#consumer
    this.#consumer = undefined
    this.session++
    if (consumer) await consumer.close()
  }

  #forward(message: DeliveredMessage, session: number): void {
    const consumer = this.#consumer
    if (!consumer || session !== this.session) return
    const body = stompBody(message.body)
    if (!body || bodyBytes(body) > this.remote.maxMessageBytes) {
      this.#poison(message, consumer, body ? 'FRAME_TOO_LARGE' : 'UNSUPPORTED_BODY',
        body ? `a ${bodyBytes(body)}-byte message is larger than remote '${this.remote.name}' takes (${this.remote.maxMessageBytes})`
          : 'only text and byte bodies can travel over STOMP (the structured-clone serializer cannot)')
      return
    }
    const headers = stompHeaders(message.properties)
    if (message.redelivered) headers['x-warren-redelivered'] = 'true'
    const destination = exchangeDestination(this.spec.exchange, this.spec.routingKey ?? message.routingKey)
    this.inFlight++
    this.remote.send(destination, headers, body).then(
      () => {
        this.inFlight--
        if (session !== this.session) return // requeued already with its consumer: it will go again
        consumer.ack(message.deliveryTag)
        this.#strikes = 0
        this.#confirmedThisSession = true
        this.moved++
        this.onMoved()
      },
      (error: unknown) => {
        this.inFlight--
        const e = error instanceof RemoteError ? error : new RemoteError('REMOTE_ERROR', String(error))
        if (session !== this.session) return
        // RabbitMQ drops the whole connection, without an ERROR frame, when a SEND names an
        // exchange that does not exist. A socket that died with this link's first send
        // unanswered is a strike; later ones count only when a probe proved the socket ready
        // (a node still booting also drops connections): three, and the destination refuses.
        if (e.code === 'CONNECTION_LOST' && !this.#confirmedThisSession && (this.#strikes === 0 || this.#probed) && ++this.#strikes >= STRIKES) {
          this.fail({ code: 'DESTINATION_REFUSED', message: `RabbitMQ closed the connection ${STRIKES} times in a row on a send to '${destination}' (does the exchange exist, may this user write to it?); the messages stay in '${this.spec.queue}'`, at: Date.now() })
          return
        }
        this.#setError(e.code, e.message)
        // The whole window goes back to the queue, in order; it goes again on the next open.
        if (this.state !== 'failed') this.state = 'waiting'
        void this.#serially(() => this.#closeConsumer())
      },
    )
  }

  /**
   * A message that can never travel: dead-lettered if its queue can, otherwise the link stops
   * with it at the head (never dropped silently).
   */
  #poison(message: DeliveredMessage, consumer: LocalConsumer, code: string, text: string): void {
    if (this.local.deadLetters(this.spec.queue)) {
      this.#setError(code, `${text}: dead-lettered`)
      consumer.reject(message.deliveryTag)
    } else {
      this.fail({ code, message: `${text}; it stays at the head of '${this.spec.queue}' (give the queue a dead-letter exchange to move such messages aside)`, at: Date.now() })
    }
  }

  #setError(code: string, message: string): void {
    this.lastError = { code, message, at: Date.now() }
    this.onChange()
  }

  protected fail(error: RemoteErrorData): void {
    this.lastError = error
    this.state = 'failed'
    this.onChange()
    void this.#serially(() => this.#closeConsumer())
  }
}
