// The job-queue API over an in-process broker with a fake clock: backoff delays are held by
// the broker's delayed exchange, so they pass when the test moves the clock, not in real time.
import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from '../../src/index.js'
import { createInProcessBroker, type InProcessBrokerHandle } from '../../src/hosts/in-process.js'
import { backoffDelay, JobQueue, ManualNetworkStatus, type JobEvent, type JobWorkerEvent } from '../../src/jobs/index.js'
import { FakeClock } from '../../src/testing/fake-clock.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup() {
  const clock = new FakeClock()
  const broker = await createInProcessBroker({ clock })
  cleanup.push(() => broker.stop())
  const open = async () => {
    const conn = await Connection.open({ transport: broker.connector, requestTimeout: 2000 })
    cleanup.push(() => conn.close())
    return conn
  }
  return { clock, broker, open, conn: await open() }
}

const until = async (check: () => boolean | Promise<boolean>, timeout = 2000) => {
  const end = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 2))
  }
}

const tick = () => new Promise((r) => setTimeout(r, 10))

/** A promise with its resolve, for handlers the test releases. */
function gate<T = void>() {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

const record = <T, R>(events: JobWorkerEvent<T, R>[]) => (event: JobWorkerEvent<T, R>) => void events.push(event)

describe('backoff', () => {
  it('exponential with jitter between (1 - jitter) × d and d, capped; fixed; a number; a function', () => {
    expect(backoffDelay({ delay: 1000, jitter: 0 }, 1, null)).toBe(1000)
    expect(backoffDelay({ delay: 1000, jitter: 0 }, 4, null)).toBe(8000)
    expect(backoffDelay({ delay: 1000, jitter: 0, max: 5000 }, 4, null)).toBe(5000)
    expect(backoffDelay({ delay: 1000, factor: 3, jitter: 0 }, 3, null)).toBe(9000)
    expect(backoffDelay({ delay: 1000, jitter: 0.5 }, 2, null, () => 0)).toBe(2000)
    expect(backoffDelay({ delay: 1000, jitter: 0.5 }, 2, null, () => 0.999999)).toBe(1000)
    expect(backoffDelay({ delay: 1000, jitter: 1 }, 1, null, () => 0.25)).toBe(750)
    expect(backoffDelay({ type: 'fixed', delay: 300, jitter: 0 }, 7, null)).toBe(300)
    expect(backoffDelay(250, 3, null)).toBe(250)
    expect(backoffDelay((attempt) => attempt * 10, 3, null)).toBe(30)
    expect(backoffDelay(undefined, 1, null, () => 0)).toBe(1000)
    expect(backoffDelay(-5, 1, null)).toBe(0)
  })
})

describe('JobQueue', () => {
  it('adds durable jobs and runs them with the given concurrency; events reach any listener', async () => {
    const { conn, open } = await setup()
    const queue = new JobQueue<{ n: number }, number>(conn, 'jobs-basic')
    const watcher = new JobQueue(await open(), 'jobs-basic').events()
    cleanup.push(() => watcher.close())
    await watcher.ready
    const seen: JobEvent[] = []
    void (async () => {
      for await (const event of watcher) seen.push(event)
    })()

    const ids = await queue.addBulk(Array.from({ length: 7 }, (_, n) => ({ data: { n } })))
    expect(new Set(ids).size).toBe(7)
    expect(await queue.counts()).toEqual({ waiting: 7, workers: 0, dead: 0 })

    const gates = new Map<number, ReturnType<typeof gate<number>>>()
    let peak = 0
    let now = 0
    const worker = queue.process(
      async (job) => {
        now++
        peak = Math.max(peak, now)
        job.progress(50)
        const g = gate<number>()
        gates.set(job.data.n, g)
        const result = await g.promise
        now--
        return result
      },
      { concurrency: 3 },
    )
    cleanup.push(() => worker.close({ abort: true }))
    await until(() => gates.size === 3)
    await tick()
    expect(gates.size).toBe(3)
    expect(worker.running).toBe(3)
    for (let n = 0; n < 7; n++) {
      await until(() => gates.has(n))
      gates.get(n)!.open(n * 10)
    }
    expect(await worker.whenIdle({ timeout: 2000 })).toBe(true)
    expect(peak).toBe(3)
    await until(() => seen.filter((e) => e.type === 'completed').length === 7)
    expect(seen.filter((e) => e.type === 'completed').map((e) => e.result).sort((a, b) => (a as number) - (b as number))).toEqual([0, 10, 20, 30, 40, 50, 60])
    expect(seen.filter((e) => e.type === 'added').map((e) => e.jobId)).toEqual(ids)
    expect(seen.filter((e) => e.type === 'progress').every((e) => e.progress === 50)).toBe(true)
    expect(seen.find((e) => e.type === 'active')).toMatchObject({ queue: 'jobs-basic', attempt: 1 })
    expect(await queue.counts()).toEqual({ waiting: 0, workers: 1, dead: 0 })
  })

  it('retries a failed job after an exponential backoff held by the delayed exchange, then completes it', async () => {
    const { conn, clock } = await setup()
    const queue = new JobQueue<string>(conn, 'jobs-retry', { attempts: 3, backoff: { delay: 1000, jitter: 0.5 }, random: () => 0.5 })
    const attempts: Array<{ attempt: number; errors: string[]; redelivered: boolean }> = []
    const events: JobWorkerEvent<string, unknown>[] = []
    const worker = queue.process(async (job) => {
      attempts.push({ attempt: job.attempt, errors: job.errors, redelivered: job.redelivered })
      if (job.attempt < 3) throw new Error(`boom ${job.attempt}`)
      return 'sent'
    })
    worker.on(record(events))
    cleanup.push(() => worker.close({ abort: true }))
    await queue.add('hello', { id: 'job-1' })
    await until(() => attempts.length === 1)
    await until(() => events.some((e) => e.type === 'retrying'))
    // 1000 × 2^0 with jitter 0.5 and random 0.5: 750 ms.
    expect(events.find((e) => e.type === 'retrying')).toMatchObject({ delay: 750 })
    clock.advance(749)
    await tick()
    expect(attempts).toHaveLength(1)
    clock.advance(1)
    await until(() => attempts.length === 2)
    expect(attempts[1]).toEqual({ attempt: 2, errors: ['Error: boom 1'], redelivered: false })
    // 1000 × 2^1 × 0.75 = 1500 ms.
    await until(() => events.filter((e) => e.type === 'retrying').length === 2)
    expect(events.filter((e) => e.type === 'retrying')[1]).toMatchObject({ delay: 1500 })
    clock.advance(1500)
    await until(() => attempts.length === 3)
    expect(attempts[2]!.errors).toEqual(['Error: boom 1', 'Error: boom 2'])
    await until(() => events.some((e) => e.type === 'completed'))
    expect(events.find((e) => e.type === 'completed')).toMatchObject({ result: 'sent', job: { id: 'job-1', attempt: 3 } })
    expect(await queue.counts()).toMatchObject({ waiting: 0, dead: 0 })
  })

  it('after its last attempt a job is dead-lettered with x-death; retryDead gives it a fresh set of attempts', async () => {
    const { conn, clock } = await setup()
    const queue = new JobQueue<{ to: string }>(conn, 'jobs-dead', { attempts: 2, backoff: { type: 'fixed', delay: 100, jitter: 0 } })
    let fail = true
    const events: JobWorkerEvent<{ to: string }, unknown>[] = []
    const worker = queue.process(async (job) => {
      if (fail) throw new TypeError(`cannot reach ${job.data.to}`)
    })
    worker.on(record(events))
    cleanup.push(() => worker.close({ abort: true }))
    await queue.add({ to: 'x' }, { id: 'poison' })
    await until(() => events.some((e) => e.type === 'retrying'))
    clock.advance(100)
    await until(() => events.some((e) => e.type === 'failed'))
    expect(events.find((e) => e.type === 'failed')).toMatchObject({ deadLettered: true, job: { attempt: 2 } })
    await until(async () => (await queue.counts()).dead === 1)

    const dead = (await queue.deadLetterQueue!.bind(conn).get())!
    expect(dead.properties.messageId).toBe('poison')
    expect(dead.body).toEqual({ to: 'x' })
    expect(dead.headers['x-job-attempt']).toBe(2)
    expect(dead.headers['x-job-errors']).toEqual(['TypeError: cannot reach x'])
    expect(dead.headers['x-death']).toEqual([
      expect.objectContaining({ queue: 'jobs-dead', reason: 'rejected', count: 1, exchange: 'warren.jobs.delay', 'routing-keys': ['jobs-dead'] }),
    ])
    expect(dead.headers['x-first-death-reason']).toBe('rejected')
    dead.requeue()
    await tick()

    fail = false
    expect(await queue.retryDead()).toBe(1)
    await until(() => events.some((e) => e.type === 'completed'))
    expect(events.find((e) => e.type === 'completed')).toMatchObject({ job: { id: 'poison', attempt: 1 } })
    expect(await queue.counts()).toMatchObject({ waiting: 0, dead: 0 })
  })

  it('a delayed job waits for its delay; priorities order ready jobs', async () => {
    const { conn, clock } = await setup()
    const queue = new JobQueue<string>(conn, 'jobs-delayed', { maxPriority: 5 })
    await queue.add('later', { delay: 5000 })
    await queue.add('low', { priority: 1 })
    await queue.add('high', { priority: 5 })
    const order: string[] = []
    const worker = queue.process((job) => void order.push(job.data))
    cleanup.push(() => worker.close({ abort: true }))
    await until(() => order.length === 2)
    expect(order).toEqual(['high', 'low'])
    clock.advance(4999)
    await tick()
    expect(order).toHaveLength(2)
    clock.advance(1)
    await until(() => order.length === 3)
    expect(order[2]).toBe('later')
  })

  it('offline: jobs are kept and not run; a job that fails while offline is put back without using an attempt; online again, all run', async () => {
    const { conn } = await setup()
    const network = new ManualNetworkStatus(true)
    const queue = new JobQueue<number>(conn, 'jobs-offline', { attempts: 2 })
    const ran: Array<{ n: number; attempt: number; redelivered: boolean }> = []
    const first = gate()
    const events: JobWorkerEvent<number, unknown>[] = []
    const worker = queue.process(
      async (job) => {
        ran.push({ n: job.data, attempt: job.attempt, redelivered: job.redelivered })
        if (job.data === 0 && ran.length === 1) {
          await first.promise
          throw new TypeError('Failed to fetch')
        }
      },
      { network },
    )
    worker.on(record(events))
    cleanup.push(() => worker.close({ abort: true }))
    await queue.add(0)
    await until(() => ran.length === 1)
    // The network goes while job 0 runs; it then fails.
    network.set(false)
    await until(() => worker.paused)
    first.open()
    await until(() => events.some((e) => e.type === 'requeued'))
    expect(events.find((e) => e.type === 'requeued')).toMatchObject({ reason: 'offline' })
    for (const n of [1, 2, 3]) await queue.add(n)
    await tick()
    expect(ran).toHaveLength(1)
    expect(await queue.counts()).toEqual({ waiting: 4, workers: 0, dead: 0 })

    network.set(true)
    await until(() => ran.length === 5)
    expect(ran.slice(1)).toEqual([
      { n: 0, attempt: 1, redelivered: true },
      { n: 1, attempt: 1, redelivered: false },
      { n: 2, attempt: 1, redelivered: false },
      { n: 3, attempt: 1, redelivered: false },
    ])
    expect(events.filter((e) => e.type === 'paused' || e.type === 'resumed').map((e) => e.type)).toEqual(['paused', 'resumed'])
    expect(await worker.whenIdle({ timeout: 1000 })).toBe(true)
  })

  it('a job whose worker dies comes back redelivered, same attempt; past the crash limit it is dead-lettered as poison', async () => {
    const { open } = await setup()
    const producer = await open()
    const queue = new JobQueue<string>(producer, 'jobs-crash', { crashLimit: 1 })
    await queue.add('fragile', { id: 'f' })
    const seen: Array<{ attempt: number; redelivered: boolean }> = []
    for (let crash = 0; crash < 2; crash++) {
      const conn = await open()
      const started = gate()
      new JobQueue<string>(conn, 'jobs-crash', { crashLimit: 1 }).process(async (job) => {
        seen.push({ attempt: job.attempt, redelivered: job.redelivered })
        started.open()
        await new Promise(() => {}) // never finishes: its worker dies first
      })
      await started.promise
      await conn.close() // the context goes away with the job unacked
    }
    expect(seen).toEqual([
      { attempt: 1, redelivered: false },
      { attempt: 1, redelivered: true },
    ])
    await until(async () => (await queue.counts()).dead === 1)
    const dead = (await queue.deadLetterQueue!.bind(producer).get())!
    expect(dead.headers['x-death']).toEqual([expect.objectContaining({ queue: 'jobs-crash', reason: 'delivery_limit', count: 1 })])
  })

  it('an attempt that outlives its timeout fails (its signal aborts) and is retried', async () => {
    const { conn, clock } = await setup()
    const queue = new JobQueue<string>(conn, 'jobs-timeout', { attempts: 2, backoff: 0 })
    const signals: AbortSignal[] = []
    const events: JobWorkerEvent<string, unknown>[] = []
    const worker = queue.process(
      (job) => {
        signals.push(job.signal)
        return job.attempt === 1 ? new Promise(() => {}) : 'ok'
      },
      { timeout: 30 },
    )
    worker.on(record(events))
    cleanup.push(() => worker.close({ abort: true }))
    await queue.add('slow')
    await until(() => events.some((e) => e.type === 'completed'))
    void clock
    expect(signals[0]!.aborted).toBe(true)
    expect(events.find((e) => e.type === 'retrying')).toMatchObject({ delay: 0, error: { name: 'TimeoutError' } })
  })

  it('pause stops taking jobs (running ones finish), resume takes them again; close with abort puts running jobs back', async () => {
    const { conn } = await setup()
    const queue = new JobQueue<number>(conn, 'jobs-pause')
    const ran: number[] = []
    const hold = gate()
    const worker = queue.process(async (job) => {
      ran.push(job.data)
      if (job.data === 0) await hold.promise
    })
    await queue.add(0)
    await until(() => ran.length === 1)
    await worker.pause()
    await queue.add(1)
    hold.open()
    await tick()
    expect(ran).toEqual([0])
    await worker.resume()
    await until(() => ran.length === 2)

    const stuck = gate()
    const second = queue.process(async (job) => {
      ran.push(job.data)
      await stuck.promise
    })
    await worker.close()
    await queue.add(2)
    await until(() => ran.length === 3)
    const events: JobWorkerEvent<number, unknown>[] = []
    second.on(record(events))
    await second.close({ abort: true })
    expect(events).toContainEqual(expect.objectContaining({ type: 'requeued', reason: 'closed' }))
    expect(await queue.counts()).toEqual({ waiting: 1, workers: 0, dead: 0 })
  })
})
