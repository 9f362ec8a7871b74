// The Kombu quick start, over an in-process broker.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Exchange, Queue, type Message } from '../../src/index.js'
import { setup, type Setup, type Video } from './helpers.js'

describe('quick start', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('publishes to the media exchange and consumes from the video queue', async () => {
    const media = new Exchange('media', 'direct', { durable: true })
    const video = new Queue<Video>('video', { exchange: media, routingKey: 'video' })
    const conn = await env.connect()
    const confirm = await conn.producer().publish({ name: 'a.avi', size: 1 }, { exchange: media, routingKey: 'video', declare: [video] })
    expect(confirm.routed).toBe(true)
    const seen: Message<Video>[] = []
    for await (const message of conn.consume(video, { prefetch: 10 })) {
      seen.push(message)
      message.ack()
      break
    }
    expect(seen).toHaveLength(1)
    expect(seen[0]!.body).toEqual({ name: 'a.avi', size: 1 })
    expect(seen[0]!.contentType).toBe('application/json')
    expect(seen[0]!.deliveryInfo).toMatchObject({ exchange: 'media', routingKey: 'video', redelivered: false })
    expect(seen[0]!.state).toBe('ACK')
    expect(await video.bind(conn).queueDeclare({ passive: true })).toMatchObject({ messageCount: 0 })
  })
})
