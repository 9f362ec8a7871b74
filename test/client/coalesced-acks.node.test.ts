// Acks coalesced on the wire: a run of acks leaves as one `multiple` ack, and only where that
// says exactly what the single acks say (AMQP: `multiple` acks every unacked delivery up to
// the tag, so no earlier delivery may be left unsettled); nacks and rejects keep their place.
import { describe, expect, it } from 'vitest'
import { Connection, type Message } from '../../src/index.js'
import type { ClientCommand, FieldTable } from '../../src/protocol/frames.js'
import { FakeLink } from './fake-link.js'
import { tick } from './helpers.js'

/** A consumer on `q` that hands each delivery to `onMessage`; `deliver` emits deliveries to it. */
async function consuming(onMessage: (message: Message<unknown>) => void) {
  const link = new FakeLink()
  const conn = await Connection.open({ transport: link.connector() })
  const consumer = await conn.consumer('q', { onMessage, autoDeclare: false }).consume()
  const consumerTag = consumer.consumerTags[0]!
  const channel = link.ops('basic.consume')[0]!.channel
  const deliver = (deliveryTag: number, headers?: FieldTable, body: unknown = `m${deliveryTag}`) =>
    link.emit({ op: 'basic.deliver', channel, consumerTag, deliveryTag, redelivered: false, exchange: '', routingKey: 'q', properties: headers ? { headers } : {}, body })
  const settles = () =>
    link.sent
      .filter((f): f is Extract<ClientCommand, { deliveryTag: number }> => f.op === 'basic.ack' || f.op === 'basic.nack' || f.op === 'basic.reject')
      .map((f) => `${f.op.slice(6)} ${f.deliveryTag}${'multiple' in f && f.multiple ? ' multiple' : ''}`)
  return { link, conn, deliver, settles }
}

describe('coalesced acks', () => {
  it('a run of acks in delivery order leaves as one multiple ack of the highest tag', async () => {
    const { deliver, settles } = await consuming((message) => message.ack())
    for (let tag = 1; tag <= 5; tag++) deliver(tag)
    await tick()
    expect(settles()).toEqual(['ack 5 multiple'])
    deliver(6)
    await tick()
    expect(settles()).toEqual(['ack 5 multiple', 'ack 6 multiple'])
  })

  it('an ack behind an unsettled delivery goes alone; the earlier one then acks the run', async () => {
    const held: Message<unknown>[] = []
    const { deliver, settles } = await consuming((message) => {
      if (message.deliveryTag === 1) held.push(message)
      else message.ack()
    })
    for (let tag = 1; tag <= 3; tag++) deliver(tag)
    await tick()
    expect(settles()).toEqual(['ack 2', 'ack 3'])
    held[0]!.ack()
    await tick()
    expect(settles()).toEqual(['ack 2', 'ack 3', 'ack 1 multiple'])
  })

  it('a reject or a nack between acks keeps its place, the acks before it leaving first', async () => {
    const { deliver, settles } = await consuming((message) => {
      if (message.deliveryTag === 3) message.reject()
      else if (message.deliveryTag === 6) message.nack({ multiple: true })
      else message.ack()
    })
    for (let tag = 1; tag <= 4; tag++) deliver(tag)
    await tick()
    expect(settles()).toEqual(['ack 2 multiple', 'reject 3', 'ack 4 multiple'])
    deliver(5)
    deliver(6)
    await tick()
    expect(settles()).toEqual(['ack 2 multiple', 'reject 3', 'ack 4 multiple', 'ack 5 multiple', 'nack 6 multiple'])
  })

  it('no multiple ack while an earlier delivery is still being decompressed', async () => {
    const seen: number[] = []
    const { deliver, settles } = await consuming((message) => {
      seen.push(message.deliveryTag)
      message.ack()
    })
    // Not gzip: decompressing fails, and the message still arrives (its body throws when read).
    deliver(1, { compression: 'application/x-gzip' }, new Uint8Array([1, 2, 3]))
    deliver(2)
    await expect.poll(() => seen.length).toBe(2)
    await tick()
    expect(settles()).toContain('ack 2')
    expect(settles()).not.toContain('ack 2 multiple')
  })

  it('a second ack of the same tag is not folded into a run: it reaches the broker', async () => {
    const { deliver, settles } = await consuming((message) => {
      message.ack()
      message.channel.settle(message, { op: 'basic.ack', multiple: false })
    })
    deliver(1)
    await tick()
    expect(settles()).toEqual(['ack 1 multiple', 'ack 1'])
  })

  it('a delivery for a consumer this channel no longer knows stops the coalescing', async () => {
    const { link, deliver, settles } = await consuming((message) => message.ack())
    const channel = link.ops('basic.consume')[0]!.channel
    link.emit({ op: 'basic.deliver', channel, consumerTag: 'gone', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', properties: {}, body: 'x' })
    deliver(2)
    deliver(3)
    await tick()
    expect(settles()).toEqual(['ack 2', 'ack 3'])
  })

  it('no multiple ack while a basic.get on the channel has its message on the way', async () => {
    const link = new FakeLink()
    const conn = await Connection.open({ transport: link.connector() })
    const acked: number[] = []
    const consumer = await conn.consumer('q', { onMessage: (message) => void (acked.push(message.deliveryTag), message.ack()), autoDeclare: false }).consume()
    const channel = link.ops('basic.consume')[0]!.channel
    expect(conn.defaultChannel.number).toBe(channel)
    const consumerTag = consumer.consumerTags[0]!
    const delivery = (deliveryTag: number) => ({ deliveryTag, redelivered: false, exchange: '', routingKey: 'q', properties: {}, body: `m${deliveryTag}` })
    // The broker answers the get with tag 1 and delivers 2 and 3 right behind it.
    link.script = (frame, l) => {
      if (frame.op !== 'basic.get') return
      l.emit({ op: 'ok', id: frame.id!, result: { message: delivery(1), messageCount: 0 } })
      for (const tag of [2, 3]) l.emit({ op: 'basic.deliver', channel, consumerTag, ...delivery(tag) })
    }
    const got = await conn.defaultChannel.basicGet('q')
    await expect.poll(() => acked).toEqual([2, 3])
    await tick()
    const acks = link.ops('basic.ack').map((f) => f.op === 'basic.ack' && `${f.deliveryTag}${f.multiple ? ' multiple' : ''}`)
    // Tag 1 is unacked on the broker: a multiple ack of 2 or 3 would have acked it too.
    expect(acks).toEqual(['2', '3'])
    got!.ack()
    await tick()
    expect(link.ops('basic.ack').at(-1)).toMatchObject({ deliveryTag: 1 })
  })
})
