/** What the demo declares: a chat on a topic exchange, and image jobs with a dead-letter queue. */
import { Exchange, Queue } from './warren.js'

export interface ChatMessage {
  from: string
  text: string
  at: number
}

export interface Job {
  id: string
  name: string
  steps: number
  stepMs: number
  /** Fails on its first attempt (and is dead-lettered); succeeds once moved back. */
  poison?: boolean
}

export type JobState = 'queued' | 'started' | 'progress' | 'done' | 'failed'

export interface JobEvent {
  id: string
  name: string
  state: JobState
  pct: number
  worker?: string
  redelivered?: boolean
  /** The job came back from the dead-letter queue. */
  retried?: boolean
}

/** Chat lines: routing key `room.<room>`; each tab binds the rooms it joined. */
export const chat = new Exchange<ChatMessage>('chat', 'topic', { durable: true })

/** Every tab hears every job's progress here (routing key `job.<id>.<state>`). */
export const jobEvents = new Exchange<JobEvent>('job-events', 'topic', { durable: false })

export const deadLetters = new Exchange('image-jobs.dlx', 'fanout', { durable: true })
export const deadJobs = new Queue<Job>('image-jobs.dead', { exchange: deadLetters, durable: true })

/** The work queue: durable, persistent jobs, dead-lettered when a worker rejects them. */
export const imageJobs = new Queue<Job>('image-jobs', { durable: true, deadLetterExchange: deadLetters })
