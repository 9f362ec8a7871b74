// The bare baselines' SharedWorker: a relay with no broker in it (tab → worker → tab, one
// post per message or a batch per post, over MessagePorts or BroadcastChannel 'in'/'out'),
// and raw IndexedDB puts in the same kind of context the broker writes from.
import { openDB, type IDBPDatabase } from 'idb'

interface Scope {
  addEventListener(type: 'connect', listener: (event: MessageEvent) => void): void
}
const scope = globalThis as unknown as Scope

const ports = new Map<string, MessagePort>()
const outs = new Map<string, BroadcastChannel>()
const outOf = (role: string) => {
  let channel = outs.get(role)
  if (!channel) outs.set(role, (channel = new BroadcastChannel(`relay-out-${role}`)))
  return channel
}

// Every message is deserialised here and serialised again, as a broker would.
const inbox = new BroadcastChannel('relay-in')
inbox.onmessage = (event) => {
  const { to, data } = event.data as { to: string; data: unknown }
  outOf(to).postMessage(data)
}

scope.addEventListener('connect', (event) => {
  const port = event.ports[0]!
  port.onmessage = async (message) => {
    const data = message.data as { op: string; [key: string]: unknown }
    if (data.op === 'relay') ports.get(data.to as string)?.postMessage(data.data)
    else if (data.op === 'hello') ports.set(data.role as string, port)
    else if (data.op === 'idb') port.postMessage({ op: 'idb-result', result: await idbRun(data as unknown as IdbJob) })
  }
  port.postMessage({ op: 'ready' })
})

interface IdbJob {
  name: string
  perTx: number
  records: number
  budgetMs: number
  record: unknown
}

/** Puts `records` copies of `record` (keyed by seq) `perTx` per transaction, sequentially; stops at the budget. */
async function idbRun(job: IdbJob): Promise<{ records: number; ms: number }> {
  await deleteDb(job.name)
  const db: IDBPDatabase = await openDB(job.name, 1, { upgrade: (d) => d.createObjectStore('m', { keyPath: 'seq' }) })
  const started = performance.now()
  let seq = 0
  while (seq < job.records && performance.now() - started < job.budgetMs) {
    const tx = db.transaction('m', 'readwrite')
    for (let i = 0; i < job.perTx && seq < job.records; i++) void tx.store.put({ ...(job.record as object), seq: seq++ })
    await tx.done
  }
  const ms = performance.now() - started
  db.close()
  await deleteDb(job.name)
  return { records: seq, ms }
}

const deleteDb = (name: string) =>
  new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase(name)
    request.onsuccess = request.onerror = request.onblocked = () => resolve()
  })
