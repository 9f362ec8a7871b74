// A dedicated worker that hosts the broker (elected through the broker lock) for the tabs.
import { electBroker, electedBroker } from '../../../../src/worker.js'

const methods: Record<string, (...args: never[]) => unknown> = {
  async elect(vhost: string) {
    const serving = await electBroker(vhost).elected
    return { brokerId: serving.broker.brokerId, epoch: serving.broker.epoch, startMs: serving.startMs }
  },
  stats(vhost: string) {
    const serving = electedBroker(vhost)?.serving
    return serving ? { sessions: serving.host.sessionCount, commands: serving.host.stats.commands } : undefined
  },
}

self.onmessage = async (event: MessageEvent<{ id: number; method: string; args: unknown[] }>) => {
  const { id, method, args } = event.data
  try {
    self.postMessage({ id, result: await (methods[method] as (...a: unknown[]) => unknown)(...args) })
  } catch (error) {
    self.postMessage({ id, error: String(error) })
  }
}
