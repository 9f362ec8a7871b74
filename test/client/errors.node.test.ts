// Error classes, their codes, and errors rebuilt from the broker's ErrorData.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AccessRefusedError,
  ChannelError,
  ConnectionError,
  Exchange,
  fromErrorData,
  NotFoundError,
  PreconditionFailedError,
  PublishNackError,
  Queue,
  ResourceLockedError,
  TimeoutError,
  WarrenError,
  ConnectionClosedError,
  BrokerUnavailableError,
  ContentDisallowedError,
  SerializerNotInstalledError,
  isRecoverable,
} from '../../src/index.js'
import * as errorClasses from '../../src/client/errors.js'
import * as entry from '../../src/index.js'
import { NoRouteError } from '../../src/client/errors.js'
import { AmqpError, NackError } from '../../src/engine/errors.js'
import { WIRE_ERRORS, wireError, type WireErrorCode } from '../../src/protocol/errors.js'
import { setup, type Setup } from './helpers.js'

describe('fromErrorData', () => {
  it('rebuilds the class named by the broker, with its code and reply code', () => {
    const error = fromErrorData({ name: 'NotFoundError', code: 'NOT_FOUND', message: 'no queue', replyCode: 404, closes: 'channel' })
    expect(error).toBeInstanceOf(NotFoundError)
    expect(error).toBeInstanceOf(ChannelError)
    expect(error).toBeInstanceOf(WarrenError)
    expect(error.code).toBe('NOT_FOUND')
    expect((error as ChannelError).replyCode).toBe(404)
    expect(error.name).toBe('NotFoundError')
    expect(error.message).toBe('no queue')
  })

  it('falls back on the reply code, then on what the error closed', () => {
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', replyCode: 406 })).toBeInstanceOf(PreconditionFailedError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', replyCode: 405 })).toBeInstanceOf(ResourceLockedError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', replyCode: 403 })).toBeInstanceOf(AccessRefusedError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', replyCode: 312 })).toBeInstanceOf(NoRouteError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', replyCode: 320 })).toBeInstanceOf(ConnectionError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', replyCode: 313 })).toBeInstanceOf(ChannelError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', closes: 'channel' })).toBeInstanceOf(ChannelError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '', closes: 'connection' })).toBeInstanceOf(ConnectionError)
    expect(fromErrorData({ name: 'Mystery', code: 'X', message: '' })).toBeInstanceOf(WarrenError)
  })

  it('rebuilds publish nacks and link errors', () => {
    expect(fromErrorData({ name: 'PublishNackError', code: 'NACK', message: 'full' })).toBeInstanceOf(PublishNackError)
    const closed = fromErrorData({ name: 'ConnectionClosedError', code: 'CONNECTION_CLOSED', message: 'down' })
    expect(closed).toBeInstanceOf(ConnectionClosedError)
    expect(isRecoverable(closed)).toBe(true)
    expect(fromErrorData({ name: 'BrokerUnavailableError', code: 'BROKER_UNAVAILABLE', message: '' })).toBeInstanceOf(BrokerUnavailableError)
  })

  it('gives every class a stable code and chains causes', () => {
    const cause = new Error('root')
    const error = new TimeoutError('slow', { cause })
    expect(error.code).toBe('TIMEOUT')
    expect(error.cause).toBe(cause)
    expect(new ContentDisallowedError('x')).toBeInstanceOf(SerializerNotInstalledError)
    expect(new ContentDisallowedError('x').code).toBe('CONTENT_DISALLOWED')
    expect(isRecoverable(new NotFoundError('x'))).toBe(false)
  })
})

