// The order of a link's start: the broker is started at once, the hello waits for the client lock.
import { expect, it } from 'vitest'
import { ClientLink, type OpenWire } from '../../src/transport/client-link.js'
import { holdLock } from '../../src/transport/locks.js'
import { clientLockName } from '../../src/transport/names.js'
import { FakeLocks } from './fake-locks.js'
import { until } from './helpers.js'

it('starts the broker while its client lock is still to be granted, and says hello only once it holds it', async () => {
  const vhost = 'link-start'
  const clientId = crypto.randomUUID()
  const locks = new FakeLocks()
  // Someone else holds the client's lock for now, so its grant waits.
  const releaseOther = await holdLock(locks.context(), clientLockName(vhost, clientId))
  const events: string[] = []
  const openWire: OpenWire = () => ({ post: () => void events.push('hello'), close() {} })
  const link = new ClientLink({
    vhost,
    clientId,
    connectTimeout: 5000,
    openWire,
    locks: locks.context(),
    lifecycle: null,
    kind: 'node',
    ensureBroker: () => void events.push('ensureBroker'),
  })
  const started = link.start().catch(() => undefined)
  await until(() => events.length > 0, 2000, 'the broker to be started')
  await Promise.resolve()
  expect(events).toEqual(['ensureBroker'])
  releaseOther()
  await until(() => events.includes('hello'), 2000, 'the hello once the lock is granted')
  expect(events[0]).toBe('ensureBroker')
  expect(locks.held()).toContain(clientLockName(vhost, clientId))
  await link.close()
  await started
})
