/**
 * Tutorial 4, "Routing": receive only a subset of the messages. Log lines go to the direct
 * exchange `direct_logs` with their severity as the routing key. One receiver binds only
 * `error` (to save errors to disk); another binds `info`, `warning` and `error` (the screen).
 *
 *                      error ──► [disk queue] ──► receiver 1
 *   emit_log ──► (direct_logs)
 *                      info, warning, error ──► [screen queue] ──► receiver 2
 */
import { Exchange, Queue, binding, type Connection } from '../warren.js'
import { defer, type Log } from '../shared/log.js'

const directLogs = new Exchange<string>('direct_logs', 'direct', { durable: false })

export async function run(conn: Connection, log: Log): Promise<Record<string, string[]>> {
  const severities: Record<string, string[]> = {
    disk: ['error'],
    screen: ['info', 'warning', 'error'],
  }
  const received: Record<string, string[]> = { disk: [], screen: [] }
  const messages: Array<[string, string]> = [
    ['info', 'Starting up'],
    ['warning', 'Disk 80% full'],
    ['error', 'Disk full'],
    ['info', 'Still running'],
  ]
  const expected = { disk: 1, screen: 4 }
  const all = defer()

  // receive_logs_direct.py: one binding per severity on a fresh exclusive queue.
  const consumers = Object.entries(severities).map(([name, keys]) =>
    conn.consumer<string>(
      new Queue('', { exclusive: true, bindings: keys.map((key) => binding(directLogs, { routingKey: key })) }),
      {
        noAck: true,
        callbacks: [
          (body, message) => {
            log(` [${name}] ${message.deliveryInfo.routingKey}: ${body}`)
            received[name]!.push(`${message.deliveryInfo.routingKey}: ${body}`)
            if (received.disk!.length === expected.disk && received.screen!.length === expected.screen) all.resolve()
          },
        ],
      },
    ),
  )
  await Promise.all(consumers.map((consumer) => consumer.consume()))

  // emit_log_direct.py: the severity is the routing key.
  const producer = conn.producer<string>({ exchange: directLogs })
  for (const [severity, text] of messages) {
    const confirmed = producer.publish(text, { routingKey: severity })
    log(` [x] Sent ${severity}: '${text}'`)
    await confirmed
  }

  await all.promise
  await Promise.all(consumers.map((consumer) => consumer.cancel()))
  return received
}
