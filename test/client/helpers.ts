// Shared setup for client tests: a private in-process broker per test and a connection to it.
import { Connection, type ConnectionOptions } from '../../src/index.js'
import type { ClientCommand } from '../../src/protocol/frames.js'
import type { Connector } from '../../src/transport/link.js'
import { createInProcessBroker, type InProcessBrokerHandle, type InProcessBrokerOptions } from '../../src/hosts/in-process.js'

export interface Setup {
  broker: InProcessBrokerHandle
  connect(options?: ConnectionOptions): Promise<Connection>
  close(): Promise<void>
}

export const setup = async (options: InProcessBrokerOptions = {}): Promise<Setup> => {
  const broker = await createInProcessBroker(options)
  const connections: Connection[] = []
  return {
    broker,
    async connect(connectOptions = {}) {
      const conn = await Connection.open({ requestTimeout: 2000, transport: broker.connector, ...connectOptions })
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

/** Wraps a connector so a test can see every frame the client sends. */
export const spy = (connector: Connector): { connector: Connector; sent: ClientCommand[] } => {
  const sent: ClientCommand[] = []
  return {
    sent,
    connector: async (options) => {
      const { link, welcome } = await connector(options)
      const send = link.send.bind(link)
      link.send = (frame) => {
        sent.push(frame)
        send(frame)
      }
      return { link, welcome }
    },
  }
}

export const ops = (frames: ClientCommand[], op: ClientCommand['op']) => frames.filter((f) => f.op === op)
