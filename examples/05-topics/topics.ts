/**
 * Tutorial 5, "Topics": route on several criteria. Routing keys are words separated by dots,
 * `<facility>.<severity>`; a binding key may use `*` (exactly one word) and `#` (zero or more
 * words). The topic exchange `topic_logs` delivers each message to every matching binding.
 *
 *   "#"                     everything
 *   "kern.*"                everything from the kernel
 *   "*.critical"            every critical message
 *   "kern.*", "*.critical"  both (a message that matches both arrives once)
 */
import { Exchange, Queue, binding, type Connection } from '../warren.js'
import { defer, type Log } from '../shared/log.js'

const topicLogs = new Exchange<string>('topic_logs', 'topic', { durable: false })

export const RECEIVERS: Record<string, string[]> = {
  'all': ['#'],
  'kernel': ['kern.*'],
  'critical': ['*.critical'],
  'kernel+critical': ['kern.*', '*.critical'],
}

export const MESSAGES: Array<[string, string]> = [
  ['kern.critical', 'A critical kernel error'],
  ['kern.info', 'Kernel booted'],
  ['cron.critical', 'Cron is on fire'],
  ['auth.info.login', 'User logged in'],
  ['cron.warning', 'Cron job late'],
]

export async function run(conn: Connection, log: Log): Promise<Record<string, string[]>> {
  const received = Object.fromEntries(Object.keys(RECEIVERS).map((name) => [name, [] as string[]]))
  const expected: Record<string, number> = { 'all': 5, 'kernel': 2, 'critical': 2, 'kernel+critical': 3 }
  const all = defer()

  // receive_logs_topic.py, four times with different binding keys.
  const consumers = Object.entries(RECEIVERS).map(([name, keys]) =>
    conn.consumer<string>(
      new Queue('', { exclusive: true, bindings: keys.map((key) => binding(topicLogs, { routingKey: key })) }),
      {
        noAck: true,
        callbacks: [
          (_body, message) => {
            received[name]!.push(message.deliveryInfo.routingKey)
            log(` [${name}] ${message.deliveryInfo.routingKey}: ${message.body}`)
            if (Object.entries(expected).every(([n, count]) => received[n]!.length === count)) all.resolve()
          },
        ],
      },
    ),
  )
  await Promise.all(consumers.map((consumer) => consumer.consume()))

  // emit_log_topic.py
  const producer = conn.producer<string>({ exchange: topicLogs })
  for (const [key, text] of MESSAGES) {
    const confirmed = producer.publish(text, { routingKey: key })
    log(` [x] Sent ${key}: '${text}'`)
    await confirmed
  }

  await all.promise
  await Promise.all(consumers.map((consumer) => consumer.cancel()))
  return received
}
