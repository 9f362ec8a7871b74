// A dedicated worker with its own connection and the job rig (Chromium fires no online/offline
// in workers: its workers learn it from the windows' relay).
import { createJobRig, type JobRig } from './job-rig.js'
import { Connection, wireWarren } from './warren.js'

wireWarren()
let conn: Connection | undefined
const rig = createJobRig(() => conn!)
const methods: Record<string, (...args: never[]) => unknown> = {
  ...(rig as unknown as Record<string, (...args: never[]) => unknown>),
  async open() {
    conn = await Connection.open({ url: 'shared://', name: 'jobs worker', connectTimeout: 10_000 })
    return { clientId: conn.clientId, brokerId: conn.brokerId }
  },
}

self.onmessage = async (event: MessageEvent<{ id: number; method: keyof JobRig | 'open'; args: unknown[] }>) => {
  const { id, method, args } = event.data
  try {
    self.postMessage({ id, result: await (methods[method] as (...a: unknown[]) => unknown)(...args) })
  } catch (error) {
    self.postMessage({ id, error: String(error) })
  }
}
