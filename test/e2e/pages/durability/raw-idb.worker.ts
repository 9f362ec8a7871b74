// The raw primitive the broker's persistence is compared with: batched IndexedDB puts of
// small records, one readwrite transaction per batch (relaxed durability, as the broker's
// default), in a worker like the broker's.
interface Job {
  records: number
  batch: number
}

function open(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1)
    request.onupgradeneeded = () => request.result.createObjectStore('messages', { keyPath: ['queue', 'seq'] })
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

async function run({ records, batch }: Job): Promise<{ records: number; batch: number; ms: number; perSecond: number }> {
  const name = `raw-bench-${batch}-${Math.random().toString(36).slice(2)}`
  const db = await open(name)
  const started = performance.now()
  for (let from = 0; from < records; from += batch) {
    const tx = db.transaction('messages', 'readwrite', { durability: 'relaxed' })
    const store = tx.objectStore('messages')
    for (let seq = from; seq < Math.min(records, from + batch); seq++)
      store.put({ queue: 'bench', seq, exchange: '', routingKey: 'bench', properties: { deliveryMode: 2, contentType: 'application/json' }, body: `{"n":${seq}}`, size: 8, redelivered: false, deliveryCount: 0 })
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onabort = () => reject(tx.error)
    })
  }
  const ms = performance.now() - started
  db.close()
  indexedDB.deleteDatabase(name)
  return { records, batch, ms, perSecond: (records / ms) * 1000 }
}

self.onmessage = (event: MessageEvent<Job>) => {
  run(event.data).then(
    (result) => self.postMessage({ result }),
    (error: unknown) => self.postMessage({ error: String(error) }),
  )
}
