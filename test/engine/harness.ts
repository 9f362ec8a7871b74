import { Broker } from '../../src/engine/broker.js'
import type { ClientCommand, ServerEvent } from '../../src/protocol/frames.js'
import type { Storage } from '../../src/storage/types.js'
import { FakeClock } from '../../src/testing/fake-clock.js'

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never
export type Cmd = DistributiveOmit<ClientCommand, 'id' | 'channel'> & { channel?: number }

/** Drives a Broker directly: one fake client per `client()`, replies awaited by id. */
export async function startBroker(options: { storage?: Storage; clock?: FakeClock } = {}) {
  const clock = options.clock ?? new FakeClock()
  const broker = await Broker.start({ clock, storage: options.storage, brokerId: 'test' })
  let clients = 0
  const client = (id = `client-${++clients}`) => {
    const events: ServerEvent[] = []
    const waiters = new Map<number, (event: ServerEvent) => void>()
    let nextId = 1
    broker.connect(id, (event) => {
      if ((event.op === 'ok' || event.op === 'error') && waiters.has(event.id)) {
        waiters.get(event.id)!(event)
        waiters.delete(event.id)
      }
      events.push(event)
    })
    /** Sends a command and resolves with its reply event (ok or error). */
    const call = (cmd: Cmd): Promise<ServerEvent> => {
      const id = nextId++
      const promise = new Promise<ServerEvent>((resolve) => waiters.set(id, resolve))
      broker.receive(id_, { channel: 1, ...cmd, id })
      return promise
    }
    const id_ = id
    /** Sends a command without asking for a reply. */
    const cast = (cmd: Cmd) => broker.receive(id_, { channel: 1, ...cmd })
    /** Sends and expects ok; returns the result. */
    const ok = async <T = any>(cmd: Cmd): Promise<T> => {
      const reply = await call(cmd)
      if (reply.op !== 'ok') throw new Error(`expected ok for ${cmd.op}, got ${JSON.stringify(reply)}`)
      return reply.result as T
    }
    /** Sends and expects an error; returns the error data. */
    const fails = async (cmd: Cmd) => {
      const reply = await call(cmd)
      if (reply.op !== 'error') throw new Error(`expected error for ${cmd.op}, got ${JSON.stringify(reply)}`)
      return reply.error
    }
    const deliveries = (channel?: number) =>
      events.filter((e): e is Extract<ServerEvent, { op: 'basic.deliver' }> => e.op === 'basic.deliver' && (channel === undefined || e.channel === channel))
    const of = <Op extends ServerEvent['op']>(op: Op) => events.filter((e): e is Extract<ServerEvent, { op: Op }> => e.op === op)
    return { id, events, call, cast, ok, fails, deliveries, of, open: (channel = 1) => ok({ op: 'channel.open', channel }) }
  }
  /** Lets queued microtasks (deliveries after consume-ok, storage writes) run. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
  }
  return { broker, clock, client, settle }
}
