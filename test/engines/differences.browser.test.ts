// What differs between the engines Warren is tested in, asserted per engine so a change in
// either the engine or Warren shows up here. `conn.storage` goes through StorageAccess.
import { describe, expect, it } from 'vitest'
import { server } from 'vitest/browser'
import { WarrenError } from '../../src/client/errors.js'
import { StorageAccess } from '../../src/client/storage-access.js'

// Debian's WebKitGTK builds ship without the Storage API (`navigator.storage`).
const hasStorageManager = server.browser !== 'safari'

describe(`engine differences (${server.browser})`, () => {
  it(`navigator.storage is ${hasStorageManager ? 'present' : 'missing'}`, () => {
    expect('storage' in navigator).toBe(hasStorageManager)
  })

  it.runIf(hasStorageManager)('conn.storage.persist() resolves with whether the origin is persistent; estimate() reports a quota', async () => {
    // Firefox would prompt: its test profile grants through dom.storageManager.prompt.testing.
    const storage = new StorageAccess()
    expect(typeof (await storage.persist())).toBe('boolean')
    const { usage, quota } = await storage.estimate()
    expect(usage).toBeGreaterThanOrEqual(0)
    expect(quota).toBeGreaterThan(0)
  })

  it.runIf(!hasStorageManager)('without navigator.storage, persist() rejects with NOT_SUPPORTED, persisted() is false and estimate() is unknown', async () => {
    const storage = new StorageAccess()
    const error = await storage.persist().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WarrenError)
    expect((error as WarrenError).code).toBe('NOT_SUPPORTED')
    expect(await storage.persisted()).toBe(false)
    expect(await storage.estimate()).toEqual({ usage: undefined, quota: undefined })
  })

  it('has the platform pieces the shared broker needs: SharedWorker, Web Locks with query(), BroadcastChannel, IndexedDB', async () => {
    expect(typeof SharedWorker).toBe('function')
    expect(typeof BroadcastChannel).toBe('function')
    expect(typeof indexedDB.open).toBe('function')
    expect(await navigator.locks.request(`probe-${crypto.randomUUID()}`, async () => 'held')).toBe('held')
    expect(typeof navigator.locks.query).toBe('function')
  })
})
