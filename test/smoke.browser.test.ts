// Proves vitest browser mode really runs in the engine its project names (Chromium, Firefox
// or WebKitGTK) with the platform pieces Warren needs.
import { describe, expect, it } from 'vitest'
import { server } from 'vitest/browser'

/** What each engine's user agent says, and what it must not say. */
const userAgents: Record<string, { is: RegExp; isNot: RegExp }> = {
  chromium: { is: /Chrom(e|ium)\//, isNot: /Firefox\// },
  firefox: { is: /Gecko\/\d+ Firefox\/\d+/, isNot: /Chrom|AppleWebKit/ },
  safari: { is: /AppleWebKit\/[\d.]+ .*Safari\//, isNot: /Chrom|Firefox/ },
}

describe('browser smoke', () => {
  it(`runs in a real ${server.browser} page`, () => {
    const expected = userAgents[server.browser]
    expect(expected, `no user agent known for ${server.browser}`).toBeDefined()
    expect(navigator.userAgent).toMatch(expected!.is)
    expect(navigator.userAgent).not.toMatch(expected!.isNot)
    expect(typeof SharedWorker).toBe('function')
  })

  it('opens IndexedDB and reads back a record', async () => {
    const name = `smoke-${crypto.randomUUID()}`
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, 1)
      req.onupgradeneeded = () => req.result.createObjectStore('kv')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite')
      tx.objectStore('kv').put({ n: 1 }, 'a')
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    const value = await new Promise((resolve, reject) => {
      const req = db.transaction('kv').objectStore('kv').get('a')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    expect(value).toEqual({ n: 1 })
    db.close()
    indexedDB.deleteDatabase(name)
  })

  it('round-trips a BroadcastChannel message between two channel objects', async () => {
    const name = `smoke-${crypto.randomUUID()}`
    const a = new BroadcastChannel(name)
    const b = new BroadcastChannel(name)
    b.onmessage = (event) => b.postMessage({ pong: event.data.ping })
    const reply = new Promise((resolve) => { a.onmessage = (event) => resolve(event.data) })
    a.postMessage({ ping: 42 })
    expect(await reply).toEqual({ pong: 42 })
    a.close()
    b.close()
  })
})
