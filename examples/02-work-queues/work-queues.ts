/**
 * Tutorial 2, "Work queues": distribute time-consuming tasks among workers. Each dot in a task
 * is one unit of work. The queue is durable and the messages persistent, workers ack only when
 * done and take one task at a time (prefetch 1, "fair dispatch"). A worker that dies before
 * acking loses nothing: its task goes back to the queue and another worker gets it.
 *
 *   new_task ──► [task_queue] ──┬──► worker 1
 *                               └──► worker 2
 */
import { Queue, type Connection, type Message } from '../warren.js'
import { defer, sleep, type Log } from '../shared/log.js'

const taskQueue = new Queue<string>('task_queue', { durable: true })

export interface WorkResult {
  /** Which worker finished which task. */
  done: Array<{ worker: string; task: string; redelivered: boolean }>
}

export async function run(conn: Connection, log: Log, options: { dotMs?: number } = {}): Promise<WorkResult> {
  const dotMs = options.dotMs ?? 150
  const tasks = ['First message.', 'Second message..', 'Third message...', 'Fourth message....', 'Fifth message.....']
  const done: WorkResult['done'] = []
  const allDone = defer()

  // worker.py, twice. Each on a channel of its own, like two processes.
  const worker = (name: string, dieOnFirst = false) => {
    let dead = false
    const consumer = conn.consume(taskQueue, { prefetch: 1 })
    void (async () => {
      for await (const message of consumer) {
        log(` [${name}] Received '${message.body}'${message.redelivered ? ' (redelivered)' : ''}`)
        if (dieOnFirst && !dead) {
          // The worker "crashes" halfway through: no ack. Closing its channel is what the
          // broker sees when a tab or worker dies; the unacked task returns to the queue.
          dead = true
          await sleep(dotMs)
          log(` [${name}] Died while working on '${message.body}'`)
          await consumer.cancel()
          await consumer.channel.close()
          return
        }
        await work(message, dotMs)
        log(` [${name}] Done`)
        done.push({ worker: name, task: message.body, redelivered: message.redelivered })
        message.ack()
        if (done.length === tasks.length) allDone.resolve()
      }
    })()
    return consumer
  }

  const w1 = worker('worker 1', true)
  const w2 = worker('worker 2')
  await Promise.all([w1.consume(), w2.consume()])

  // new_task.py: persistent messages on a durable queue survive a broker restart.
  const producer = conn.producer<string>()
  for (const task of tasks) {
    const confirmed = producer.publish(task, { routingKey: 'task_queue', declare: [taskQueue], deliveryMode: 'persistent' })
    log(` [x] Sent '${task}'`)
    await confirmed
  }

  await allDone.promise
  await w2.cancel()
  return { done }
}

async function work(message: Message<string>, dotMs: number): Promise<void> {
  const dots = message.body.split('.').length - 1
  await sleep(dots * dotMs)
}
