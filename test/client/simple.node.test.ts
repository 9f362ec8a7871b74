// SimpleQueue and SimpleBuffer (Kombu semantics).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EmptyError, Queue } from '../../src/index.js'
import { SimpleBuffer, SimpleQueue } from '../../src/simple.js'
import { setup, type Setup } from './helpers.js'

describe('SimpleQueue', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('puts and gets through an exchange, queue and key of the same name', async () => {
    const conn = await env.connect()
    const jobs = new SimpleQueue<{ n: number }>(conn, 'jobs')
    await jobs.put({ n: 1 })
    await jobs.put({ n: 2 })
    expect(await jobs.qsize()).toBe(2)
    const first = await jobs.get({ timeout: 1000 })
    expect(first.body).toEqual({ n: 1 })
    expect(first.exchange).toBe('jobs')
    expect(first.routingKey).toBe('jobs')
    first.ack()
    const second = await jobs.get({ timeout: 1000 })
    expect(second.body).toEqual({ n: 2 })
    second.ack()
    await jobs.close()
  })

  it('get waits for a message, and rejects with EmptyError after its timeout', async () => {
    const conn = await env.connect()
    const other = await env.connect()
    const queue = new SimpleQueue<string>(conn, 'later')
    await queue.clear().catch(() => {})
    const waiting = queue.get({ timeout: 2000 })
    await new SimpleQueue<string>(other, 'later').put('hello')
    const message = await waiting
    expect(message.body).toBe('hello')
    message.ack()
    const error = await queue.get({ timeout: 20 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EmptyError)
    await queue.close()
  })

  it('getNowait polls with basic.get', async () => {
    const conn = await env.connect()
    const queue = new SimpleQueue(conn, 'poll')
    await expect(queue.getNowait()).rejects.toBeInstanceOf(EmptyError)
    await queue.put('x')
    const message = await queue.getNowait()
    expect(message.body).toBe('x')
    message.ack()
  })

  it('clear purges the queue', async () => {
    const conn = await env.connect()
    const queue = new SimpleQueue(conn, 'purge-me')
    await queue.put(1)
    await queue.put(2)
    expect(await queue.clear()).toBe(2)
    expect(await queue.qsize()).toBe(0)
  })

  it('close requeues buffered messages', async () => {
    const conn = await env.connect()
    const queue = new SimpleQueue(conn, 'buffered')
    await queue.put('a')
    await queue.put('b')
    const a = await queue.get({ timeout: 1000 })
    a.ack()
    await queue.close()
    const again = new SimpleQueue(conn, 'buffered')
    const b = await again.get({ timeout: 1000 })
    expect(b.body).toBe('b')
    b.ack()
    await again.close()
  })

  it('accepts a Queue instead of a name', async () => {
    const conn = await env.connect()
    const queue = new SimpleQueue(conn, new Queue<number>('plain'))
    await queue.put(7)
    const message = await queue.get({ timeout: 1000 })
    expect(message.body).toBe(7)
    message.ack()
    await queue.close()
  })
})

describe('SimpleBuffer', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('is transient: no acks, auto-delete, exclusive, transient messages', async () => {
    const conn = await env.connect()
    const buffer = new SimpleBuffer<string>(conn, 'events')
    expect(buffer.noAck).toBe(true)
    expect(buffer.queue).toMatchObject({ durable: false, exclusive: true, autoDelete: true })
    await buffer.put('e1')
    const message = await buffer.get({ timeout: 1000 })
    expect(message.body).toBe('e1')
    expect(message.properties.deliveryMode).toBe(1)
    message.ack()
    await buffer.close()
  })
})
