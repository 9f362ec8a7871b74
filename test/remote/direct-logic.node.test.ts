// The parts of a direct stomp+ws connection that need no socket: the AMQP → STOMP mapping of
// destinations and declare headers, and the commands answered before anything reaches RabbitMQ
// (NOT_SUPPORTED, bodies and names that cannot travel). The rest is tested against RabbitMQ
// in direct.e2e.test.ts.
import { describe, expect, it } from 'vitest'
import type { ServerEvent } from '../../src/protocol/frames.js'
import { RemoteConnection } from '../../src/remote/connection.js'
import { declareHeaders, DirectBroker, publishDestination } from '../../src/remote/direct.js'

describe('AMQP → STOMP mapping', () => {
  it('publishes to the default exchange through /amq/queue/ (no declare), to others through /exchange/', () => {
    expect(publishDestination('', 'jobs')).toBe('/amq/queue/jobs')
    expect(publishDestination('amq.topic', 'a.b')).toBe('/exchange/amq.topic/a.b')
    expect(publishDestination('amq.fanout', '')).toBe('/exchange/amq.fanout')
  })

  it('declares a queue with explicit durable, auto-delete and exclusive headers and its x-* arguments as strings', () => {
    expect(declareHeaders({ durable: true, arguments: { 'x-max-length': 10, 'x-queue-type': 'quorum' } })).toEqual({
      durable: 'true', 'auto-delete': 'false', exclusive: 'false', 'x-max-length': '10', 'x-queue-type': 'quorum',
    })
    expect(() => declareHeaders({ arguments: { 'max-length': 1 } })).toThrow(/only x-\* arguments/)
    expect(() => declareHeaders({ arguments: { 'x-args': { a: 1 } } })).toThrow(/string, number or boolean/)
  })
})

describe('commands answered without RabbitMQ', () => {
  // A real connection that is never started: none of these may need the socket.
  const direct = new DirectBroker(new RemoteConnection('unused', { url: 'ws://127.0.0.1:9/ws' }))
  const events: ServerEvent[] = []
  direct.connect('c', (event) => events.push(event))
  let id = 0
  const answer = async (command: Record<string, unknown>) => {
    const mine = ++id
    direct.receive('c', { channel: 1, ...command, id: mine })
    for (let i = 0; i < 50; i++) {
      const found = events.find((e) => 'id' in e && e.id === mine)
      if (found) return found
      await Promise.resolve()
    }
    throw new Error(`no answer to ${JSON.stringify(command)}`)
  }

  it.each([
    [{ op: 'exchange.declare', exchange: 'orders', type: 'topic' }, 'declaring exchange'],
    [{ op: 'exchange.declare', exchange: 'orders', passive: true }, 'passive'],
    [{ op: 'exchange.delete', exchange: 'orders' }, 'deleting exchange'],
    [{ op: 'exchange.bind', destination: 'a', source: 'b' }, 'binding exchanges'],
    [{ op: 'queue.declare', queue: 'q', passive: true }, 'passive declare'],
    [{ op: 'queue.bind', queue: 'q', exchange: 'amq.topic', routingKey: 'k' }, 'binding queue'],
    [{ op: 'queue.purge', queue: 'q' }, 'purging'],
    [{ op: 'queue.delete', queue: 'q' }, 'deleting queue'],
    [{ op: 'basic.get', queue: 'q' }, 'basic.get'],
    [{ op: 'basic.qos', prefetchCount: 5, global: true }, 'global'],
    [{ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'x', mandatory: true }, 'mandatory'],
  ])('%j is NOT_SUPPORTED, nothing closed', async (command, why) => {
    expect(await answer({ op: 'channel.open' })).toMatchObject({ op: 'ok' })
    const reply = await answer(command)
    expect(reply).toMatchObject({ op: 'error', error: { name: 'NotSupportedError', code: 'NOT_SUPPORTED' } })
    expect((reply as { error: { message: string; closes?: string } }).error.message).toContain(why)
    expect((reply as { error: { closes?: string } }).error.closes).toBeUndefined()
  })

  it('declaring a built-in exchange is a no-op', async () => {
    expect(await answer({ op: 'channel.open' })).toMatchObject({ op: 'ok' })
    expect(await answer({ op: 'exchange.declare', exchange: 'amq.topic', type: 'topic' })).toMatchObject({ op: 'ok' })
  })

  it('refuses what cannot travel before it reaches the shared socket', async () => {
    expect(await answer({ op: 'channel.open', channel: 2 })).toMatchObject({ op: 'ok' })
    expect(await answer({ op: 'basic.publish', channel: 2, exchange: '', routingKey: 'q', properties: {}, body: { an: 'object' } })).toMatchObject({ error: { code: 'ENCODE' } })
    expect(await answer({ op: 'channel.open', channel: 3 })).toMatchObject({ op: 'ok' })
    expect(await answer({ op: 'basic.publish', channel: 3, exchange: '', routingKey: 'a/b', properties: {}, body: 'x' })).toMatchObject({ error: { code: 'PRECONDITION_FAILED' } })
    // A soft error closes the channel, as in AMQP.
    expect(events).toContainEqual(expect.objectContaining({ op: 'channel.closed', channel: 3 }))
    expect(await answer({ op: 'basic.qos', channel: 42, prefetchCount: 1 })).toMatchObject({ error: { code: 'CHANNEL_ERROR' } })
  })
})
