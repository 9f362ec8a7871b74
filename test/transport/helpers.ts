// Node-side rig for link tests: a broker host on Node's BroadcastChannel with an in-memory
// lock manager, and a tiny request/reply client over a Link.
import { expect } from 'vitest'
import { Broker } from '../../src/engine/broker.js'
import { LinkHost, serveBroadcast } from '../../src/hosts/broadcast-host.js'
import { systemClock } from '../../src/hosts/system-clock.js'
import type { ClientCommand, ServerEvent, Welcome } from '../../src/protocol/frames.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import type { Link } from '../../src/transport/link.js'
import { holdLock } from '../../src/transport/locks.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { brokerChannelName, brokerLockName, clientChannelName, clientLockName } from '../../src/transport/names.js'
import { FakeLocks } from './fake-locks.js'

type Cmd = ClientCommand extends infer C ? (C extends ClientCommand ? Omit<C, 'id'> : never) : never

export interface TestHost {
  broker: Broker
  host: LinkHost
  /** The broker context dies: stops listening, its locks are released, nothing is said. */
  kill(): void
}

export async function startHost(locks: FakeLocks, vhost = '/', storage = new MemoryStorage()): Promise<TestHost> {
  const ctx = locks.context()
  await holdLock(ctx, brokerLockName(vhost))
  const broker = await Broker.start({ vhost, clock: systemClock, storage })
  const host = new LinkHost(broker, { vhost, locks: ctx })
  const stop = serveBroadcast(host)
  return {
    broker,
    host,
    kill() {
      stop()
      host.close()
      ctx.kill()
      void broker.stop()
    },
  }
}

/**
 * A client speaking the raw BroadcastChannel wire to a host started by `startHost`: it holds
 * its client lock, says hello, and collects every frame it is sent, so a test can post
 * hand-made batches (`post`) and read exactly what came back (`seen`).
 */
export interface RawClient {
  readonly session: unknown
  readonly seen: Array<Record<string, unknown>>
  post(batch: Record<string, unknown>): void
  close(): void
}

export async function rawClient(locks: FakeLocks, vhost: string, clientId = 'c1'): Promise<RawClient> {
  const release = await holdLock(locks.context(), clientLockName(vhost, clientId))
  const out = new BroadcastChannel(brokerChannelName(vhost))
  const inbox = new BroadcastChannel(clientChannelName(vhost, clientId))
  const seen: Array<Record<string, unknown>> = []
  inbox.onmessage = (event: MessageEvent<Array<Record<string, unknown>>>) => seen.push(...event.data)
  const close = () => {
    out.close()
    inbox.close()
    release()
  }
  try {
    out.postMessage({ from: clientId, frames: [{ op: 'hello', clientId, protocol: PROTOCOL_VERSION, kind: 'node' }] })
    await expect.poll(() => seen.some((f) => f.op === 'welcome')).toBe(true)
  } catch (error) {
    close()
    throw error
  }
  const session = seen.find((f) => f.op === 'welcome')!.session
  return { session, seen, post: (batch) => out.postMessage({ from: clientId, session, ...batch }), close }
}

export interface TestClient {
  link: Link
  events: ServerEvent[]
  welcomes: Welcome[]
  downs: Error[]
  call(cmd: Cmd): Promise<ServerEvent>
  cast(cmd: Cmd): void
}

export function rig(link: Link): TestClient {
  let next = 1
  const pending = new Map<number, (frame: ServerEvent) => void>()
  const events: ServerEvent[] = []
  const welcomes: Welcome[] = []
  const downs: Error[] = []
  link.listen({
    frame(frame) {
      // A ranged ok (consecutive confirms) answers each id of the range.
      if (frame.op === 'ok' && frame.through !== undefined) {
        for (let id = frame.id; id <= frame.through; id++) {
          const single: ServerEvent = { op: 'ok', id, result: frame.result }
          const waiter = pending.get(id)
          if (waiter) {
            waiter(single)
            pending.delete(id)
          } else events.push(single)
        }
        return
      }
      if ((frame.op === 'ok' || frame.op === 'error') && pending.has(frame.id)) {
        pending.get(frame.id)!(frame)
        pending.delete(frame.id)
      } else events.push(frame)
    },
    welcome: (w) => welcomes.push(w),
    down: (e) => downs.push(e),
  })
  return {
    link,
    events,
    welcomes,
    downs,
    call(cmd) {
      const id = next++
      return new Promise((resolve) => {
        pending.set(id, resolve)
        link.send({ ...cmd, id } as ClientCommand)
      })
    },
    cast(cmd) {
      link.send(cmd as ClientCommand)
    },
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function until(check: () => boolean, timeout = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}
