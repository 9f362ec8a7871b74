// No silent downgrade: a broker host that cannot open IndexedDB still serves, but says so in
// every welcome (conn.storage.broker) and nacks persistent messages for durable queues with
// STORAGE_UNAVAILABLE; an app that chose memory storage gets what it chose. Runs the elected
// host (the same startEngine as the SharedWorker host) over Node's BroadcastChannel.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection, PublishNackError, Queue, StorageUnavailableError } from '../../src/index.js'
import { createElectedBroker, type ElectedHostOptions } from '../../src/hosts/elected.js'
import { connectShared } from '../../src/transport/shared.js'
import { FakeLocks } from '../transport/fake-locks.js'

const cleanup: Array<() => unknown> = []
const realIndexedDB = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB')
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
  if (realIndexedDB) Object.defineProperty(globalThis, 'indexedDB', realIndexedDB)
  else delete (globalThis as { indexedDB?: unknown }).indexedDB
})

let vhostSeq = 0

/** Hosts a vhost with these options and connects one client to it. */
async function hostAndConnect(options: Omit<ElectedHostOptions, 'locks'>) {
  const locks = new FakeLocks()
  const vhost = `storage-state-${process.pid}-${++vhostSeq}`
  const candidate = createElectedBroker(vhost, { ...options, locks: locks.context(), management: false })
  cleanup.push(() => candidate.stop())
  const { broker } = await candidate.elected
  const clientLocks = locks.context()
  const conn = await Connection.open({
    url: `shared://${vhost}`,
    connectTimeout: 3000,
    requestTimeout: 3000,
    host: 'elected',
    transport: (o) => connectShared({ ...o, locks: clientLocks, elect: async () => {} }),
  })
  cleanup.push(() => conn.close())
  return { broker, conn }
}

/** IndexedDB as a browser refuses it to an opaque origin: open() throws a SecurityError. */
function refuseIndexedDB(): void {
  Object.defineProperty(globalThis, 'indexedDB', {
    configurable: true,
    value: {
      open() {
        throw new DOMException('access to the Indexed Database API is denied in this context', 'SecurityError')
      },
    },
  })
}

describe('the storage state of a broker host', () => {
  it('IndexedDB refused: the welcome says unavailable, persistent publishes to durable queues are nacked, the rest works', async () => {
    refuseIndexedDB()
    const loud = vi.spyOn(console, 'error').mockImplementation(() => {})
    cleanup.push(() => loud.mockRestore())
    const { broker, conn } = await hostAndConnect({})
    expect(loud).toHaveBeenCalledWith(expect.stringMatching(/STORAGE_UNAVAILABLE/), expect.anything())
    expect(broker.storageState).toBe('unavailable')
    expect(conn.storage.broker).toBe('unavailable')

    const durable = new Queue<string>('orders', { durable: true })
    const scratch = new Queue<string>('scratch', { durable: false })
    const producer = conn.producer<string>()
    const nack = await producer.publish('kept?', { routingKey: 'orders', declare: [durable] }).catch((e: unknown) => e)
    expect(nack).toBeInstanceOf(StorageUnavailableError)
    expect(nack).toBeInstanceOf(PublishNackError)
    expect(nack).toMatchObject({ code: 'STORAGE_UNAVAILABLE', name: 'StorageUnavailableError' })
    // Nothing was taken: the queue is empty, and the connection and channel live on.
    expect((await conn.defaultChannel.queueDeclare({ queue: 'orders', passive: true })).messageCount).toBe(0)

    // Transient messages to durable queues, and anything to non-durable queues, still go.
    await producer.publish('transient', { routingKey: 'orders', deliveryMode: 'transient' })
    await producer.publish('persistent', { routingKey: 'scratch', declare: [scratch] })
    expect((await conn.defaultChannel.queueDeclare({ queue: 'orders', passive: true })).messageCount).toBe(1)
    expect((await conn.defaultChannel.queueDeclare({ queue: 'scratch', passive: true })).messageCount).toBe(1)
  })

  it('no IndexedDB at all is unavailable too', async () => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB
    const { conn } = await hostAndConnect({ storage: 'indexeddb' })
    expect(conn.storage.broker).toBe('unavailable')
    const queue = new Queue<string>('jobs', { durable: true })
    await expect(conn.producer<string>().publish('x', { routingKey: 'jobs', declare: [queue] })).rejects.toBeInstanceOf(StorageUnavailableError)
  })

  it("storage: 'memory' is the app's explicit choice: reported, and persistent publishes are confirmed", async () => {
    refuseIndexedDB()
    const { broker, conn } = await hostAndConnect({ storage: 'memory' })
    expect(broker.storageState).toBe('memory')
    expect(conn.storage.broker).toBe('memory')
    const queue = new Queue<string>('jobs', { durable: true })
    await conn.producer<string>().publish('x', { routingKey: 'jobs', declare: [queue] })
    expect((await conn.defaultChannel.queueDeclare({ queue: 'jobs', passive: true })).messageCount).toBe(1)
  })
})
