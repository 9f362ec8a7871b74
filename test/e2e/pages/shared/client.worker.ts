// A dedicated worker driven by its page: it runs the same rig over BroadcastChannel (it
// cannot construct a SharedWorker) and answers {id, method, args} requests.
import { createRig, type Rig } from './rig.js'

const rig = createRig()

self.onmessage = async (event: MessageEvent<{ id: number; method: keyof Rig; args: unknown[] }>) => {
  const { id, method, args } = event.data
  try {
    const fn = rig[method] as (...a: unknown[]) => unknown
    const result = await fn(...args)
    self.postMessage({ id, result })
  } catch (error) {
    self.postMessage({ id, error: String(error) })
  }
}
