/**
 * Tutorial 1, "Hello World!": the simplest thing that does something. A producer sends one
 * message to the queue `hello`; a consumer receives it and prints it.
 *
 *   producer ──► [hello] ──► consumer
 */
import { Queue, type Connection } from '../warren.js'
import type { Log } from '../shared/log.js'

// Declared by both sides: declaring is idempotent, so whoever runs first creates it.
const hello = new Queue<string>('hello', { durable: false })

export async function run(conn: Connection, log: Log): Promise<string[]> {
  // send.py: publish to the default exchange, which routes by queue name.
  const producer = conn.producer<string>()
  const confirmed = producer.publish('Hello World!', { routingKey: 'hello', declare: [hello] })
  log(" [x] Sent 'Hello World!'")
  await confirmed

  // receive.py: consume (noAck, as in the tutorial) and print the first message.
  const received: string[] = []
  for await (const message of conn.consume(hello, { noAck: true })) {
    log(` [x] Received '${message.body}'`)
    received.push(message.body)
    break // the tutorial waits forever; we stop after one
  }
  return received
}
