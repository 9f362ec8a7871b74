// Connection.open hands the shared:// options (link, sharedWorker, host) to the connector.
import { describe, expect, it } from 'vitest'
import { Connection } from '../../src/index.js'
import type { ConnectOptions, Connector } from '../../src/transport/link.js'
import { createInProcessBroker } from '../../src/hosts/in-process.js'

describe('Connection.open options', () => {
  it('passes link, sharedWorker and host through to the connector', async () => {
    const broker = await createInProcessBroker()
    const seen: ConnectOptions[] = []
    const transport: Connector = (options) => {
      seen.push(options)
      return broker.connector(options)
    }
    const sharedWorker = (name: string) => ({ name }) as unknown as SharedWorker
    const conn = await Connection.open({ url: 'shared://orders', transport, link: 'broadcast', sharedWorker, host: 'shared-worker' })
    expect(seen[0]).toMatchObject({ vhost: 'orders', link: 'broadcast', host: 'shared-worker' })
    expect(seen[0]!.sharedWorker).toBe(sharedWorker)
    await conn.close()
    await Connection.open({ url: 'shared://', transport }).then((c) => c.close())
    expect(seen[1]).not.toHaveProperty('link')
    await broker.stop()
  })
})
