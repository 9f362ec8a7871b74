// Message: settle state machine, multiple, no-ack, requeue position and redelivered flag.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MessageStateError, Queue, type Message } from '../../src/index.js'
import { setup, tick, type Setup } from './helpers.js'

describe('Message', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  const prepare = async (bodies: unknown[], name = 'm') => {
    const conn = await env.connect()
    const queue = new Queue(name).bind(conn)
    await queue.declare()
    const producer = conn.producer({ routingKey: name })
    for (const body of bodies) await producer.publish(body)
    return { conn, queue }
  }

  it('a second settle throws MessageStateError', async () => {
    const { queue } = await prepare(['x'])
    const message = (await queue.get())!
    expect(message.state).toBe('RECEIVED')
    expect(message.acknowledged).toBe(false)
    message.ack()
    expect(message.state).toBe('ACK')
    expect(() => message.ack()).toThrow(MessageStateError)
    expect(() => message.reject()).toThrow(MessageStateError)
    expect(() => message.requeue()).toThrow(MessageStateError)
    expect(() => message.nack()).toThrow(MessageStateError)
  })

  it('settling a no-ack message does nothing', async () => {
    const { queue } = await prepare(['x'])
    const message = (await queue.get({ noAck: true }))!
    message.ack()
    message.ack()
    message.reject()
    expect(message.state).toBe('RECEIVED')
    expect(await queue.get()).toBeUndefined()
  })

  it('requeue puts the message back at its position, flagged redelivered', async () => {
    const { queue } = await prepare(['a', 'b'])
    const a = (await queue.get())!
    expect(a.deliveryInfo).toMatchObject({ deliveryTag: 1, redelivered: false, messageCount: 1, exchange: '', routingKey: 'm' })
    a.requeue()
    expect(a.state).toBe('REQUEUED')
    const again = (await queue.get())!
    expect(again.body).toBe('a')
    expect(again.redelivered).toBe(true)
    expect(again.deliveryTag).toBe(2)
    again.ack()
  })

  it('reject without requeue drops the message; reject with requeue keeps it', async () => {
    const { queue } = await prepare(['a', 'b'])
    const a = (await queue.get())!
    a.reject()
    expect(a.state).toBe('REJECTED')
    const b = (await queue.get())!
    b.reject({ requeue: true })
    expect(b.state).toBe('REQUEUED')
    expect((await queue.get({ noAck: true }))!.body).toBe('b')
    expect(await queue.get()).toBeUndefined()
  })

  it('ack with multiple settles every earlier delivery of the channel', async () => {
    const { queue } = await prepare([1, 2, 3])
    const messages: Message<unknown>[] = []
    for (let i = 0; i < 3; i++) messages.push((await queue.get())!)
    messages[1]!.ack({ multiple: true })
    expect(messages.map((m) => m.state)).toEqual(['ACK', 'ACK', 'RECEIVED'])
    expect(() => messages[0]!.ack()).toThrow(MessageStateError)
    messages[2]!.ack()
    await tick()
    expect(queue.channel.isOpen).toBe(true)
    expect((await queue.queueDeclare({ passive: true })).messageCount).toBe(0)
  })

  it('nack with multiple requeues every earlier delivery', async () => {
    const { queue } = await prepare([1, 2])
    const first = (await queue.get())!
    const second = (await queue.get())!
    second.nack({ multiple: true })
    expect([first.state, second.state]).toEqual(['REQUEUED', 'REQUEUED'])
    expect((await queue.queueDeclare()).messageCount).toBe(2)
  })

  it('channel-level acks by tag keep the messages in step', async () => {
    const { queue } = await prepare([1, 2, 3])
    const messages: Message<unknown>[] = []
    for (let i = 0; i < 3; i++) messages.push((await queue.get())!)
    queue.channel.basicAck(2, { multiple: true })
    queue.channel.basicReject(3, { requeue: false })
    expect(messages.map((m) => m.state)).toEqual(['ACK', 'ACK', 'REJECTED'])
    expect(() => messages[2]!.ack()).toThrow(MessageStateError)
    expect((await queue.queueDeclare({ passive: true })).messageCount).toBe(0)
  })

  it('exposes properties, headers and delivery info', async () => {
    const conn = await env.connect()
    const queue = new Queue('info').bind(conn)
    await queue.declare()
    await conn.producer().publish({ k: 1 }, { routingKey: 'info', headers: { h: 'v' } })
    const [message] = await new Promise<Message<unknown>[]>((resolve) => {
      const got: Message<unknown>[] = []
      void queue.consume({ consumerTag: 'tag-1', callback: (m) => (got.push(m), resolve(got)) })
    })
    expect(message!.headers).toEqual({ h: 'v' })
    expect(message!.consumerTag).toBe('tag-1')
    expect(message!.deliveryInfo).toEqual({ exchange: '', routingKey: 'info', deliveryTag: 1, redelivered: false, consumerTag: 'tag-1' })
    expect(message!.payload).toEqual({ k: 1 })
    message!.ack()
    await queue.cancel('tag-1')
  })
})
