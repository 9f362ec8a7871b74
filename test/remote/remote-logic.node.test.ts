// The pure parts of the remote links: reconnect delays, the AMQP ⇄ STOMP header mapping,
// destinations, error codes, and the link spec guards.
import { describe, expect, it } from 'vitest'
import { federationSpecProblem, parseRemotesNotice, shovelSpecProblem } from '../../src/protocol/remote.js'
import { backoffDelay } from '../../src/remote/backoff.js'
import { errorCode, publicUrl } from '../../src/remote/connection.js'
import { routingKeyOf, sourceDestination } from '../../src/remote/federation.js'
import { exchangeDestination, isTextContent, propertiesOf, stompBody, stompHeaders } from '../../src/remote/headers.js'

describe('backoffDelay', () => {
  it('grows exponentially to the ceiling, with equal jitter (never below half, never zero)', () => {
    const low = (n: number) => backoffDelay(n, { initialMs: 100, maxMs: 1000 }, () => 0)
    const high = (n: number) => backoffDelay(n, { initialMs: 100, maxMs: 1000 }, () => 0.999999)
    expect([0, 1, 2, 3, 4, 10].map(low)).toEqual([50, 100, 200, 400, 500, 500])
    expect([0, 1, 2, 3, 4, 10].map(high)).toEqual([100, 200, 400, 800, 1000, 1000])
    expect(backoffDelay(1e9)).toBeLessThanOrEqual(30_000)
    expect(backoffDelay(-3, { initialMs: 100 }, () => 0)).toBe(50)
  })
})

describe('AMQP properties ⇄ STOMP headers', () => {
  it('maps properties onto RabbitMQ header names and back', () => {
    const properties = {
      contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 as const, priority: 5,
      correlationId: 'c1', replyTo: 'replies', expiration: '60000', messageId: 'm1', timestamp: 1700000000,
      type: 't', appId: 'app', userId: 'u', headers: { seq: 3, ok: true, text: 'x', nested: { a: 1 } },
    }
    const headers = stompHeaders(properties)
    expect(headers).toEqual({
      'content-type': 'application/json', 'content-encoding': 'utf-8', persistent: 'true', priority: '5',
      'correlation-id': 'c1', 'reply-to': 'replies', expiration: '60000', 'amqp-message-id': 'm1',
      timestamp: '1700000000', type: 't', 'app-id': 'app', 'user-id': 'u',
      seq: '3', ok: 'true', text: 'x', nested: '{"a":1}',
    })
    const back = propertiesOf({ ...headers, destination: '/exchange/x/k', 'message-id': 'T_1', subscription: 's', ack: 'a1', redelivered: 'false' })
    expect(back).toEqual({ ...properties, headers: { seq: '3', ok: 'true', text: 'x', nested: '{"a":1}' } })
  })

  it('never lets a message header pose as a frame header, and a property wins over a header of its name', () => {
    expect(stompHeaders({ headers: { destination: '/queue/evil', receipt: 'x', 'content-type': 'a' }, contentType: 'b' })).toEqual({ 'content-type': 'b' })
    expect(stompHeaders({ deliveryMode: 1 })).toEqual({})
    expect(propertiesOf({ priority: 'high', timestamp: 'soon' })).toEqual({})
  })

  it('bodies: text as text, bytes as bytes, anything else refused', () => {
    expect(stompBody('hi')).toEqual({ body: 'hi' })
    expect(stompBody(new Uint8Array([1, 2]))).toEqual({ binaryBody: new Uint8Array([1, 2]) })
    expect(stompBody(new Uint8Array([9, 1, 2]).subarray(1))).toEqual({ binaryBody: new Uint8Array([1, 2]) })
    expect(stompBody(new Uint8Array([1]).buffer)).toEqual({ binaryBody: new Uint8Array([1]) })
    expect(stompBody({ a: 1 })).toBeUndefined()
    expect(isTextContent('text/plain')).toBe(true)
    expect(isTextContent('application/json')).toBe(true)
    expect(isTextContent('application/vnd.x+json')).toBe(true)
    expect(isTextContent('application/octet-stream')).toBe(false)
  })

  it('destinations and routing keys', () => {
    expect(exchangeDestination('amq.topic', 'a.b')).toBe('/exchange/amq.topic/a.b')
    expect(exchangeDestination('', 'jobs')).toBe('/queue/jobs')
    expect(sourceDestination({ queue: 'q' })).toBe('/amq/queue/q')
    expect(sourceDestination({ exchange: 'x', bindingKey: 'a.*', queueName: 'n' })).toBe('/exchange/x/a.*')
    expect(routingKeyOf('/exchange/amq.topic/a.b.c')).toBe('a.b.c')
    expect(routingKeyOf('/queue/jobs')).toBe('jobs')
    expect(routingKeyOf('/amq/queue/jobs')).toBe('jobs')
    expect(routingKeyOf('/topic/t')).toBe('t')
    expect(routingKeyOf(undefined)).toBe('')
  })
})

describe('remote errors and URLs', () => {
  it('classifies RabbitMQ ERROR frames', () => {
    expect(errorCode({ headers: { message: 'Bad CONNECT' }, body: "Access refused for user 'x'" }, false)).toBe('ACCESS_REFUSED')
    expect(errorCode({ headers: { message: 'not_found' }, body: "NOT_FOUND - no queue 'q' in vhost '/'" }, true)).toBe('NOT_FOUND')
    expect(errorCode({ headers: { message: 'precondition_failed' }, body: 'inequivalent arg' }, true)).toBe('PRECONDITION_FAILED')
    expect(errorCode({ headers: {}, body: '' }, true)).toBe('REMOTE_ERROR')
  })

  it('never shows user info in a URL', () => {
    expect(publicUrl('wss://user:pw@example.test/ws')).toBe('wss://example.test/ws')
    expect(publicUrl('not a url')).toBe('(invalid URL)')
  })
})

describe('link spec guards', () => {
  it('accepts valid specs and explains invalid ones', () => {
    expect(shovelSpecProblem({ name: 's', remote: 'r', queue: 'q', exchange: '' })).toBeUndefined()
    expect(shovelSpecProblem({ name: 's', remote: 'r', queue: '', exchange: 'x' })).toMatch(/queue/)
    expect(shovelSpecProblem({ name: 's', remote: 'r', queue: 'q', exchange: 'x', prefetch: 0 })).toMatch(/prefetch/)
    expect(shovelSpecProblem(null)).toMatch(/object/)
    expect(federationSpecProblem({ name: 'f', remote: 'r', source: { queue: 'q' }, exchange: 'x' })).toBeUndefined()
    expect(federationSpecProblem({ name: 'f', remote: 'r', source: { exchange: 'x', bindingKey: '#' }, exchange: 'x' })).toMatch(/queueName/)
  })

  it('parses status notices and drops anything else', () => {
    expect(parseRemotesNotice({ op: 'remotes?' })).toEqual({ op: 'remotes?' })
    expect(parseRemotesNotice({ op: 'remotes', remotes: [{ name: 'u', state: 'open', links: [] }] })?.op).toBe('remotes')
    expect(parseRemotesNotice({ op: 'remotes', remotes: [{ name: 'u', state: 'exploded', links: [] }] })).toBeNull()
    expect(parseRemotesNotice('x')).toBeNull()
  })
})
