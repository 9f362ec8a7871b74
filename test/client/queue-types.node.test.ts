// Queue types through the public API over memory://: a typed Queue declaration, and quorum rules end to end.
import { afterEach, describe, expect, it } from 'vitest'
import { Connection, Exchange, Queue } from '../../src/index.js'

let vhosts = 0
const opened: Connection[] = []
/** A connection to a fresh memory:// vhost (one broker per vhost). */
async function connect(): Promise<Connection> {
  const conn = await Connection.open(`memory:///queue-types-${++vhosts}-${Math.random().toString(36).slice(2)}`)
  opened.push(conn)
  return conn
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((conn) => conn.close()))
})

describe('queue types in the client API', () => {
  it('queueType and deliveryLimit map to x-queue-type and x-delivery-limit', () => {
    expect(new Queue('q', { queueType: 'quorum', deliveryLimit: 5 }).arguments).toEqual({ 'x-queue-type': 'quorum', 'x-delivery-limit': 5 })
    expect(new Queue('q').arguments).toEqual({})
  })

  it('a quorum queue declared over memory:// counts every return and dead-letters past deliveryLimit', async () => {
    const conn = await connect()
    const dlx = new Exchange('dlx', 'fanout')
    const dead = new Queue('dead', { exchange: dlx })
    const jobs = new Queue('jobs', { queueType: 'quorum', deliveryLimit: 1, deadLetterExchange: dlx })
    await dead.bind(conn).declare()
    await jobs.bind(conn).declare()
    await conn.producer().publish('job', { routingKey: 'jobs', deliveryMode: 'transient' })
    const first = await jobs.bind(conn).get()
    expect(first?.headers['x-delivery-count']).toBeUndefined()
    first!.nack({ requeue: true })
    await expect.poll(async () => (await jobs.bind(conn).queueDeclare({ passive: true })).messageCount).toBe(1)
    const second = await jobs.bind(conn).get()
    expect(second?.headers['x-delivery-count']).toBe(1)
    second!.requeue()
    await expect.poll(async () => (await dead.bind(conn).queueDeclare({ passive: true })).messageCount).toBe(1)
    const deadLettered = await dead.bind(conn).get({ noAck: true })
    expect((deadLettered?.headers['x-death'] as Array<{ reason: string }>)[0]!.reason).toBe('delivery_limit')
  })

  it('a non-durable quorum queue is refused with 406 PRECONDITION_FAILED', async () => {
    const conn = await connect()
    const error = await new Queue('q', { queueType: 'quorum', durable: false }).bind(conn).declare().catch((e: unknown) => e)
    expect(error).toMatchObject({ replyCode: 406 })
  })
})
