/**
 * The outbox, shared by the page and the service worker: a durable job queue of mails to
 * send, the send job itself, and a durable log of receipts (the last 20 sent).
 */
import { Queue, type Connection } from '../../src/index.js'
import { JobQueue, type Job } from '../../src/jobs/index.js'

export interface Mail {
  to: string
  text: string
  createdAt: number
  /** Demo switches: make "the server" fail this mail twice (then accept it), or always. */
  fail?: 'twice' | 'always'
}

export interface Receipt {
  jobId: string
  to: string
  text: string
  sentAt: number
  attempt: number
  /** 'page' or 'service worker' */
  by: string
}

export const OUTBOX = 'pwa.outbox'

export const openOutbox = (conn: Connection) =>
  new JobQueue<Mail, Receipt>(conn, OUTBOX, {
    attempts: 5,
    // 2 s, 4 s, 8 s, 16 s (±50 %): long enough to watch, short enough to wait for.
    backoff: { delay: 2000, max: 60_000, jitter: 0.5 },
  })

/** Receipts: a durable queue capped at 20 (drop-head), read without consuming (see peekReceipts). */
export const receipts = new Queue<Receipt>(`${OUTBOX}.sent`, { durable: true, maxLength: 20 })

/**
 * The send job. "The server" is a static file of the demo: offline the fetch throws, and the
 * worker puts the job back without using an attempt and pauses until the network returns.
 */
export async function send(conn: Connection, job: Job<Mail>, by: string): Promise<Receipt> {
  const mail = job.data
  const response = await fetch(new URL('./server.json', import.meta.url), { cache: 'no-store', signal: job.signal })
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  if (mail.fail === 'always') throw new Error('HTTP 422: the server refuses this mail')
  if (mail.fail === 'twice' && job.attempt <= 2) throw new Error('HTTP 503: the server is busy')
  const receipt: Receipt = { jobId: job.id, to: mail.to, text: mail.text, sentAt: Date.now(), attempt: job.attempt, by }
  await conn.producer().publish(receipt, { routingKey: receipts.name, declare: [receipts] })
  return receipt
}

/**
 * Reads the receipts without consuming them: get them all unacked on a channel of their own,
 * then close it, and the broker puts them back in order.
 */
export async function peekReceipts(conn: Connection): Promise<Receipt[]> {
  const channel = await conn.channel()
  try {
    const queue = receipts.bind(channel)
    await queue.declare()
    const out: Receipt[] = []
    for (let i = 0; i < 20; i++) {
      const message = await queue.get()
      if (!message) break
      out.push(message.body)
    }
    return out
  } finally {
    await channel.close()
  }
}
