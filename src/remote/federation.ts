/**
 * A federation link: a remote queue (or an exchange and binding key, through a named durable
 * subscription queue RabbitMQ keeps while the browser is away) delivered into a local
 * exchange. Each message is acked to RabbitMQ only after the local publish was confirmed
 * (committed to IndexedDB when persistent on a durable queue), so a browser or a tab that dies
 * mid-way loses nothing: RabbitMQ redelivers what was not acked. RabbitMQ's prefetch-count
 * bounds what is in flight. A redelivered message with an AMQP message id is deduplicated by
 * the local broker's publish window; without one it arrives flagged redelivered.
 */
import type { IMessage } from '@stomp/stompjs'
import type { FederationSpec, LinkStatus, RemoteError as RemoteErrorData } from '../protocol/remote.js'
import type { Subscription } from './connection.js'
import { isTextContent, propertiesOf } from './headers.js'
import { RemoteLink } from './link.js'

/** The STOMP destination a federation subscribes to. */
export function sourceDestination(source: FederationSpec['source']): string {
  return 'queue' in source ? `/amq/queue/${source.queue}` : `/exchange/${source.exchange}/${source.bindingKey}`
}

/** The routing key a MESSAGE was published with, from its destination header. */
export function routingKeyOf(destination: string | undefined): string {
  if (!destination) return ''
  const match = /^\/(?:exchange\/[^/]*|queue|amq\/queue|topic)\/(.*)$/.exec(destination)
  return match ? match[1]! : ''
}

export class Federation extends RemoteLink<FederationSpec> {
  #subscription: Subscription | undefined

  start(): void {
    this.unsubscribe.push(this.remote.onOpen(() => this.#open()))
    this.watchErrors(() => {
      const source = this.spec.source
      return 'queue' in source ? source.queue : source.exchange
    })
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off()
    this.session++
    try {
      if (this.remote.isOpen) this.#subscription?.unsubscribe()
    } catch {
      // the socket went meanwhile: the subscription went with it
    }
    this.#subscription = undefined
    this.state = 'waiting'
  }

  status(): LinkStatus {
    const { name, remote, source, exchange, routingKey } = this.spec
    return {
      name, kind: 'federation', remote, source: sourceDestination(source),
      destination: `${exchange === '' ? '(default exchange)' : exchange}${routingKey !== undefined ? ` → ${routingKey}` : ''}`,
      ...this.counters(),
    }
  }

  #open(): void {
    if (this.state === 'failed') return
    const session = ++this.session
    const source = this.spec.source
    const headers: Record<string, string> = { ack: 'client-individual', 'prefetch-count': String(this.spec.prefetch ?? 100) }
    if (!('queue' in source)) Object.assign(headers, { 'x-queue-name': source.queueName, durable: 'true', 'auto-delete': 'false' })
    try {
      this.#subscription = this.remote.subscribe(sourceDestination(source), headers, (message) => this.#receive(message, session))
    } catch (error) {
      this.lastError = { code: 'CONNECTION_LOST', message: error instanceof Error ? error.message : String(error), at: Date.now() }
      return
    }
    this.state = 'running'
    this.onChange()
  }

  #receive(message: IMessage, session: number): void {
    if (session !== this.session) return
    const properties = propertiesOf(message.headers)
    const body = isTextContent(properties.contentType) ? message.body : message.binaryBody
    this.inFlight++
    this.local.publish({
      exchange: this.spec.exchange,
      routingKey: this.spec.routingKey ?? routingKeyOf(message.headers.destination),
      properties,
      body,
      ...(properties.messageId !== undefined ? { publishId: `remote:${this.spec.remote}:${properties.messageId}` } : {}),
      ...(message.headers.redelivered === 'true' ? { redelivered: true } : {}),
    }).then(
      () => {
        this.inFlight--
        if (session !== this.session) return // that socket is gone: RabbitMQ redelivers, the id dedups
        try {
          message.ack()
          this.moved++
          this.onMoved()
        } catch {
          // the socket went between the confirm and the ack: RabbitMQ redelivers it
        }
      },
      (error: unknown) => {
        this.inFlight--
        // The local side refused (no such exchange, storage full): stop taking more; RabbitMQ
        // keeps this one and the rest, unacked, for when the link is declared again.
        this.fail({ code: (error as { code?: string })?.code ?? 'LOCAL_ERROR', message: error instanceof Error ? error.message : String(error), at: Date.now() })
      },
    )
  }

  protected fail(error: RemoteErrorData): void {
    this.lastError = error
    this.state = 'failed'
    this.session++
    try {
      if (this.remote.isOpen) this.#subscription?.unsubscribe()
    } catch {
      // gone with the socket
    }
    this.#subscription = undefined
    this.onChange()
  }
}
