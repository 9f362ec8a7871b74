import { describe, expect, test } from 'vitest'
import { WarrenError } from '../../src/client/errors.js'
import { StorageAccess } from '../../src/client/storage-access.js'

describe('StorageAccess', () => {
  test('persist, persisted and estimate go to the platform StorageManager', async () => {
    let asked = 0
    const access = new StorageAccess(() => ({
      persist: async () => (++asked, true),
      persisted: async () => asked > 0,
      estimate: async () => ({ usage: 10, quota: 100 }),
    }))
    expect(await access.persisted()).toBe(false)
    expect(await access.persist()).toBe(true)
    expect(await access.persisted()).toBe(true)
    expect(await access.estimate()).toEqual({ usage: 10, quota: 100 })
  })

  test('persist() rejects with NOT_SUPPORTED where the platform has none (workers); the rest degrade', async () => {
    const worker = new StorageAccess(() => ({ estimate: async () => ({ usage: 1, quota: 2 }), persisted: async () => true }))
    const error = await worker.persist().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WarrenError)
    expect((error as WarrenError).code).toBe('NOT_SUPPORTED')
    expect(await worker.estimate()).toEqual({ usage: 1, quota: 2 })
    const none = new StorageAccess(() => undefined)
    expect(await none.persisted()).toBe(false)
    expect(await none.estimate()).toEqual({ usage: undefined, quota: undefined })
  })
})
