// Shared setup for client tests: a private in-process broker per test and a connection to it.
import { Connection, type ConnectionOptions } from '../../src/client/index.js'
import { createInProcessBroker, type InProcessBrokerHandle, type InProcessBrokerOptions } from '../../src/hosts/in-process.js'

export interface Setup {
  broker: InProcessBrokerHandle
  connect(options?: Omit<ConnectionOptions, 'transport'>): Promise<Connection>
  close(): Promise<void>
}

export const setup = async (options: InProcessBrokerOptions = {}): Promise<Setup> => {
  const broker = await createInProcessBroker(options)
  const connections: Connection[] = []
  return {
    broker,
    async connect(connectOptions = {}) {
      const conn = await Connection.open({ requestTimeout: 2000, ...connectOptions, transport: broker.connector })
      connections.push(conn)
      return conn
    },
    async close() {
      await Promise.all(connections.map((c) => c.close()))
      await broker.stop()
    },
  }
}

/** Resolves after pending microtasks and one macrotask (frames travel a microtask later). */
export const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

export interface Video {
  name: string
  size: number
}
