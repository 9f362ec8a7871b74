// Request/reply: conn.rpc, serve and reply.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ContentDisallowedError, Exchange, Queue, TimeoutError } from '../../src/index.js'
import { setup, type Setup } from './helpers.js'

describe('rpc', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('round trips through a served queue', async () => {
    const server = await env.connect()
    const client = await env.connect()
    const add = new Queue<{ a: number; b: number }>('add')
    await server.maybeDeclare(add)
    await server.serve(add, ({ a, b }) => a + b)
    expect(await client.rpc<{ a: number; b: number }, number>('add', { a: 1, b: 2 })).toBe(3)
    const results = await Promise.all([1, 2, 3].map((n) => client.rpc<{ a: number; b: number }, number>(add, { a: n, b: n })))
    expect(results).toEqual([2, 4, 6])
  })

  it('routes through an exchange with a routing key', async () => {
    const server = await env.connect()
    const client = await env.connect()
    const rpcExchange = new Exchange('rpc', 'direct')
    const echo = new Queue('echo', { exchange: rpcExchange, routingKey: 'echo' })
    await server.serve(echo, async (body) => ({ echoed: body }))
    expect(await client.rpc(rpcExchange, 'hi', { routingKey: 'echo' })).toEqual({ echoed: 'hi' })
    expect(await client.rpc('rpc', 'ho', { routingKey: 'echo' })).toEqual({ echoed: 'ho' })
  })

  it('reply answers a request with its correlation id', async () => {
    const server = await env.connect()
    const client = await env.connect()
    const queue = new Queue('manual')
    await server.maybeDeclare(queue)
    await server
      .consumer(queue, {
        onMessage: async (message) => {
          await server.reply(message, `re: ${message.body as string}`)
          message.ack()
        },
      })
      .consume()
    expect(await client.rpc('manual', 'question')).toBe('re: question')
  })

  it('rejects with TimeoutError when nobody answers', async () => {
    const client = await env.connect()
    await client.maybeDeclare(new Queue('silent'))
    const error = await client.rpc('silent', 'anyone?', { timeout: 30 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).stack).toContain('rpc.node.test.ts')
  })

  it('rejects with the abort reason when aborted', async () => {
    const client = await env.connect()
    await client.maybeDeclare(new Queue('slow'))
    const controller = new AbortController()
    const call = client.rpc('slow', 'x', { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('gave up')), 10)
    await expect(call).rejects.toThrow('gave up')
  })

  it('a throwing handler rejects the request and reports the error', async () => {
    const server = await env.connect()
    const client = await env.connect()
    const queue = new Queue('broken')
    await server.maybeDeclare(queue)
    const statuses = server.status[Symbol.asyncIterator]()
    await server.serve(queue, () => {
      throw new Error('boom')
    })
    await expect(client.rpc('broken', 1, { timeout: 50 })).rejects.toBeInstanceOf(TimeoutError)
    expect((await statuses.next()).value).toMatchObject({ type: 'error' })
    expect((await queue.bind(server).queueDeclare({ passive: true })).messageCount).toBe(0)
  })

  it('accept: a reply of another content type rejects with ContentDisallowedError; an accepted one resolves', async () => {
    const server = await env.connect()
    const client = await env.connect()
    const queue = new Queue('texts')
    await server.maybeDeclare(queue)
    await server.serve(queue, (body) => `re: ${String(body)}`, { serializer: 'text' })
    await expect(client.rpc('texts', 'hi', { accept: ['json'] })).rejects.toBeInstanceOf(ContentDisallowedError)
    expect(await client.rpc('texts', 'ho', { accept: ['text/plain'] })).toBe('re: ho')
  })
})
