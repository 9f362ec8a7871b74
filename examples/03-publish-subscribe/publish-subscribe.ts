/**
 * Tutorial 3, "Publish/Subscribe": deliver one message to many consumers. The producer sends
 * log lines to the fanout exchange `logs`; every receiver declares its own exclusive,
 * server-named queue, binds it, and gets a copy of every line.
 *
 *                 ┌──► [amq.gen-…] ──► receiver 1
 *   emit_log ──► (logs)
 *                 └──► [amq.gen-…] ──► receiver 2
 */
import { Exchange, Queue, type Connection } from '../warren.js'
import { defer, type Log } from '../shared/log.js'

const logs = new Exchange<string>('logs', 'fanout', { durable: false })

export async function run(conn: Connection, log: Log): Promise<Record<string, string[]>> {
  const received: Record<string, string[]> = { 'receiver 1': [], 'receiver 2': [] }
  const lines = ['info: Hello World!', 'warning: disk almost full', 'error: disk full']
  const all = defer()

  // receive_logs.py, twice: a fresh queue each (name '' = server-named, exclusive).
  const consumers = Object.keys(received).map((name) =>
    conn.consumer<string>(new Queue('', { exchange: logs, exclusive: true }), {
      noAck: true,
      callbacks: [
        (body) => {
          log(` [${name}] ${body}`)
          received[name]!.push(body)
          if (Object.values(received).every((got) => got.length === lines.length)) all.resolve()
        },
      ],
    }),
  )
  await Promise.all(consumers.map((consumer) => consumer.consume()))

  // emit_log.py: publish to the exchange; it does not care who listens.
  const producer = conn.producer<string>({ exchange: logs })
  for (const line of lines) {
    const confirmed = producer.publish(line)
    log(` [x] Sent '${line}'`)
    await confirmed
  }

  await all.promise
  await Promise.all(consumers.map((consumer) => consumer.cancel()))
  return received
}
