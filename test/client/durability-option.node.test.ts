// Strict durability as a connection (or per-publish) option: the broker then commits that
// publisher's persistent messages with a flushed ('strict') IndexedDB transaction.
import { afterEach, describe, expect, it } from 'vitest'
import { Queue } from '../../src/index.js'
import { parseCommand } from '../../src/protocol/guards.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import type { Durability, StorageOp } from '../../src/storage/types.js'
import { setup, type Setup } from './helpers.js'

/** A MemoryStorage that remembers the durability each message write asked for. */
class RecordingStorage extends MemoryStorage {
  readonly messageWrites: Array<Durability | undefined> = []
  override apply(ops: readonly StorageOp[], durability?: Durability): Promise<void> {
    if (ops.some((op) => op.kind === 'message.put')) this.messageWrites.push(durability)
    return super.apply(ops, durability)
  }
}

describe('durability option', () => {
  let env: Setup
  let storage: RecordingStorage
  afterEach(() => env.close())

  const start = async () => {
    storage = new RecordingStorage()
    env = await setup({ storage })
  }

  it("a connection opened with durability 'strict' has its persistent publishes written strict", async () => {
    await start()
    const conn = await env.connect({ durability: 'strict' })
    expect(conn.durability).toBe('strict')
    await conn.producer().publish('x', { routingKey: 'jobs', declare: [new Queue('jobs', { durable: true })] })
    expect(storage.messageWrites).toEqual(['strict'])
  })

  it('the default stays relaxed, and one publish can ask for strict', async () => {
    await start()
    const conn = await env.connect()
    const jobs = new Queue('jobs', { durable: true })
    await conn.producer().publish('a', { routingKey: 'jobs', declare: [jobs] })
    await conn.producer().publish('b', { routingKey: 'jobs', durability: 'strict' })
    expect(storage.messageWrites).toEqual(['relaxed', 'strict'])
  })

  it('the frame field is validated: relaxed or strict only', () => {
    const base = { op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: {}, body: 1 }
    expect(parseCommand({ ...base, durability: 'strict' })).toMatchObject({ ok: true, frame: { durability: 'strict' } })
    const bad = parseCommand({ ...base, durability: 'fsync' })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.message).toContain('durability')
  })
})
