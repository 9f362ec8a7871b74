// The six RabbitMQ tutorials, each run headless against an in-process broker (the same
// `run` the browser pages call over the shared broker).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Connection } from '../../src/index.js'
import { createInProcessBroker, type InProcessBrokerHandle } from '../../src/hosts/in-process.js'
import { run as helloWorld } from '../../examples/01-hello-world/hello-world.js'
import { run as workQueues } from '../../examples/02-work-queues/work-queues.js'
import { run as publishSubscribe } from '../../examples/03-publish-subscribe/publish-subscribe.js'
import { run as routing } from '../../examples/04-routing/routing.js'
import { run as topics } from '../../examples/05-topics/topics.js'
import { fib, run as rpc } from '../../examples/06-rpc/rpc.js'

describe('RabbitMQ tutorials on Warren', () => {
  let broker: InProcessBrokerHandle
  let conn: Connection
  let lines: string[]
  const log = (line: string) => lines.push(line)

  beforeEach(async () => {
    broker = await createInProcessBroker()
    conn = await Connection.open({ url: 'memory://', transport: broker.connector })
    lines = []
  })
  afterEach(async () => {
    await conn.close()
    await broker.stop()
  })

  it('1. hello world', async () => {
    expect(await helloWorld(conn, log)).toEqual(['Hello World!'])
    expect(lines).toEqual([" [x] Sent 'Hello World!'", " [x] Received 'Hello World!'"])
  })

  it('2. work queues: fair dispatch, acks, and a dead worker loses nothing', async () => {
    const { done } = await workQueues(conn, log, { dotMs: 5 })
    expect(done.map((d) => d.task).sort()).toEqual(
      ['First message.', 'Second message..', 'Third message...', 'Fourth message....', 'Fifth message.....'].sort(),
    )
    // Worker 2 finished everything.
    expect(done.every((d) => d.worker === 'worker 2')).toBe(true)
    // Worker 1 died holding one task; that task (and only it) came back redelivered.
    const died = lines.find((line) => line.startsWith(' [worker 1] Died'))!
    expect(died).toMatch(/^ \[worker 1\] Died while working on '(.*)'$/)
    const lost = /'(.*)'/.exec(died)![1]
    expect(done.filter((d) => d.redelivered).map((d) => d.task)).toEqual([lost])
    // Nothing left behind: all acked.
    const left = broker.broker.inspect().queues.find((q) => q.name === 'task_queue')!
    expect([left.ready, left.unacked, left.durable]).toEqual([0, 0, true])
  })

  it('3. publish/subscribe: every receiver gets every line', async () => {
    const received = await publishSubscribe(conn, log)
    const lines3 = ['info: Hello World!', 'warning: disk almost full', 'error: disk full']
    expect(received).toEqual({ 'receiver 1': lines3, 'receiver 2': lines3 })
  })

  it('4. routing: by severity', async () => {
    expect(await routing(conn, log)).toEqual({
      disk: ['error: Disk full'],
      screen: ['info: Starting up', 'warning: Disk 80% full', 'error: Disk full', 'info: Still running'],
    })
  })

  it('5. topics: * and # bindings', async () => {
    expect(await topics(conn, log)).toEqual({
      'all': ['kern.critical', 'kern.info', 'cron.critical', 'auth.info.login', 'cron.warning'],
      'kernel': ['kern.critical', 'kern.info'],
      'critical': ['kern.critical', 'cron.critical'],
      // kern.critical matches both bindings and still arrives once.
      'kernel+critical': ['kern.critical', 'kern.info', 'cron.critical'],
    })
  })

  it('6. rpc: replies matched by correlation id', async () => {
    expect(await rpc(conn, log)).toEqual([[5, 5], [10, 55], [20, 6765], [30, 832040]])
    expect(fib(15)).toBe(610)
    expect(lines.at(-1)).toBe(' [.] Together: 5, 55, 6765, 832040')
  })
})