describe('the wire table', () => {
  const byName = Object.fromEntries(Object.entries(errorClasses).filter(([, value]) => typeof value === 'function'))

  it.each(Object.entries(WIRE_ERRORS))('%s has a client class with its code, reply code and scope', (code, wire) => {
    const Class = byName[wire.name] as (new (message: string) => WarrenError) | undefined
    expect(Class, `no client class named ${wire.name}`).toBeDefined()
    const data = wireError(code as WireErrorCode, 'why')
    const error = fromErrorData(data)
    expect(error).toBeInstanceOf(Class!)
    expect(error.constructor).toBe(Class)
    expect(error.name).toBe(wire.name)
    expect(error.code).toBe(code)
    expect(error.replyCode).toBe('replyCode' in wire ? wire.replyCode : undefined)
    expect(error.message).toBe('why')
    // Where the class sits says what the broker closed.
    const closes = 'closes' in wire ? wire.closes : undefined
    expect(error instanceof ChannelError).toBe(closes === 'channel')
    expect(error instanceof ConnectionError && !error.recoverable).toBe(closes === 'connection')
    // Built directly, the class carries the same code (and reply code, where it has one).
    const direct = new Class!('x')
    if (!['FRAME_ERROR', 'UNKNOWN_OP'].includes(code)) expect(direct.code).toBe(code)
  })

  it('every error the engine sends comes from the table', () => {
    // The engine's reply codes and nack codes (their types are checked against the table).
    for (const replyCode of [311, 312, 403, 404, 405, 406, 503, 504, 530, 540, 541] as const)
      expect(WIRE_ERRORS).toHaveProperty(new AmqpError(replyCode, 'x').toData().code)
    for (const nack of ['NACK', 'RESOURCE_LIMIT', 'STORAGE_UNAVAILABLE'] as const) expect(new NackError('x', nack).toData().name).toBe(WIRE_ERRORS[nack].name)
  })

  it("the entry's explicit export list names everything errors.ts exports", () => {
    for (const [name, value] of Object.entries(errorClasses)) expect((entry as Record<string, unknown>)[name], name).toBe(value)
  })

  it('no client class of the public API is missing from fromErrorData', () => {
    for (const [name, Class] of Object.entries(byName)) {
      if (!(Class.prototype instanceof Error) && Class !== WarrenError) continue
      const rebuilt = fromErrorData({ name, code: (Class as unknown as { code: string }).code, message: '' })
      expect(rebuilt.constructor, name).toBe(Class)
    }
  })
})

describe('broker errors', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  it('a passive declare of a missing queue rejects with NotFoundError and closes the channel', async () => {
    const conn = await env.connect()
    const channel = await conn.channel()
    const missing = new Queue('nowhere').bind(channel)
    const error = await missing.queueDeclare({ passive: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as NotFoundError).replyCode).toBe(404)
    expect(await channel.closed).toBe(error)
    expect(channel.state).toBe('closed')
    // Later calls reject with the error that closed the channel.
    await expect(channel.queuePurge('x')).rejects.toBe(error)
    // The connection lives on.
    const other = await conn.channel()
    await expect(new Queue('here').bind(other).declare()).resolves.toBe('here')
  })

  it('a redeclare with other properties rejects with PreconditionFailedError', async () => {
    const conn = await env.connect()
    await new Exchange('logs', 'fanout').bind(conn).declare()
    const channel = await conn.channel()
    const error = await new Exchange('logs', 'topic').bind(channel).declare().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreconditionFailedError)
    expect((error as PreconditionFailedError).code).toBe('PRECONDITION_FAILED')
    expect(channel.isOpen).toBe(false)
  })

  it('the default channel reopens transparently after an error closed it', async () => {
    const conn = await env.connect()
    const first = conn.defaultChannel
    await expect(new Queue('missing').bind(conn).queueDeclare({ passive: true })).rejects.toBeInstanceOf(NotFoundError)
    expect(first.isOpen).toBe(false)
    await expect(new Queue('fine').bind(conn).declare()).resolves.toBe('fine')
    expect(conn.defaultChannel).not.toBe(first)
  })

  it('pending requests of a channel closed by an error reject with that error', async () => {
    const conn = await env.connect()
    const channel = await conn.channel()
    const failing = channel.queueDeclare({ queue: 'q', passive: true })
    const after = channel.queueDeclare({ queue: 'q2' })
    const error = await failing.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    await expect(after).rejects.toBe(error)
  })
})
