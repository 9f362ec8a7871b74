// The SharedWorker host's start, in Node: the worker scope is stubbed (name, 'connect'
// listener), the locks are the fake manager with a query() over what it holds.
import { afterAll, expect, it } from 'vitest'
import { startSharedWorkerBroker } from '../../src/hosts/shared-worker.js'
import { clientChannelName, clientLockName, sharedWorkerName } from '../../src/transport/names.js'
import { FakeLocks } from '../transport/fake-locks.js'

const scope = globalThis as unknown as { name?: string; addEventListener?: unknown }
const saved = { name: scope.name, addEventListener: scope.addEventListener }
afterAll(() => Object.assign(scope, saved))

it('tells every client alive when it starts that its session is over (asked while the engine starts)', async () => {
  const vhost = 'start-takeover'
  scope.name = sharedWorkerName(vhost)
  scope.addEventListener = () => {}
  const fake = new FakeLocks()
  const context = fake.context()
  // Clients of a broker that died: they hold their client locks for life.
  for (const id of ['c1', 'c2']) void context.request(clientLockName(vhost, id), {}, () => new Promise(() => {}))
  const locks = { request: context.request, query: async () => ({ held: fake.held().map((name) => ({ name })) }) }
  const heard = ['c1', 'c2'].map(
    (id) =>
      new Promise<unknown>((resolve) => {
        const channel = new BroadcastChannel(clientChannelName(vhost, id))
        channel.onmessage = (event) => {
          resolve(event.data)
          channel.close()
        }
      }),
  )
  const started = startSharedWorkerBroker({ storage: 'memory', locks })
  const { broker } = await started.ready
  expect(await Promise.all(heard)).toEqual([
    [{ op: 'unknown-session', clientId: 'c1', epoch: broker.epoch }],
    [{ op: 'unknown-session', clientId: 'c2', epoch: broker.epoch }],
  ])
  await started.stop()
  context.kill()
})
