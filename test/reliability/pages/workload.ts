// The entities of a reliability run, the same in every context: durable work queues with a
// dead-letter exchange, and the dead-letter queue behind it. Every declarer declares them
// identically (a redeclare with other arguments would be a 406).
import { Exchange, Queue } from '../../../src/index.js'

export const DLX = 'rel.dlx'
export const DLQ = 'rel.dlq'

export const dlx = () => new Exchange(DLX, 'fanout', { durable: true })

export const workQueue = (name: string) => new Queue(name, { durable: true, deadLetterExchange: DLX })

export const deadLetterQueue = () => new Queue(DLQ, { durable: true, exchange: dlx() })

/** The body of a workload message: its id, the publish attempt, and what the consumer must do with it. */
export interface WorkBody {
  id: string
  a: number
  /** 'r': the consumer rejects it (requeue false), so it is dead-lettered. */
  f?: 'r'
}

export const isWorkBody = (body: unknown): body is WorkBody =>
  typeof body === 'object' && body !== null && typeof (body as WorkBody).id === 'string' && typeof (body as WorkBody).a === 'number'

/** The debug channel of the test broker worker (storage faults, inspection). */
export const debugChannelName = (vhost: string) => `warren-reliability-debug:${vhost}`

export type DebugRequest =
  | { op: 'inspect'; nonce: number }
  | { op: 'fail-storage'; nonce: number; batches: number }
  | { op: 'heal-storage'; nonce: number }

/** A request without its nonce (added by whoever posts it). */
export type DebugCommand = DebugRequest extends infer R ? (R extends DebugRequest ? Omit<R, 'nonce'> : never) : never

export interface QueueSummary {
  name: string
  ready: number
  unacked: number
  consumers: number
}

export interface InspectReply {
  op: 'inspect'
  nonce: number
  epoch: number
  brokerId: string
  broker: { droppedFrames: number; rejectedFrames: number; storageFailures: number }
  host: Record<string, number>
  sessions: number
  queues: QueueSummary[]
  exchanges: number
  bindings: number
  clients: number
  storage: { failedBatches: number; armed: number }
  /** Per kind of post: frames that arrived and how many the host and engine counted (see tally.ts). */
  tally: Record<string, { posts: number; frames: number; counted: number }>
}

export type DebugReply = InspectReply | { op: 'done'; nonce: number }
