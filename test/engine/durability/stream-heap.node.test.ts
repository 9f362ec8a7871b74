/**
 * A stream queue's memory is bounded whatever the log's length: 1,000,000 messages appended,
 * then replayed from the first by a consumer, keep the broker's heap under 64 MB. The disk is
 * a storage that keeps stream entries outside the measured heap (it only remembers how many
 * there are and rebuilds each entry from its offset when read), so the heap measured is the
 * broker's own.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, test } from 'vitest'
import { Broker } from '../../../src/engine/broker.js'
import type { ServerEvent } from '../../../src/protocol/frames.js'
import { MemoryStorage } from '../../../src/storage/memory.js'
import type { Durability, Storage, StorageOp, StoredStreamEntry, StoredStreamSegment } from '../../../src/storage/types.js'
import { FakeClock } from '../../../src/testing/fake-clock.js'

const heapUsed = (() => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  return () => {
    gc()
    gc()
    return process.memoryUsage().heapUsed
  }
})()

/** Definitions in a MemoryStorage; stream entries as a count, rebuilt from their offset on read. */
class CompactStreamDisk implements Storage {
  readonly definitions = new MemoryStorage()
  readonly segments = new Map<number, StoredStreamSegment>()
  entries = 0
  open() { return this.definitions.open() }
  loadDefinitions() { return this.definitions.loadDefinitions() }
  loadMessages(queue: string, afterSeq: number, limit: number) { return this.definitions.loadMessages(queue, afterSeq, limit) }
  countMessages(queue: string) { return this.definitions.countMessages(queue) }
  lastSeq(queue: string) { return this.definitions.lastSeq(queue) }
  close() { return this.definitions.close() }
  async loadStreamSegments(): Promise<StoredStreamSegment[]> {
    return [...this.segments.values()]
  }
  async loadStreamEntries(stream: string, fromOffset: number, limit: number): Promise<StoredStreamEntry[]> {
    const out: StoredStreamEntry[] = []
    for (let offset = fromOffset; offset < this.entries && out.length < limit; offset++) out.push(entry(stream, offset))
    return out
  }
  apply(ops: readonly StorageOp[], durability?: Durability): Promise<void> {
    const rest: StorageOp[] = []
    for (const op of ops) {
      if (op.kind !== 'stream.append') {
        rest.push(op)
        continue
      }
      this.segments.set(op.segment.firstOffset, op.segment)
      this.entries = Math.max(this.entries, op.segment.lastOffset + 1)
    }
    return this.definitions.apply(rest, durability)
  }
}

const entry = (stream: string, offset: number): StoredStreamEntry => ({
  stream, offset, timestamp: 0, exchange: '', routingKey: stream, properties: {}, body: `event ${offset}`, size: 16,
})

describe('stream memory', () => {
  test('heap bound: a 1,000,000-message stream, appended then replayed from first, keeps the broker heap under 64 MB', async () => {
    const disk = new CompactStreamDisk()
    const broker = await Broker.start({ clock: new FakeClock(), storage: disk, brokerId: 'heap' })
    let delivered = 0
    let lastTag = 0
    let nextId = 1
    const waiters = new Map<number, (event: ServerEvent) => void>()
    broker.connect('c', (event) => {
      if (event.op === 'basic.deliver') {
        delivered++
        lastTag = event.deliveryTag
      } else if ((event.op === 'ok' || event.op === 'error') && waiters.has(event.id)) {
        waiters.get(event.id)!(event)
      }
    })
    const call = (cmd: Record<string, unknown>) =>
      new Promise<ServerEvent>((resolve) => {
        const id = nextId++
        waiters.set(id, resolve)
        broker.receive('c', { channel: 1, ...cmd, id } as never)
      })
    await call({ op: 'channel.open' })
    const before = heapUsed()
    await call({ op: 'queue.declare', queue: 'events', durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 160_000 } })
    const body = 'e'.repeat(16)
    let peak = 0
    for (let sent = 0; sent < 1_000_000; sent += 10_000) {
      for (let i = 0; i < 10_000; i++) broker.receive('c', { channel: 1, op: 'basic.publish', exchange: '', routingKey: 'events', properties: {}, body } as never)
      await new Promise((resolve) => setTimeout(resolve, 0))
      if (sent % 200_000 === 0) peak = Math.max(peak, heapUsed() - before)
    }
    await call({ op: 'basic.qos', prefetchCount: 1000 })
    await call({ op: 'basic.consume', queue: 'events', arguments: { 'x-stream-offset': 'first' } })
    while (delivered < 1_000_000) {
      const seen = delivered
      broker.receive('c', { channel: 1, op: 'basic.ack', deliveryTag: lastTag, multiple: true } as never)
      for (let i = 0; i < 100 && delivered === seen; i++) await new Promise((resolve) => setTimeout(resolve, 0))
      if (delivered === seen) throw new Error(`the replay stalled at ${delivered}`)
      if (delivered % 200_000 < 1000) peak = Math.max(peak, heapUsed() - before)
    }
    peak = Math.max(peak, heapUsed() - before)
    expect(disk.entries).toBe(1_000_000)
    expect(disk.segments.size).toBe(100)
    expect(peak).toBeLessThan(64 * 1024 * 1024)
    console.log(`stream heap: ${(peak / 1024 / 1024).toFixed(1)} MB above an empty broker, peak over 1,000,000 appended and replayed`)
    await broker.stop()
  }, 300_000)
})
