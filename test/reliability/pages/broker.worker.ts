// The broker worker of reliability runs: the shipped SharedWorker host (warren/worker) on
// IndexedDB, with the storage wrapped so a test can make write batches fail, and a debug
// channel (this test build only) to arm those failures and to read the broker's counters.
import { IndexedDBStorage } from '../../../src/storage/indexeddb/index.js'
import { parseSharedWorkerName } from '../../../src/transport/names.js'
import { startBroker } from '../../../src/worker.js'
import { FaultyStorage } from './faulty-storage.js'
import { tallyHost } from './tally.js'
import { debugChannelName, type DebugReply, type DebugRequest, type InspectReply } from './workload.js'

let storage: FaultyStorage | undefined
// The resource-bounds runs use vhosts named rel-limit-*: they get small memory limits.
const limited = parseSharedWorkerName((self as unknown as { name: string }).name)?.vhost.startsWith('rel-limit') ?? false
const shared = startBroker({
  storage: (vhost) => (storage = new FaultyStorage(new IndexedDBStorage({ vhost }))),
  ...(limited ? { maxReadyMessages: 5000, maxReadyBytes: 8 * 1024 * 1024 } : {}),
})

void shared.ready.then(({ broker, host }) => {
  const tally = tallyHost(host, broker)
  const debug = new BroadcastChannel(debugChannelName(shared.vhost))
  debug.onmessage = (event: MessageEvent<DebugRequest>) => {
    const request = event.data
    let reply: DebugReply
    if (request.op === 'fail-storage') {
      if (storage) storage.armed += request.batches
      reply = { op: 'done', nonce: request.nonce }
    } else if (request.op === 'heal-storage') {
      if (storage) storage.armed = 0
      reply = { op: 'done', nonce: request.nonce }
    } else {
      const snapshot = broker.inspect()
      const inspect: InspectReply = {
        op: 'inspect',
        nonce: request.nonce,
        epoch: broker.epoch,
        brokerId: broker.brokerId,
        broker: { ...broker.stats },
        host: { ...host.stats },
        sessions: host.sessionCount,
        queues: snapshot.queues.map((q) => ({ name: q.name, ready: q.ready, unacked: q.unacked, consumers: q.consumers.length })),
        exchanges: snapshot.exchanges.length,
        bindings: snapshot.exchanges.reduce((n, e) => n + e.bindings.length, 0),
        clients: snapshot.clients.length,
        storage: { failedBatches: storage?.failedBatches ?? 0, armed: storage?.armed ?? 0 },
        tally: structuredClone(tally),
      }
      reply = inspect
    }
    debug.postMessage(reply)
  }
})
