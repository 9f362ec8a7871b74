/**
 * The `warren/testing` entry: brokers you control from a test. An in-process broker with an
 * injected clock and storage (restartable, to simulate a SharedWorker restart), memory storage,
 * and a fake clock that moves only when told to.
 */
export { FakeClock } from './fake-clock.js'
export { MemoryStorage } from '../storage/memory.js'
export { createInProcessBroker } from '../hosts/in-process.js'
export type { InProcessBrokerOptions, InProcessBrokerHandle } from '../hosts/in-process.js'
export { Broker } from '../engine/broker.js'
export type { BrokerOptions, BrokerSnapshot } from '../engine/broker.js'
