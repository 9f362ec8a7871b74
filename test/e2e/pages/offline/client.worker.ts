// A dedicated worker running the rig over shared:// (as a client; it elects only if no broker runs).
import { createRig, type Rig } from './rig.js'

const rig = createRig()

self.onmessage = async (event: MessageEvent<{ id: number; method: keyof Rig; args: unknown[] }>) => {
  const { id, method, args } = event.data
  try {
    self.postMessage({ id, result: await (rig[method] as (...a: unknown[]) => unknown)(...args) })
  } catch (error) {
    self.postMessage({ id, error: String(error) })
  }
}
