/**
 * What the remote links need of the local broker, and nothing more. The broker host implements
 * it on the engine's own frames (hosts/remotes.ts): remote/ never sees the engine or storage.
 */
import type { Body, DeliveredMessage, MessageProperties } from '../protocol/frames.js'

export interface LocalConsumer {
  ack(deliveryTag: number): void
  /** Rejects one message without requeue: dead-lettered when its queue has a dead-letter exchange. */
  reject(deliveryTag: number): void
  /** Ends the consumer: its unacked messages return to the queue in their places, redelivered. */
  close(): Promise<void>
}

export interface LocalPublish {
  readonly exchange: string
  readonly routingKey: string
  readonly properties: MessageProperties
  readonly body: Body
  /** Deduplication id in the broker's window (a retry of the same id is dropped and confirmed). */
  readonly publishId?: string
  /** The sender cannot rule out having delivered it before: flag it redelivered. */
  readonly redelivered?: boolean
}

export interface LocalBroker {
  /** Makes sure the queue exists (declared durable when missing). */
  ensureQueue(queue: string): Promise<void>
  /** Consumes `queue` with at most `prefetch` unacked; `onEnd` when the broker cancels it. */
  consume(queue: string, prefetch: number, onMessage: (message: DeliveredMessage) => void, onEnd: (reason: string) => void): Promise<LocalConsumer>
  /** Resolves on the publisher confirm: every target queue has it (on disk, if persistent and durable). */
  publish(message: LocalPublish): Promise<void>
  /** Messages ready in `queue` (0 when it does not exist). */
  backlog(queue: string): number
  /** Whether rejecting from `queue` dead-letters (rather than drops). */
  deadLetters(queue: string): boolean
}
