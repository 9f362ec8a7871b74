/**
 * The in-process host: a broker living in this very context. `memory://` uses one
 * process-global broker per vhost (no storage, real time); `createInProcessBroker` makes a
 * private one with an injected clock and storage, and can restart it (for warren/testing).
 */
import { Broker, type BrokerOptions } from '../engine/broker.js'
import type { Clock } from '../engine/clock.js'
import type { Storage } from '../storage/types.js'
import { createInProcessTransport, type InProcessOptions } from '../transport/in-process.js'
import type { Connector } from '../transport/link.js'
import { systemClock } from './system-clock.js'

const shared = new Map<string, Promise<Broker>>()

const memory = createInProcessTransport((vhost) => {
  let broker = shared.get(vhost)
  if (!broker) {
    broker = Broker.start({ vhost, clock: systemClock })
    shared.set(vhost, broker)
    broker.catch(() => shared.delete(vhost))
  }
  return broker
})

/** The `memory://` connector: every connection of this context shares one broker per vhost. */
export const connector: Connector = memory.connector

export interface InProcessBrokerOptions extends InProcessOptions {
  /** Default: real time. Pass a fake clock to drive TTLs and expiry from a test. */
  clock?: Clock
  /** Default: none (nothing survives a restart). */
  storage?: Storage
  vhost?: string
  durability?: BrokerOptions['durability']
}

export interface InProcessBrokerHandle {
  /** The running broker (a new object after each restart). */
  readonly broker: Broker
  /** Connects clients to this broker: `Connection.open({ transport: handle.connector })`. */
  readonly connector: Connector
  /**
   * Stops the broker and starts a new one on the same storage (a new epoch when there is
   * storage). Connected clients see their link go down and come back, as after a
   * SharedWorker restart.
   */
  restart(): Promise<Broker>
  /** Disconnects every client and stops the broker. */
  stop(): Promise<void>
}

export const createInProcessBroker = async (options: InProcessBrokerOptions = {}): Promise<InProcessBrokerHandle> => {
  const brokerOptions: BrokerOptions = {
    clock: options.clock ?? systemClock,
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.vhost ? { vhost: options.vhost } : {}),
    ...(options.durability ? { durability: options.durability } : {}),
  }
  let broker = await Broker.start(brokerOptions)
  let stopped = false
  const transport = createInProcessTransport(() => {
    if (stopped) throw new Error('the in-process broker was stopped')
    return broker
  }, options.clone === undefined ? {} : { clone: options.clone })
  return {
    get broker() {
      return broker
    },
    connector: transport.connector,
    async restart() {
      transport.dropAll()
      await broker.stop()
      broker = await Broker.start(brokerOptions)
      await transport.reconnectAll()
      return broker
    },
    async stop() {
      stopped = true
      transport.dropAll()
      await broker.stop()
    },
  }
}
