// A dedicated worker running the API rig over BroadcastChannel, driven by its page.
import { createApiRig, type ApiRig } from './api-rig.js'

const rig = createApiRig()

self.onmessage = async (event: MessageEvent<{ id: number; method: keyof ApiRig; args: unknown[] }>) => {
  const { id, method, args } = event.data
  try {
    const result = await (rig[method] as (...a: unknown[]) => unknown)(...args)
    self.postMessage({ id, result })
  } catch (error) {
    self.postMessage({ id, error: String(error) })
  }
}
